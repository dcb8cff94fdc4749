import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clearBytes,
  decryptFrame,
  encryptFrame,
  FRAME_OVERHEAD,
  FRAME_VERSION,
  frameIV,
  frameKey,
  freshMaterial,
  kidDistance,
  nextKid,
  parseTrailer,
  ratchet,
} from '../src/crypto/frame';
import { toBase64url } from '../src/crypto/encoding';

const bytes = (...b: number[]): Uint8Array<ArrayBuffer> => new Uint8Array(b);
const random = (n: number): Uint8Array<ArrayBuffer> => crypto.getRandomValues(new Uint8Array(n));

/** A VP8 keyframe: frame tag with bit 0 clear, start code 9d 01 2a, 640x360, then payload. */
function vp8Key(payload: number): Uint8Array<ArrayBuffer> {
  const f = new Uint8Array(10 + payload);
  f.set([0x50, 0x2d, 0x01, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]);
  f.set(random(payload), 10);
  return f;
}

function vp8Delta(payload: number): Uint8Array<ArrayBuffer> {
  const f = new Uint8Array(3 + payload);
  f.set([0x31, 0x04, 0x00]);
  f.set(random(payload), 3);
  return f;
}

test('clear header: VP8 keyframe 10 bytes, delta frame 3, Opus TOC 1, never more than the frame', () => {
  assert.equal(clearBytes('video', vp8Key(100)), 10);
  assert.equal(clearBytes('video', vp8Delta(100)), 3);
  assert.equal(clearBytes('audio', bytes(0x78, 1, 2, 3)), 1);
  assert.equal(clearBytes('video', bytes(0x50, 1)), 2);
  assert.equal(clearBytes('video', bytes()), 0);
  assert.equal(clearBytes('audio', bytes()), 0);
});

test('a frame round-trips; the header stays in clear, the rest does not; 25 bytes more', async () => {
  const { kid, material } = freshMaterial();
  const k = await frameKey(material, kid);
  for (const [kind, plain, h] of [
    ['video', vp8Key(1200), 10],
    ['video', vp8Delta(700), 3],
    ['audio', bytes(0x78, ...random(80)), 1],
  ] as const) {
    const enc = await encryptFrame(k, 7, kind, plain);
    assert.equal(enc.length, plain.length + FRAME_OVERHEAD);
    assert.deepEqual(enc.subarray(0, h), plain.subarray(0, h), 'clear header');
    assert.notDeepEqual(enc.subarray(h, plain.length), plain.subarray(h), 'payload encrypted');
    assert.equal(enc[enc.length - 1], FRAME_VERSION);
    assert.deepEqual(parseTrailer(enc), { ctr: 7, kid });
    const dec = await decryptFrame(k, kind, enc);
    assert.ok(dec);
    assert.deepEqual(dec, plain);
  }
});

test('the trailer is big-endian counter, key id, version', async () => {
  const k = await frameKey(random(32), 0x01020304);
  const enc = await encryptFrame(k, 0x0a0b0c0d, 'audio', bytes(1, 2, 3));
  assert.deepEqual([...enc.subarray(enc.length - 9)], [0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02, 0x03, 0x04, 1]);
});

test('each counter gives another IV; the IV is the salt XOR the counter', async () => {
  const salt = random(12);
  const a = frameIV(salt, 1);
  const b = frameIV(salt, 2);
  assert.notDeepEqual(a, b);
  assert.deepEqual(a.subarray(0, 8), salt.subarray(0, 8));
  assert.equal(a[11]! ^ salt[11]!, 1);
  assert.equal(frameIV(salt, 0x01000000)[8]! ^ salt[8]!, 1);
  // Same frame, two counters: two different ciphertexts.
  const k = await frameKey(random(32), 1);
  const f = vp8Delta(50);
  assert.notDeepEqual(await encryptFrame(k, 1, 'video', f), await encryptFrame(k, 2, 'video', f));
});

test('a wrong key, a changed header, payload or trailer: no frame', async () => {
  const material = random(32);
  const k = await frameKey(material, 5);
  const other = await frameKey(random(32), 5);
  const plain = vp8Key(300);
  const enc = await encryptFrame(k, 1, 'video', plain);
  assert.equal(await decryptFrame(other, 'video', enc), null, 'wrong key');
  assert.equal(await decryptFrame(await frameKey(material, 6), 'video', enc), null, 'other key id');
  for (const at of [1, 5, 20, enc.length - 20, enc.length - 5, enc.length - 8]) {
    const bad = new Uint8Array(enc);
    bad[at]! ^= 0x01;
    assert.equal(await decryptFrame(k, 'video', bad), null, `byte ${at} changed`);
  }
  // The keyframe bit is in the header: flipping it changes what counts as header.
  const flipped = new Uint8Array(enc);
  flipped[0]! ^= 0x01;
  assert.equal(await decryptFrame(k, 'video', flipped), null);
  assert.equal(await decryptFrame(k, 'video', enc.subarray(0, 20)), null, 'too short');
  assert.equal(parseTrailer(bytes(1, 2, 3)), null);
});

test('the ratchet is deterministic, one-way looking, and moves the key id by one', async () => {
  const m = random(32);
  const r1 = await ratchet(m);
  const r2 = await ratchet(m);
  assert.deepEqual(r1, r2);
  assert.equal(r1.length, 32);
  assert.notDeepEqual(r1, m);
  assert.equal(nextKid(0xffffffff), 0);
  assert.equal(nextKid(41), 42);
  assert.equal(kidDistance(0xffffffff, 1), 2);
  assert.equal(kidDistance(5, 5), 0);
  // A frame sealed with the ratcheted key opens only with it.
  const k1 = await frameKey(r1, 42);
  const enc = await encryptFrame(k1, 0, 'audio', bytes(0x78, 9, 9));
  assert.equal(await decryptFrame(await frameKey(m, 42), 'audio', enc), null);
  assert.ok(await decryptFrame(await frameKey(await ratchet(m), 42), 'audio', enc));
});

test('known answer: a fixed key, counter and frame give fixed bytes (checked against the Python cryptography package)', async () => {
  const material = new Uint8Array(32).map((_, i) => i);
  const k = await frameKey(material, 0x11223344);
  const enc = await encryptFrame(k, 3, 'video', bytes(0x31, 0x04, 0x00, 1, 2, 3, 4, 5));
  assert.equal(toBase64url(k.salt), 'y2YdwOJlZXYAK98h');
  assert.equal(toBase64url(enc), 'MQQAWIkj8He0pd0F029I5yks8NVxcbX3AAAAAxEiM0QB');
  assert.equal(toBase64url(await ratchet(material)), 'VZe1Xq8NGlf9ltCXxCM0A8cis6epXI6o8n51NIurG4s');
});
