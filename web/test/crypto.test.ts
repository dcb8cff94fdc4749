import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aad,
  chatKey,
  decryptChat,
  encryptChat,
  MEETING_KEY_BYTES,
  newIdentity,
  newMeetingKey,
  open,
  pairwiseKey,
  parseMeetingKey,
  parsePublicKey,
  seal,
  unwrapMeetingKey,
  verificationCode,
  wrapMeetingKey,
} from '../src/crypto/e2e';
import { EMOJI } from '../src/crypto/emoji';
import { fromBase64url, toBase64url, utf8 } from '../src/crypto/encoding';
import { Keyring, parseRelay, type Peer } from '../src/crypto/keyring';

const room = 'amber-falcon';

test('base64url round trips without padding and rejects bad input', () => {
  for (let n = 0; n < 40; n++) {
    const b = crypto.getRandomValues(new Uint8Array(n));
    const s = toBase64url(b);
    assert.ok(!/[+/=]/.test(s), s);
    assert.deepEqual(fromBase64url(s), b);
  }
  assert.equal(toBase64url(utf8('\xff\xfe')), 'w7_Dvg');
  assert.equal(fromBase64url('a'), null);
  assert.equal(fromBase64url('ab$d'), null);
  assert.equal(fromBase64url('ab+/'), null);
  // A last character with stray low bits is a second spelling: refused.
  assert.equal(fromBase64url('AB'), null);
  assert.deepEqual(fromBase64url('AA'), new Uint8Array([0]));
});

test('meeting keys are 16 random bytes; a link key must be exactly that', () => {
  const a = newMeetingKey();
  const b = newMeetingKey();
  assert.equal(a.length, MEETING_KEY_BYTES);
  assert.notEqual(toBase64url(a), toBase64url(b));
  assert.deepEqual(parseMeetingKey(toBase64url(a)), a);
  assert.equal(parseMeetingKey(toBase64url(a.slice(0, 15))), null);
  assert.equal(parseMeetingKey('not a key!'), null);
});

test('identity: raw P-256 public key of 65 bytes, private key not extractable', async () => {
  const id = await newIdentity();
  assert.equal(id.raw.length, 65);
  assert.equal(id.raw[0], 4);
  assert.deepEqual(parsePublicKey(id.b64), id.raw);
  assert.equal(parsePublicKey(id.b64.slice(1)), null);
  assert.equal(parsePublicKey(undefined), null);
  assert.equal(id.privateKey.extractable, false);
  let exported = true;
  try {
    await crypto.subtle.exportKey('pkcs8', id.privateKey);
  } catch {
    exported = false;
  }
  assert.equal(exported, false, 'the private key cannot be exported');
});

test('both sides derive the same pairwise key; a third party does not', async () => {
  const [a, b, eve] = await Promise.all([newIdentity(), newIdentity(), newIdentity()]);
  const ab = await pairwiseKey(a, b.raw);
  const ba = await pairwiseKey(b, a.raw);
  const eveA = await pairwiseKey(eve, a.raw);
  const ad = aad.pm(room, 'pA', 'pB');
  const data = await encryptChat(ab, ad, { text: 'hello Bea', ts: 1700000000000 });
  assert.deepEqual(await decryptChat(ba, ad, data), { text: 'hello Bea', ts: 1700000000000 });
  assert.equal(await decryptChat(eveA, ad, data), null, 'another pair cannot read it');
  assert.equal(await decryptChat(ba, aad.pm(room, 'pE', 'pB'), data), null, 'a changed sender fails');
  assert.equal(await decryptChat(ba, aad.pm(room, 'pA', 'pE'), data), null, 'a changed recipient fails');
});

test('a bad peer public key is refused', async () => {
  const a = await newIdentity();
  const bogus = new Uint8Array(65);
  bogus[0] = 4;
  bogus[1] = 1;
  let failed = false;
  try {
    await pairwiseKey(a, bogus);
  } catch {
    failed = true;
  }
  assert.ok(failed, 'a point not on the curve throws');
});

