import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cameraInit, dropUnusableSimulcast, screenInit } from '../src/media/simulcast';

test('the camera has three layers q/h/f, a quarter, half and the full size; a screen one slow sharp encoding', () => {
  assert.deepEqual(
    cameraInit().sendEncodings?.map((e) => [e.rid, e.scaleResolutionDownBy, e.maxBitrate]),
    [
      ['q', 4, 150_000],
      ['h', 2, 500_000],
      ['f', 1, 1_500_000],
    ],
  );
  const screen = screenInit().sendEncodings ?? [];
  assert.equal(screen.length, 1);
  assert.equal(screen[0]!.scaleResolutionDownBy, 1);
  assert.equal(screen[0]!.maxFramerate, 5);
  // Fresh objects each time: the browser may keep what it is given.
  assert.notEqual(cameraInit().sendEncodings, cameraInit().sendEncodings);
});

const head = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n';
const audio = 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=recvonly\r\n';
const video = (rid: boolean) =>
  'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=recvonly\r\n' +
  (rid ? 'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n' : '') +
  'a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n';

test('an answer that takes simulcast without the RID extension reads as one layer; a proper one is left alone', () => {
  const proper = head + audio + video(true);
  assert.equal(dropUnusableSimulcast(proper), proper);
  const broken = head + audio + video(false);
  const fixed = dropUnusableSimulcast(broken);
  assert.ok(!fixed.includes('a=simulcast'));
  assert.ok(!fixed.includes('a=rid:'));
  assert.ok(fixed.includes('a=mid:1\r\na=recvonly\r\n'));
  assert.ok(fixed.startsWith(head + audio), 'the rest stays as it was');
  const plain = head + audio;
  assert.equal(dropUnusableSimulcast(plain), plain);
});
