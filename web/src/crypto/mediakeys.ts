// Media keys (docs/protocol.md, "End-to-end encrypted media"): our own
// sending key, given to each participant over our pairwise channel, and the
// keys others give us. When someone joins we ratchet our key forward (the
// newcomer gets only the new one, so it cannot decrypt what came before);
// when someone leaves we switch to a fresh random key (given to those who
// remain, so the leaver cannot decrypt what comes after). A fresh key is used
// once everyone acknowledged it, or after ACK_TIMEOUT_MS. The class knows
// nothing of sockets or the worker: it talks through callbacks.

import { SerialQueue } from '../media/queue';
import { concat, fromBase64url, toBase64url } from './encoding';
import { open, seal } from './e2e';
import { freshMaterial, kidDistance, MATERIAL_BYTES, nextKid, ratchet } from './frame';

export interface MediaPeer {
  id: string;
  publicKey?: string;
  e2ee?: boolean;
}

export interface MediaKeysDeps {
  room(): string;
  selfId(): string | null;
  /** Everyone else present now. */
  peers(): MediaPeer[];
  relay(to: string, data: string): void;
  pairwise(peer: MediaPeer): Promise<CryptoKey | null>;
  /** Encrypt with this key from now on. */
  useSendKey(kid: number, material: Uint8Array<ArrayBuffer>): void;
  /** A participant's key to decrypt their frames. */
  receiveKey(participant: string, kid: number, material: Uint8Array<ArrayBuffer>): void;
  changed(): void;
}

/**
 * How long a fresh key waits for acknowledgements before it is used anyway:
 * 1.5 s, and 100 ms more per receiver, as relays are rate-limited (20/s).
 */
export const ACK_TIMEOUT_MS = 1500;
const ackTimeout = (receivers: number): number => Math.min(10000, ACK_TIMEOUT_MS + 100 * receivers);

export type MediaKeyRelay = { kind: 'media-key'; kid: number; iv: string; ct: string } | { kind: 'media-key-ack'; kid: number };

const isKid = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

export function parseMediaKeyRelay(data: string): MediaKeyRelay | null {
  try {
    const o: unknown = JSON.parse(data);
    if (typeof o !== 'object' || o === null) return null;
    const v = o as Record<string, unknown>;
    if (v.kind === 'media-key' && isKid(v.kid) && typeof v.iv === 'string' && typeof v.ct === 'string') return { kind: 'media-key', kid: v.kid, iv: v.iv, ct: v.ct };
    if (v.kind === 'media-key-ack' && isKid(v.kid)) return { kind: 'media-key-ack', kid: v.kid };
  } catch {
    // not JSON: not ours
  }
  return null;
}

/** AAD of a wrapped media key: binds meeting, sender, receiver and key id. */
export const mediaKeyAad = (room: string, from: string, to: string, kid: number): string => `media-key|${room}|${from}|${to}|${kid}`;

export async function wrapMediaKey(pairwise: CryptoKey, ad: string, material: Uint8Array<ArrayBuffer>): Promise<{ iv: string; ct: string }> {
  const sealed = await seal(pairwise, ad, material);
  return { iv: toBase64url(sealed.slice(0, 12)), ct: toBase64url(sealed.slice(12)) };
}

export async function unwrapMediaKey(pairwise: CryptoKey, ad: string, w: { iv: string; ct: string }): Promise<Uint8Array<ArrayBuffer> | null> {
  const iv = fromBase64url(w.iv);
  const ct = fromBase64url(w.ct);
  if (!iv || !ct || iv.length !== 12) return null;
  const m = await open(pairwise, ad, concat(iv, ct));
  return m && m.length === MATERIAL_BYTES ? m : null;
}

interface Key {
  kid: number;
  material: Uint8Array<ArrayBuffer>;
}

export class MediaKeys {
  private current: Key;
  /** First key id of the current chain (fresh key, then ratchet steps). */
  private chainStart: number;
  private pending: (Key & { start: number; waiting: Set<string>; timer: ReturnType<typeof setTimeout> }) | null = null;
  /** Key ids each peer acknowledged. */
  private acked = new Map<string, Set<number>>();
  /** Peers whose key we hold. */
  private got = new Set<string>();
  private queue = new SerialQueue();
  private closed = false;

  constructor(private readonly deps: MediaKeysDeps) {
    this.current = freshMaterial();
    this.chainStart = this.current.kid;
    deps.useSendKey(this.current.kid, this.current.material);
  }

  /** Our key id now (the test hook shows it). */
  get sendKid(): number {
    return this.current.kid;
  }

  /** Whether we hold this participant's key. */
  hasKeyOf(id: string): boolean {
    return this.got.has(id);
  }