test('group chat: round trip with the chat key; wrong key, changed from or room fail', async () => {
  const k = newMeetingKey();
  const key = await chatKey(k);
  const same = await chatKey(new Uint8Array(k));
  const other = await chatKey(newMeetingKey());
  const ad = aad.chat(room, 'pA');
  const data = await encryptChat(key, ad, { text: 'Grüße 👋 <b>', ts: 5 });
  assert.match(data, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(await decryptChat(same, ad, data), { text: 'Grüße 👋 <b>', ts: 5 });
  assert.equal(await decryptChat(other, ad, data), null, 'wrong meeting key');
  assert.equal(await decryptChat(same, aad.chat(room, 'pB'), data), null, 'changed from');
  assert.equal(await decryptChat(same, aad.chat('other-room', 'pA'), data), null, 'other meeting');
  assert.equal(await decryptChat(same, ad, data.slice(0, -2) + (data.endsWith('AA') ? 'BA' : 'AA')), null, 'tampered');
  assert.equal(await decryptChat(same, ad, 'short'), null);
  assert.equal(await decryptChat(same, ad, '!!!'), null);
});

test('every message gets a fresh 12-byte IV', async () => {
  const key = await chatKey(newMeetingKey());
  const ad = aad.chat(room, 'pA');
  const ivs = new Set<string>();
  const datas = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const data = await encryptChat(key, ad, { text: 'same text', ts: 1 });
    const raw = fromBase64url(data)!;
    ivs.add(toBase64url(raw.slice(0, 12)));
    datas.add(data);
  }
  assert.equal(ivs.size, 20);
  assert.equal(datas.size, 20);
  const sealed = await seal(key, 'x', utf8('abc'));
  assert.equal(sealed.length, 12 + 3 + 16, 'IV || ciphertext || tag');
  assert.deepEqual(await open(key, 'x', sealed), utf8('abc'));
});

test('key wrap: only the right pair, direction and meeting unwrap the meeting key', async () => {
  const [a, b] = await Promise.all([newIdentity(), newIdentity()]);
  const k = newMeetingKey();
  const ab = await pairwiseKey(a, b.raw);
  const ba = await pairwiseKey(b, a.raw);
  const wrapped = await wrapMeetingKey(ab, aad.key(room, 'pA', 'pB'), k);
  assert.deepEqual(await unwrapMeetingKey(ba, aad.key(room, 'pA', 'pB'), wrapped), k);
  assert.equal(await unwrapMeetingKey(ba, aad.key(room, 'pB', 'pA'), wrapped), null);
  assert.equal(await unwrapMeetingKey(ba, aad.key('elsewhere', 'pA', 'pB'), wrapped), null);
  assert.equal(await unwrapMeetingKey(ba, aad.key(room, 'pA', 'pB'), { iv: wrapped.iv, ct: wrapped.ct.slice(2) }), null);
  assert.ok(!wrapped.ct.includes(toBase64url(k)), 'the key is not in the clear');
});

test('verification code: 5 of the 64 emoji, the same on both sides, different when a key is swapped', async () => {
  assert.equal(EMOJI.length, 64);
  assert.equal(new Set(EMOJI).size, 64);
  const [a, b, eve] = await Promise.all([newIdentity(), newIdentity(), newIdentity()]);
  const ab = await verificationCode(a.raw, b.raw);
  const ba = await verificationCode(b.raw, a.raw);
  assert.equal(ab.length, 5);
  for (const e of ab) assert.ok(EMOJI.includes(e), e);
  assert.deepEqual(ab, ba);
  // A server that gave A Eve's key instead of B's: A and B see different codes.
  const aSees = await verificationCode(a.raw, eve.raw);
  const bSees = await verificationCode(b.raw, eve.raw);
  assert.notDeepEqual(aSees, ab);
  assert.notDeepEqual(bSees, ab);
});

test('verification code follows the specified construction', async () => {
  // Two fixed "keys": the code must be SHA-256("plausch verify v1" || smaller || larger),
  // first 30 bits in 6-bit groups.
  const x = new Uint8Array(65).fill(1);
  const y = new Uint8Array(65).fill(2);
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([...utf8('plausch verify v1'), ...x, ...y])));
  const bits = h[0]! * 2 ** 32 + h[1]! * 2 ** 24 + h[2]! * 2 ** 16 + h[3]! * 2 ** 8 + h[4]!;
  const want = [34, 28, 22, 16, 10].map((s) => EMOJI[Math.floor(bits / 2 ** s) % 64]);
  assert.deepEqual(await verificationCode(y, x), want);
});

test('relay payloads are parsed strictly', () => {
  assert.deepEqual(parseRelay('{"kind":"key-request"}'), { kind: 'key-request' });
  assert.deepEqual(parseRelay('{"kind":"key","iv":"a","ct":"b"}'), { kind: 'key', iv: 'a', ct: 'b' });
  assert.equal(parseRelay('{"kind":"key","iv":1}'), null);
  assert.equal(parseRelay('nonsense'), null);
  assert.equal(parseRelay('null'), null);
});

