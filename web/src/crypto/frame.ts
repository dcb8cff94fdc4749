// The end-to-end encrypted media frame of docs/protocol.md ("End-to-end
// encrypted media"): AES-GCM-256 over each encoded frame, leaving in clear
// only the leading codec bytes the server and the packetizer need, with a
// 9-byte trailer (frame counter, key id, version). Pure functions on
// WebCrypto: the frame worker uses them, and so do the unit tests.

import { concat, utf8 } from './encoding';

/** Trailer: 4-byte counter, 4-byte key id, 1 version byte. */
export const FRAME_VERSION = 1;
export const TAG_BYTES = 16;
export const TRAILER_BYTES = 9;
/** Bytes an encrypted frame has more than the plain one. */
export const FRAME_OVERHEAD = TAG_BYTES + TRAILER_BYTES;
/** Key material: 32 random bytes (or a ratchet step of them). */
export const MATERIAL_BYTES = 32;
/** How many ratchet steps ahead a receiver looks for an unknown key id. */
export const MAX_RATCHET_STEPS = 16;
/** The largest frame counter; a sender must change keys before it. */
export const MAX_COUNTER = 0xffffffff;

export type FrameKind = 'audio' | 'video';

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;

/**
 * How many leading bytes stay in clear: Opus keeps its TOC byte; VP8 its
 * frame tag (3 bytes), and on keyframes (bit 0 of the first byte is 0) also
 * the start code and size (10 bytes in all). Never more than the frame has.
 */
export function clearBytes(kind: FrameKind, data: Uint8Array): number {
  if (data.length === 0) return 0;
  if (kind === 'audio') return 1;
  const keyframe = (data[0]! & 1) === 0;
  return Math.min(keyframe ? 10 : 3, data.length);
}

/** A frame key ready to use: the AES-GCM key and the 12-byte IV salt, both from the material. */
export interface FrameKey {
  kid: number;
  key: CryptoKey;
  salt: Uint8Array<ArrayBuffer>;
}

async function hkdf(material: Uint8Array<ArrayBuffer>, info: string, bits: number): Promise<Uint8Array<ArrayBuffer>> {
  const base = await subtle().importKey('raw', material, 'HKDF', false, ['deriveBits']);
  const out = await subtle().deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(info) }, base, bits);
  return new Uint8Array(out);
}

/** AES key = HKDF(material, "plausch frame key v1"), salt = HKDF(material, "plausch frame salt v1")[0:12]. */
export async function frameKey(material: Uint8Array<ArrayBuffer>, kid: number): Promise<FrameKey> {
  const raw = await hkdf(material, 'plausch frame key v1', 256);
  const key = await subtle().importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const salt = await hkdf(material, 'plausch frame salt v1', 96);
  return { kid: kid >>> 0, key, salt };
}

/** The next key of a sender's chain: HKDF(material, "plausch frame ratchet v1"); its key id is kid + 1. */
export function ratchet(material: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return hkdf(material, 'plausch frame ratchet v1', MATERIAL_BYTES * 8);
}

export const nextKid = (kid: number): number => (kid + 1) >>> 0;

/** How many ratchet steps lead from key id `from` to `to` (mod 2^32). */
export const kidDistance = (from: number, to: number): number => (to - from) >>> 0;

/** IV = salt XOR the counter, big-endian in the last 4 bytes. */
export function frameIV(salt: Uint8Array, ctr: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(salt);
  iv[8]! ^= (ctr >>> 24) & 0xff;
  iv[9]! ^= (ctr >>> 16) & 0xff;
  iv[10]! ^= (ctr >>> 8) & 0xff;
  iv[11]! ^= ctr & 0xff;
  return iv;
}

function trailer(ctr: number, kid: number): Uint8Array<ArrayBuffer> {
  const t = new Uint8Array(TRAILER_BYTES);
  const v = new DataView(t.buffer);
  v.setUint32(0, ctr >>> 0);
  v.setUint32(4, kid >>> 0);
  t[8] = FRAME_VERSION;
  return t;
}

/** The trailer of an encrypted frame, or null when it cannot be one. */
export function parseTrailer(data: Uint8Array): { ctr: number; kid: number } | null {
  if (data.length < FRAME_OVERHEAD || data[data.length - 1] !== FRAME_VERSION) return null;
  const v = new DataView(data.buffer, data.byteOffset + data.length - TRAILER_BYTES, TRAILER_BYTES);
  return { ctr: v.getUint32(0), kid: v.getUint32(4) };
}

/**
 * Encrypts one encoded frame: clear header || AES-GCM(rest) with its 16-byte
 * tag || counter || key id || version. The AAD is the clear header followed
 * by the trailer, so neither can be changed unnoticed.
 */
export async function encryptFrame(k: FrameKey, ctr: number, kind: FrameKind, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const h = clearBytes(kind, data);
  const head = data.subarray(0, h);
  const t = trailer(ctr, k.kid);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv: frameIV(k.salt, ctr), additionalData: concat(head, t), tagLength: TAG_BYTES * 8 },
    k.key,
    data.subarray(h),
  );
  return concat(head, new Uint8Array(ct), t);
}

/** Decrypts one frame with the key its trailer names; null when it does not open. */
export async function decryptFrame(k: FrameKey, kind: FrameKind, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer> | null> {
  const tr = parseTrailer(data);
  if (!tr || tr.kid !== k.kid) return null;
  const body = data.subarray(0, data.length - TRAILER_BYTES);
  const h = Math.min(clearBytes(kind, body), body.length - TAG_BYTES);
  const head = body.subarray(0, h);
  try {
    const pt = await subtle().decrypt(
      { name: 'AES-GCM', iv: frameIV(k.salt, tr.ctr), additionalData: concat(head, data.subarray(body.length)), tagLength: TAG_BYTES * 8 },
      k.key,
      body.subarray(h),
    );
    return concat(head, new Uint8Array(pt));
  } catch {
    return null;
  }
}

/** 32 fresh random bytes and a random key id. */
export function freshMaterial(): { kid: number; material: Uint8Array<ArrayBuffer> } {
  const kid = globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!;
  return { kid, material: globalThis.crypto.getRandomValues(new Uint8Array(MATERIAL_BYTES)) };
}