  /** Whether this participant acknowledged our current key (or one it ratchets to). */
  theyHaveOurs(id: string): boolean {
    const kids = this.acked.get(id);
    if (!kids) return false;
    const span = kidDistance(this.chainStart, this.current.kid);
    for (const k of kids) if (kidDistance(this.chainStart, k) <= span) return true;
    return false;
  }

  private async send(peer: MediaPeer, key: Key): Promise<void> {
    const me = this.deps.selfId();
    if (me === null || !peer.e2ee) return;
    const pk = await this.deps.pairwise(peer);
    if (!pk || this.closed) return;
    const w = await wrapMediaKey(pk, mediaKeyAad(this.deps.room(), me, peer.id, key.kid), key.material);
    this.deps.relay(peer.id, JSON.stringify({ kind: 'media-key', kid: key.kid, ...w }));
  }

  /** After our own `joined`: everyone present gets our key. */
  joined(): Promise<void> {
    return this.queue.run(async () => {
      for (const p of this.deps.peers()) await this.send(p, this.current);
    });
  }

  /** Someone joined: ratchet, then give the newcomer the new key (and a fresh one still waiting, ratcheted too). */
  peerJoined(peer: MediaPeer): Promise<void> {
    return this.queue.run(async () => {
      this.current = { kid: nextKid(this.current.kid), material: await ratchet(this.current.material) };
      this.deps.useSendKey(this.current.kid, this.current.material);
      if (this.pending) {
        this.pending.kid = nextKid(this.pending.kid);
        this.pending.material = await ratchet(this.pending.material);
      }
      this.deps.changed();
      await this.send(peer, this.current);
      if (this.pending && peer.e2ee) {
        this.pending.waiting.add(peer.id);
        await this.send(peer, this.pending);
      }
    });
  }

  /** Someone is back after a lost connection: our key again (and a fresh one still waiting), as relays to them were lost meanwhile. */
  peerBack(peer: MediaPeer): Promise<void> {
    return this.queue.run(async () => {
      await this.send(peer, this.current);
      if (this.pending && peer.e2ee) {
        this.pending.waiting.add(peer.id);
        await this.send(peer, this.pending);
      }
    });
  }

  /** Someone left: a fresh key for those who remain, used once they have it. */
  peerLeft(id: string): Promise<void> {
    return this.queue.run(async () => {
      this.acked.delete(id);
      this.got.delete(id);
      if (this.pending) clearTimeout(this.pending.timer);
      const fresh = freshMaterial();
      const peers = this.deps.peers().filter((p) => p.e2ee && p.id !== id);
      const timer = setTimeout(() => void this.queue.run(() => this.switchToPending()), ackTimeout(peers.length));
      this.pending = { ...fresh, start: fresh.kid, waiting: new Set(peers.map((p) => p.id)), timer };
      if (peers.length === 0) {
        this.switchToPending();
        return;
      }
      for (const p of peers) await this.send(p, fresh);
    });
  }

  private switchToPending(): void {
    const p = this.pending;
    if (!p || this.closed) return;
    clearTimeout(p.timer);
    this.pending = null;
    this.current = { kid: p.kid, material: p.material };
    this.chainStart = p.start;
    this.deps.useSendKey(this.current.kid, this.current.material);
    this.deps.changed();
  }

  /** A `relay` from a peer; false when it is not about media keys. */
  handleRelay(from: MediaPeer, data: string): boolean {
    const msg = parseMediaKeyRelay(data);
    if (!msg) return false;
    void this.queue.run(async () => {
      const me = this.deps.selfId();
      if (me === null || this.closed) return;
      if (msg.kind === 'media-key-ack') {
        let s = this.acked.get(from.id);
        if (!s) this.acked.set(from.id, (s = new Set()));
        s.add(msg.kid);
        const p = this.pending;
        if (p && (msg.kid === p.kid || kidDistance(p.start, msg.kid) <= kidDistance(p.start, p.kid))) {
          p.waiting.delete(from.id);
          if (p.waiting.size === 0) this.switchToPending();
        }
        this.deps.changed();
        return;
      }
      const pk = await this.deps.pairwise(from);
      if (!pk) return;
      const material = await unwrapMediaKey(pk, mediaKeyAad(this.deps.room(), from.id, me, msg.kid), msg);
      if (!material) return;
      this.deps.receiveKey(from.id, msg.kid, material);
      this.got.add(from.id);
      this.deps.relay(from.id, JSON.stringify({ kind: 'media-key-ack', kid: msg.kid }));
      this.deps.changed();
    });
    return true;
  }

  /** Waits until everything queued so far is done (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  close(): void {
    this.closed = true;
    if (this.pending) clearTimeout(this.pending.timer);
  }
}