/** A few keyrings wired through a fake relay that, like the server, adds `from`. */
async function meeting(people: { id: string; role: string; key?: Uint8Array<ArrayBuffer> }[]) {
  const rings = new Map<string, Keyring>();
  const peers = new Map<string, Peer>();
  const log: { from: string; to: string; data: string }[] = [];
  const obtained: Record<string, string> = {};
  const present = new Set<string>();
  for (const p of people) {
    const ring: Keyring = new Keyring(
      {
        room: () => room,
        self: () => ({ id: p.id, role: p.role }),
        peers: () => [...present].filter((id) => id !== p.id).map((id) => peers.get(id)!),
        relay: (to, data) => {
          log.push({ from: p.id, to, data });
          const target = rings.get(to);
          if (target && present.has(to)) void target.handleRelay(peers.get(p.id)!, data);
        },
        obtained: (_k, how) => {
          obtained[p.id] = how;
          peers.get(p.id)!.hasKey = true;
          for (const id of present) rings.get(id)!.update();
        },
      },
      p.key ?? null,
    );
    const identity = await ring.ready;
    rings.set(p.id, ring);
    peers.set(p.id, { id: p.id, role: p.role, publicKey: identity.b64, hasKey: ring.hasKey });
  }
  const join = (...ids: string[]): void => {
    for (const id of ids) present.add(id);
    for (const other of present) rings.get(other)!.update();
  };
  const settle = () => new Promise((r) => setTimeout(r, 50));
  return { rings, log, obtained, join, settle };
}

test('key exchange: a newcomer without the key gets it from a holder, and only in wrapped form', async () => {
  const k = newMeetingKey();
  const m = await meeting([
    { id: 'pA', role: 'moderator', key: k },
    { id: 'pB', role: 'participant' },
  ]);
  m.join('pA');
  m.join('pB');
  await m.settle();
  const b = m.rings.get('pB')!;
  assert.equal(b.hasKey, true);
  assert.equal(b.keyText, toBase64url(k));
  assert.equal(m.obtained.pB, 'exchange');
  assert.equal(m.obtained.pA, undefined, 'the holder kept its key');
  for (const r of m.log) assert.ok(!r.data.includes(toBase64url(k)), 'the key never travels in the clear');
  // And the chat keys now agree.
  const ad = aad.chat(room, 'pA');
  const data = await encryptChat((await m.rings.get('pA')!.chatKey())!, ad, { text: 'hi', ts: 1 });
  assert.deepEqual(await decryptChat((await b.chatKey())!, ad, data), { text: 'hi', ts: 1 });
  for (const r of m.rings.values()) r.close();
});

test('key exchange: the first one alone makes the key; with nobody holding one, exactly one moderator does', async () => {
  const alone = await meeting([{ id: 'pA', role: 'moderator' }]);
  alone.join('pA');
  assert.equal(alone.obtained.pA, 'generated');
  alone.rings.get('pA')!.close();

  // Two moderators and a participant arrive together without a key.
  const m = await meeting([
    { id: 'pZ', role: 'moderator' },
    { id: 'pM', role: 'moderator' },
    { id: 'pC', role: 'participant' },
  ]);
  m.join('pZ', 'pM', 'pC');
  await m.settle();
  const made = Object.entries(m.obtained).filter(([, how]) => how === 'generated').map(([id]) => id);
  assert.deepEqual(made, ['pM']);
  const keys = new Set([...m.rings.values()].map((r) => r.keyText));
  assert.equal(keys.size, 1, 'everyone ends with the same key');
  for (const r of m.rings.values()) r.close();
});

test('key exchange: a key from someone we did not ask is ignored', async () => {
  const m = await meeting([
    { id: 'pA', role: 'moderator', key: newMeetingKey() },
    { id: 'pB', role: 'participant' },
  ]);
  const b = m.rings.get('pB')!;
  // pB has not asked pA: an unsolicited key is dropped.
  await m.rings.get('pA')!.handleRelay({ id: 'pB', publicKey: b.identity!.b64 }, '{"kind":"key-request"}');
  await b.handleRelay({ id: 'pA', publicKey: m.rings.get('pA')!.identity!.b64 }, '{"kind":"key","iv":"AAAAAAAAAAAAAAAA","ct":"AAAA"}');
  assert.equal(b.hasKey, false);
  for (const r of m.rings.values()) r.close();
});

test('key exchange: a moderator holding the key is asked first', async () => {
  const k = newMeetingKey();
  const m = await meeting([
    { id: 'pP', role: 'participant', key: newMeetingKey() },
    { id: 'pM', role: 'moderator', key: k },
    { id: 'pN', role: 'participant' },
  ]);
  m.join('pP', 'pM', 'pN');
  await m.settle();
  assert.deepEqual(m.log.filter((r) => r.from === 'pN').map((r) => r.to), ['pM']);
  assert.equal(m.rings.get('pN')!.keyText, toBase64url(k));
  for (const r of m.rings.values()) r.close();
});
