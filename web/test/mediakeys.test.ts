import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newIdentity, pairwiseKey, type Identity } from '../src/crypto/e2e';
import { toBase64url } from '../src/crypto/encoding';
import { ratchet } from '../src/crypto/frame';
import { MediaKeys, mediaKeyAad, parseMediaKeyRelay, unwrapMediaKey, wrapMediaKey, type MediaPeer } from '../src/crypto/mediakeys';

interface Member {
  id: string;
  identity: Identity;
  keys: MediaKeys;
  /** What this member uses to encrypt, in order. */
  sent: { kid: number; material: Uint8Array }[];
  /** Keys received, per sender. */
  got: Map<string, { kid: number; material: Uint8Array }[]>;
}

/** A meeting of members whose relays go straight to each other; `wire` sees every relay. */
function meeting() {
  const members = new Map<string, Member>();
  const wire: { from: string; to: string; data: string }[] = [];
  const present = new Set<string>();
  const peer = (id: string): MediaPeer => ({ id, publicKey: toBase64url(members.get(id)!.identity.raw), e2ee: true });
  async function add(id: string): Promise<Member> {
    const identity = await newIdentity();
    const m: Member = { id, identity, sent: [], got: new Map(), keys: null as unknown as MediaKeys };
    members.set(id, m);
    m.keys = new MediaKeys({
      room: () => 'room',
      selfId: () => id,
      peers: () => [...present].filter((x) => x !== id).map(peer),
      relay: (to, data) => {
        wire.push({ from: id, to, data });
        const target = members.get(to);
        if (target && present.has(to)) target.keys.handleRelay(peer(id), data);
      },
      pairwise: async (p) => pairwiseKey(identity, members.get(p.id)!.identity.raw),
      useSendKey: (kid, material) => m.sent.push({ kid, material }),
      receiveKey: (from, kid, material) => {
        const l = m.got.get(from) ?? [];
        l.push({ kid, material });
        m.got.set(from, l);
      },
      changed: () => undefined,
    });
    return m;
  }
  async function settle(): Promise<void> {
    for (let i = 0; i < 6; i++) {
      for (const m of members.values()) await m.keys.idle();
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  /** Someone joins: the server tells the others, the newcomer sends its key to all. */
  async function join(id: string): Promise<Member> {
    const m = await add(id);
    const before = [...present];
    present.add(id);
    for (const o of before) void members.get(o)!.keys.peerJoined(peer(id));
    await m.keys.joined();
    await settle();
    return m;
  }
  async function leave(id: string): Promise<void> {
    present.delete(id);
    for (const o of present) void members.get(o)!.keys.peerLeft(id);
    await settle();
  }
  return { members, wire, join, leave, settle };
}

const last = <T>(l: T[]): T => l[l.length - 1]!;

test('everyone gets everyone\'s key, wrapped: no relay carries key material in clear', async () => {
  const m = meeting();
  const a = await m.join('a');
  const b = await m.join('b');
  const c = await m.join('c');
  for (const x of [a, b, c]) {
    for (const y of [a, b, c]) {
      if (x === y) continue;
      const got = x.got.get(y.id);
      assert.ok(got, `${x.id} has a key of ${y.id}`);
      assert.ok(y.keys.theyHaveOurs(x.id), `${x.id} acknowledged ${y.id}'s key`);
      assert.ok(x.keys.hasKeyOf(y.id));
    }
  }
  const materials = [a, b, c].flatMap((x) => x.sent.map((s) => s.material));
  for (const w of m.wire) {
    for (const mat of materials) {
      assert.ok(!w.data.includes(toBase64url(mat)), 'key material in a relay');
      assert.ok(!w.data.includes(btoa(String.fromCharCode(...mat))), 'key material in a relay (base64)');
      assert.ok(!w.data.includes([...mat].map((b) => b.toString(16).padStart(2, '0')).join('')), 'key material in a relay (hex)');
    }
  }
  for (const x of [a, b, c]) x.keys.close();
});

test('a newcomer gets only the ratcheted key: it cannot have what was used before', async () => {
  const m = meeting();
  const a = await m.join('a');
  const b = await m.join('b');
  const before = last(a.sent);
  const c = await m.join('c');
  const now = last(a.sent);
  assert.equal(now.kid, (before.kid + 1) >>> 0, 'the key id moved by one');
  assert.deepEqual(now.material, await ratchet(before.material as Uint8Array<ArrayBuffer>), 'the key is the ratchet step');
  const cGot = c.got.get('a')!;
  assert.ok(cGot.every((k) => k.kid !== before.kid && toBase64url(k.material) !== toBase64url(before.material)), 'the newcomer never got the old key');
  assert.ok(cGot.some((k) => k.kid === now.kid));
  // b was not sent the new key: it ratchets itself (the worker does, on the first frame).
  assert.ok(b.got.get('a')!.every((k) => k.kid !== now.kid));
  for (const x of [a, b, c]) x.keys.close();
});

test('after someone leaves, everyone switches to a fresh key the leaver never got', async () => {
  const m = meeting();
  const a = await m.join('a');
  const b = await m.join('b');
  const c = await m.join('c');
  const aBefore = last(a.sent);
  const bBefore = last(b.sent);
  const cGotBefore = new Set([...c.got.values()].flat().map((k) => toBase64url(k.material)));
  await m.leave('c');
  const aNow = last(a.sent);
  const bNow = last(b.sent);
  assert.notEqual(aNow.kid, aBefore.kid);
  assert.notEqual(bNow.kid, bBefore.kid);
  assert.notDeepEqual(aNow.material, await ratchet(aBefore.material as Uint8Array<ArrayBuffer>), 'fresh, not a ratchet step');
  assert.ok(b.got.get('a')!.some((k) => k.kid === aNow.kid), 'b got a\'s fresh key');
  assert.ok(a.got.get('b')!.some((k) => k.kid === bNow.kid), 'a got b\'s fresh key');
  assert.ok(!cGotBefore.has(toBase64url(aNow.material)) && !cGotBefore.has(toBase64url(bNow.material)), 'the leaver does not have the fresh keys');
  assert.ok(!m.wire.some((w) => w.to === 'c' && w.data.includes(String(aNow.kid))), 'nothing about the fresh key went to the leaver');
  // The fresh key is used only after the other acknowledged it.
  assert.ok(a.keys.theyHaveOurs('b'));
  for (const x of [a, b]) x.keys.close();
});

test('a wrapped key opens only for its receiver, with the right sender, meeting and key id', async () => {
  const [x, y, z] = await Promise.all([newIdentity(), newIdentity(), newIdentity()]);
  const kxy = await pairwiseKey(x, y.raw);
  const kyx = await pairwiseKey(y, x.raw);
  const kzx = await pairwiseKey(z, x.raw);
  const material = crypto.getRandomValues(new Uint8Array(32));
  const w = await wrapMediaKey(kxy, mediaKeyAad('room', 'x', 'y', 7), material);
  assert.deepEqual(await unwrapMediaKey(kyx, mediaKeyAad('room', 'x', 'y', 7), w), material);
  assert.equal(await unwrapMediaKey(kyx, mediaKeyAad('room', 'x', 'y', 8), w), null, 'other key id');
  assert.equal(await unwrapMediaKey(kyx, mediaKeyAad('room', 'z', 'y', 7), w), null, 'other sender');
  assert.equal(await unwrapMediaKey(kyx, mediaKeyAad('other', 'x', 'y', 7), w), null, 'other meeting');
  assert.equal(await unwrapMediaKey(kzx, mediaKeyAad('room', 'x', 'y', 7), w), null, 'other receiver');
  assert.deepEqual(parseMediaKeyRelay(JSON.stringify({ kind: 'media-key', kid: 7, ...w })), { kind: 'media-key', kid: 7, ...w });
  assert.deepEqual(parseMediaKeyRelay('{"kind":"media-key-ack","kid":7}'), { kind: 'media-key-ack', kid: 7 });
  for (const bad of ['{"kind":"media-key","kid":-1,"iv":"a","ct":"b"}', '{"kind":"media-key-ack","kid":1.5}', '{"kind":"key"}', 'nope']) {
    assert.equal(parseMediaKeyRelay(bad), null, bad);
  }
});
