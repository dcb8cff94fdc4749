import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newIdentity, pairwiseKey } from '../src/crypto/e2e';
import { P2PAssembler, p2pAad, parseEnvelope, PART_CHARS, sealP2P } from '../src/media/p2psignal';
import { mediaProtection } from '../src/protection';
import { audioTracks, initialState, reduce, tiles } from '../src/room';

async function pair(): Promise<[CryptoKey, CryptoKey]> {
  const [a, b] = await Promise.all([newIdentity(), newIdentity()]);
  return [await pairwiseKey(a, b.raw), await pairwiseKey(b, a.raw)];
}

test('direct-call signalling is sealed, cut to fit a relay, and put back together', async () => {
  const [ka, kb] = await pair();
  const sdp = 'v=0\r\n' + 'a=candidate:1 1 udp 2122260223 127.0.0.1 54321 typ host\r\n'.repeat(200);
  const parts = await sealP2P(ka, p2pAad('room', 'a', 'b', 9, 1), 9, 1, { t: 'offer', sdp });
  assert.ok(parts.length > 1);
  for (const p of parts) {
    assert.ok(p.length <= 4096, 'fits the relay limit');
    assert.ok(!p.includes('candidate'), 'sealed');
    assert.ok(JSON.parse(p).d.length <= PART_CHARS);
  }
  const asm = new P2PAssembler();
  const envs = parts.map((p) => parseEnvelope(p)!);
  for (const e of envs.slice(0, -1)) assert.equal(await asm.add(e, kb, p2pAad('room', 'a', 'b', 9, 1)), null);
  assert.deepEqual(await asm.add(envs[envs.length - 1]!, kb, p2pAad('room', 'a', 'b', 9, 1)), { t: 'offer', sdp });
  // A replay of the same message number is ignored.
  for (const e of envs) assert.equal(await asm.add(e, kb, p2pAad('room', 'a', 'b', 9, 1)), null);
  // Wrong AAD (the server changed the sender or the number): nothing.
  const one = (await sealP2P(ka, p2pAad('room', 'a', 'b', 9, 2), 9, 2, { t: 'direct-ok' })).map((p) => parseEnvelope(p)!);
  assert.equal(await new P2PAssembler().add(one[0]!, kb, p2pAad('room', 'x', 'b', 9, 2)), null);
  assert.deepEqual(await new P2PAssembler().add(one[0]!, kb, p2pAad('room', 'a', 'b', 9, 2)), { t: 'direct-ok' });
  assert.equal(parseEnvelope('{"kind":"key"}'), null);
  assert.equal(parseEnvelope('{"kind":"p2p","s":1,"n":1,"i":2,"of":2,"d":""}'), null);
});

test('the indicator says end-to-end only when everyone is, with keys exchanged', () => {
  const p = (name: string, e2ee = true, exchanged = true, failing = false) => ({ name, e2ee, exchanged, failing });
  assert.equal(mediaProtection(true, []).level, 'on');
  assert.equal(mediaProtection(true, [p('Ada'), p('Bob')]).level, 'on');
  assert.deepEqual(mediaProtection(true, [p('Ada'), p('Bob', true, false)]), { level: 'exchanging', plain: [], waiting: ['Bob'], failing: [] });
  assert.deepEqual(mediaProtection(true, [p('Ada', false, false), p('Bob', true, false)]), { level: 'partial', plain: ['Ada'], waiting: ['Bob'], failing: [] });
  assert.equal(mediaProtection(false, [p('Ada')]).level, 'off');
  assert.deepEqual(mediaProtection(true, [p('Ada', true, true, true)]).failing, ['Ada']);
});

test('the direct peer is shown and heard from the direct connection, once', () => {
  let s = initialState<string>('r', { name: 'Me', audio: true, video: true });
  s = reduce(s, { type: 'joined', id: 'me', room: 'r', participants: [{ id: 'p', name: 'P', audio: true, video: true, screen: false }] });
  s = reduce(s, {
    type: 'remote',
    remote: [
      { mid: '0', participant: 'p', source: 'microphone', kind: 'audio' },
      { mid: '1', participant: 'p', source: 'camera', kind: 'video' },
    ],
    tracks: { '0': 'sfu-mic', '1': 'sfu-cam' },
  });
  assert.equal(tiles(s).cameras[1]!.track, 'sfu-cam');
  assert.deepEqual(audioTracks(s).map((a) => a.track), ['sfu-mic']);
  s = reduce(s, { type: 'media.mode', mode: 'p2p', peer: 'p' });
  assert.equal(s.modePeer, 'p');
  const tracks = { microphone: 'p2p-mic', camera: 'p2p-cam', screen: 'p2p-screen' };
  s = reduce(s, { type: 'direct', direct: { peer: 'p', tracks, speaking: true, screen: false } });
  const t = tiles(s);
  assert.equal(t.cameras[1]!.track, 'p2p-cam');
  assert.equal(t.cameras[1]!.speaking, true);
  assert.equal(t.screens.length, 0, 'no screen tile while they do not share');
  assert.deepEqual(audioTracks(s).map((a) => a.track), ['p2p-mic']);
  // The server does not know of a screen shared directly: the peer says so on the direct connection.
  s = reduce(s, { type: 'direct', direct: { peer: 'p', tracks, speaking: false, screen: true } });
  assert.equal(tiles(s).screens[0]!.track, 'p2p-screen');
  s = reduce(s, { type: 'participant.left', id: 'p' });
  assert.equal(s.direct, null);
});
