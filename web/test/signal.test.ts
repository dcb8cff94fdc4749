import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endingFromClose } from '../src/call';
import { parseServerMessage, RateLimiter, socketURL } from '../src/signal';

test('parses the examples of docs/protocol.md', () => {
  const joined = parseServerMessage(
    '{"type":"joined","id":"p3F9kq2","room":"amber-falcon-quiet-river-stone-4821","iceServers":[],"participants":[{"id":"p8Hc1xZ","name":"Grace","audio":true,"video":true,"screen":false}]}',
  );
  assert.deepEqual(joined, {
    type: 'joined',
    id: 'p3F9kq2',
    room: 'amber-falcon-quiet-river-stone-4821',
    iceServers: [],
    participants: [{ id: 'p8Hc1xZ', name: 'Grace', audio: true, video: true, screen: false }],
  });
  assert.deepEqual(
    parseServerMessage('{"type":"subscribe.offer","sdp":"v=0","tracks":[{"mid":"0","participant":"p8Hc1xZ","source":"microphone","kind":"audio"}]}'),
    { type: 'subscribe.offer', sdp: 'v=0', tracks: [{ mid: '0', participant: 'p8Hc1xZ', source: 'microphone', kind: 'audio' }] },
  );
  assert.deepEqual(parseServerMessage('{"type":"participant.left","id":"x"}'), { type: 'participant.left', id: 'x' });
  assert.deepEqual(parseServerMessage('{"type":"speaking","ids":["a"]}'), { type: 'speaking', ids: ['a'] });
  assert.deepEqual(parseServerMessage('{"type":"error","code":"room_full","message":"full"}'), {
    type: 'error',
    code: 'room_full',
    message: 'full',
  });
  assert.deepEqual(parseServerMessage('{"type":"publish.answer","sdp":"v=0","extra":1}'), { type: 'publish.answer', sdp: 'v=0' });
});

test('rejects what it does not understand', () => {
  for (const bad of ['', 'nope', '[]', '{}', '{"type":"what"}', '{"type":"joined"}', '{"type":"publish.answer"}', '{"type":"speaking","ids":[1]}']) {
    assert.equal(parseServerMessage(bad), null, bad);
  }
});

test('rate limiter allows the burst, then spaces messages out', () => {
  const rl = new RateLimiter(20, 60, 0);
  for (let i = 0; i < 60; i++) assert.equal(rl.take(0), 0);
  assert.equal(rl.take(0), 50);
  assert.equal(rl.take(0), 100);
  const later = new RateLimiter(20, 60, 0);
  for (let i = 0; i < 60; i++) later.take(0);
  assert.equal(later.take(1000), 0, 'refilled after a second');
});

test('socket URL follows the page scheme', () => {
  assert.equal(socketURL({ protocol: 'https:', host: 'meet.example:8443' }), 'wss://meet.example:8443/ws');
  assert.equal(socketURL({ protocol: 'http:', host: '127.0.0.1:4000' }), 'ws://127.0.0.1:4000/ws');
});

test('close reasons become endings', () => {
  assert.deepEqual(endingFromClose({ code: 1000, reason: '', byUs: true, neverOpened: false }, null), { kind: 'left' });
  assert.equal(endingFromClose({ code: 1006, reason: '', byUs: false, neverOpened: true }, null).kind, 'unreachable');
  const full = endingFromClose({ code: 4000, reason: 'room_full: meeting is full', byUs: false, neverOpened: false }, null);
  assert.equal(full.kind, 'error');
  assert.equal(full.message, 'error.room_full');
  assert.equal(full.reason, 'room_full: meeting is full');
  assert.equal(endingFromClose({ code: 4000, reason: 'odd', byUs: false, neverOpened: false }, null).message, 'error.other');
  assert.equal(endingFromClose({ code: 1006, reason: '', byUs: false, neverOpened: false }, null).kind, 'lost');
});
