// The end-to-end constructions of docs/protocol.md, on WebCrypto only:
// identity keys (ECDH P-256), pairwise keys (ECDH + HKDF-SHA-256), the chat
// key (HKDF of the meeting key), AES-GCM sealing with a fresh 12-byte IV, the
// key wrap of the key exchange and the verification code. Pure functions: no
// DOM, no network, so they run under `node --test` as in the browser.

import { EMOJI } from './emoji';
import { compareBytes, concat, fromBase64url, fromUtf8, toBase64url, utf8 } from './encoding';

/** The meeting key is 16 random bytes (128 bits). */
export const MEETING_KEY_BYTES = 16;
const IV_BYTES = 12;
const EC = { name: 'ECDH', namedCurve: 'P-256' } as const;

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/** This browser's key pair for one meeting session. The private key cannot be exported. */
export interface Identity {
  privateKey: CryptoKey;
  /** The raw uncompressed public point (65 bytes). */
  raw: Uint8Array<ArrayBuffer>;
  /** `raw` as base64url, as sent in `join`. */
  b64: string;
}

export async function newIdentity(): Promise<Identity> {
  const pair = await subtle().generateKey(EC, false, ['deriveBits']);
  const raw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, raw, b64: toBase64url(raw) };
}

export function newMeetingKey(): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(MEETING_KEY_BYTES));
}

/** A meeting key from a link's `#k=`; null unless it is exactly 16 bytes of base64url. */
export function parseMeetingKey(b64: string): Uint8Array<ArrayBuffer> | null {
  const k = fromBase64url(b64);
  return k && k.length === MEETING_KEY_BYTES ? k : null;
}

/** A peer's public key from `publicKey`: a 65-byte uncompressed point, else null. */
export function parsePublicKey(b64: string | undefined): Uint8Array<ArrayBuffer> | null {
  if (!b64) return null;
  const raw = fromBase64url(b64);
  return raw && raw.length === 65 && raw[0] === 4 ? raw : null;
}

function ordered(a: Uint8Array, b: Uint8Array): [Uint8Array, Uint8Array] {
  return compareBytes(a, b) <= 0 ? [a, b] : [b, a];
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

async function hkdfAesKey(secret: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>, info: string): Promise<CryptoKey> {
  const base = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) }, base, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
}

/**
 * The pairwise key of us and a peer: the ECDH shared secret through
 * HKDF-SHA-256, salt SHA-256(both raw public keys, smaller first), info
 * "plausch pairwise v1". Both sides derive the same key. Throws when the
 * peer's key is not a valid P-256 point.
 */
export async function pairwiseKey(me: Identity, theirRaw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const theirs = await subtle().importKey('raw', theirRaw, EC, false, []);
  const shared = new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: theirs }, me.privateKey, 256));
  const [a, b] = ordered(me.raw, theirRaw);
  const salt = await sha256(concat(a, b));
  return hkdfAesKey(shared, salt, 'plausch pairwise v1');
}

/** The group chat key: HKDF-SHA-256 of the meeting key (empty salt), info "plausch chat v1". */
export function chatKey(meetingKey: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return hkdfAesKey(meetingKey, new Uint8Array(0), 'plausch chat v1');
}

/** The additional authenticated data of each construction; it binds sender (and receiver) and meeting. */
export const aad = {
  chat: (room: string, from: string): string => `chat|${room}|${from}`,
  pm: (room: string, from: string, to: string): string => `pm|${room}|${from}|${to}`,
  key: (room: string, from: string, to: string): string => `key|${room}|${from}|${to}`,
};

/** AES-GCM with a fresh random 12-byte IV; returns IV || ciphertext. */
export async function seal(key: CryptoKey, ad: string, plain: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = new Uint8Array(await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: utf8(ad) }, key, plain));
  return concat(iv, ct);
}

/** Opens IV || ciphertext; null when the key, the AAD or the data is wrong. */
export async function open(key: CryptoKey, ad: string, sealed: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer> | null> {
  if (sealed.length < IV_BYTES + 16) return null;
  try {
    const iv = sealed.slice(0, IV_BYTES);
    const pt = await subtle().decrypt({ name: 'AES-GCM', iv, additionalData: utf8(ad) }, key, sealed.slice(IV_BYTES));
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

/** A chat message's plaintext. */
export interface ChatPlain {
  text: string;
  /** Milliseconds since the epoch, set by the sender. */
  ts: number;
}

/** `data` of a `chat` message: base64url(IV || AES-GCM of {"text","ts"}). */
export async function encryptChat(key: CryptoKey, ad: string, msg: ChatPlain): Promise<string> {
  return toBase64url(await seal(key, ad, utf8(JSON.stringify({ text: msg.text, ts: msg.ts }))));
}

/** The message inside `data`, or null when it cannot be decrypted or is not a chat message. */
export async function decryptChat(key: CryptoKey, ad: string, data: string): Promise<ChatPlain | null> {
  const sealed = fromBase64url(data);
  if (!sealed) return null;
  const plain = await open(key, ad, sealed);
  if (!plain) return null;
  try {
    const v: unknown = JSON.parse(fromUtf8(plain));
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (typeof o.text !== 'string') return null;
    return { text: o.text, ts: typeof o.ts === 'number' && Number.isFinite(o.ts) ? o.ts : 0 };
  } catch {
    return null;
  }
}

/** The meeting key sealed for one peer under our pairwise key (the `key` relay). */
export async function wrapMeetingKey(pairwise: CryptoKey, ad: string, meetingKey: Uint8Array<ArrayBuffer>): Promise<{ iv: string; ct: string }> {
  const sealed = await seal(pairwise, ad, meetingKey);
  return { iv: toBase64url(sealed.slice(0, IV_BYTES)), ct: toBase64url(sealed.slice(IV_BYTES)) };
}

export async function unwrapMeetingKey(pairwise: CryptoKey, ad: string, wrapped: { iv: string; ct: string }): Promise<Uint8Array<ArrayBuffer> | null> {
  const iv = fromBase64url(wrapped.iv);
  const ct = fromBase64url(wrapped.ct);
  if (!iv || !ct || iv.length !== IV_BYTES) return null;
  const key = await open(pairwise, ad, concat(iv, ct));
  return key && key.length === MEETING_KEY_BYTES ? key : null;
}

/**
 * The verification code of two public keys: SHA-256("plausch verify v1" ||
 * both raw keys, smaller first); the first 30 bits, 6 at a time, index EMOJI.
 */
export async function verificationCode(a: Uint8Array<ArrayBuffer>, b: Uint8Array<ArrayBuffer>): Promise<string[]> {
  const [x, y] = ordered(a, b);
  const h = await sha256(concat(utf8('plausch verify v1'), x, y));
  // 40 bits of the first 5 bytes; the top 30 are used.
  let bits = 0n;
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(h[i]!);
  const out: string[] = [];
  for (let i = 0; i < 5; i++) out.push(EMOJI[Number((bits >> BigInt(34 - 6 * i)) & 63n)]!);
  return out;
}
