// The signalling of a direct (peer-to-peer) call, carried in `relay`
// messages (docs/protocol.md, "End-to-end encrypted media"): each message is
// JSON, sealed with the pairwise key (so the server can neither read nor
// change offers, answers and candidates, nor swap the DTLS fingerprints) and
// cut into parts that fit the 4 KiB relay limit.

import { fromBase64url, fromUtf8, toBase64url, utf8 } from '../crypto/encoding';
import { open, seal } from '../crypto/e2e';

/** What the two browsers say to each other. `s` in the envelope names the sender's session. */
export type P2PMessage =
  | { t: 'hello' }
  | { t: 'offer'; sdp: string }
  | { t: 'answer'; sdp: string }
  | { t: 'candidate'; c: RTCIceCandidateInit }
  /** I share my screen on the direct connection (or stopped). */
  | { t: 'screen'; on: boolean }
  /** Media from you arrives on the direct connection. */
  | { t: 'direct-ok' }
  /** Media from you arrives through the server. */
  | { t: 'sfu-ok' }
  | { t: 'bye' };

/** Characters of sealed data per relay part (the whole relay stays well under 4 KiB). */
export const PART_CHARS = 3000;

export interface Envelope {
  kind: 'p2p';
  /** The sender's session (a random number per direct connection attempt). */
  s: number;
  /** Message number within the session, from 1. */
  n: number;
  /** Part index and count. */
  i: number;
  of: number;
  /** base64url(IV || AES-GCM ciphertext), this part of it. */
  d: string;
}

export const p2pAad = (room: string, from: string, to: string, s: number, n: number): string => `p2p|${room}|${from}|${to}|${s}|${n}`;

/** Seals one message and cuts it into relay payloads. */
export async function sealP2P(key: CryptoKey, ad: string, s: number, n: number, msg: P2PMessage): Promise<string[]> {
  const data = toBase64url(await seal(key, ad, utf8(JSON.stringify(msg))));
  const of = Math.max(1, Math.ceil(data.length / PART_CHARS));
  const out: string[] = [];
  for (let i = 0; i < of; i++) {
    const env: Envelope = { kind: 'p2p', s, n, i, of, d: data.slice(i * PART_CHARS, (i + 1) * PART_CHARS) };
    out.push(JSON.stringify(env));
  }
  return out;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function parseEnvelope(data: string): Envelope | null {
  try {
    const v = JSON.parse(data) as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || v.kind !== 'p2p') return null;
    if (!isNum(v.s) || !isNum(v.n) || !isNum(v.i) || !isNum(v.of) || typeof v.d !== 'string') return null;
    if (v.of < 1 || v.of > 64 || v.i >= v.of) return null;
    return { kind: 'p2p', s: v.s, n: v.n, i: v.i, of: v.of, d: v.d };
  } catch {
    return null;
  }
}

function parseMessage(text: string): P2PMessage | null {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    switch (v.t) {
      case 'offer':
      case 'answer':
        return typeof v.sdp === 'string' ? { t: v.t, sdp: v.sdp } : null;
      case 'candidate':
        return typeof v.c === 'object' && v.c !== null ? { t: 'candidate', c: v.c as RTCIceCandidateInit } : null;
      case 'screen':
        return typeof v.on === 'boolean' ? { t: 'screen', on: v.on } : null;
      case 'hello':
      case 'direct-ok':
      case 'sfu-ok':
      case 'bye':
        return { t: v.t };
      default:
        return null;
    }
  } catch {
    return null;
  }
}

/** Puts parts back together, in order, and opens each whole message once. */
export class P2PAssembler {
  private parts = new Map<string, string[]>();
  /** Highest message number opened per session: older ones are replays. */
  private last = new Map<number, number>();

  /** The message once all its parts are in, else null (also for replays and what does not open). */
  async add(env: Envelope, key: CryptoKey, ad: string): Promise<P2PMessage | null> {
    if ((this.last.get(env.s) ?? 0) >= env.n) return null;
    const id = `${env.s}.${env.n}`;
    let got = this.parts.get(id);
    if (!got || got.length !== env.of) {
      got = new Array<string>(env.of).fill('');
      this.parts.set(id, got);
    }
    got[env.i] = env.d;
    if (got.some((p) => p === '')) return null;
    this.parts.delete(id);
    const sealed = fromBase64url(got.join(''));
    if (!sealed) return null;
    const plain = await open(key, ad, sealed);
    if (!plain) return null;
    this.last.set(env.s, Math.max(this.last.get(env.s) ?? 0, env.n));
    // Parts of older messages will never complete.
    for (const k of this.parts.keys()) {
      const [s, n] = k.split('.').map(Number);
      if (s === env.s && (n ?? 0) < env.n) this.parts.delete(k);
    }
    try {
      return parseMessage(fromUtf8(plain));
    } catch {
      return null;
    }
  }
}
