// The meeting key and the key exchange of docs/protocol.md, between this
// browser and the others. It holds our identity key pair, the meeting key
// (only in memory), the pairwise key and verification code of each peer, and
// decides when to ask a key holder for the key, or, when nobody in the
// meeting has one, whether we make it. It sends through callbacks and knows
// nothing of sockets or the UI.

import { toBase64url } from './encoding';
import {
  aad,
  chatKey,
  newIdentity,
  newMeetingKey,
  pairwiseKey,
  parsePublicKey,
  unwrapMeetingKey,
  verificationCode,
  wrapMeetingKey,
  type Identity,
} from './e2e';

/** What the keyring needs to know of a participant. */
export interface Peer {
  id: string;
  publicKey?: string;
  hasKey?: boolean;
  role?: string;
}

export interface KeyringDeps {
  /** The meeting name as the server spells it (part of every AAD). */
  room(): string;
  /** Our participant id (null before `joined`) and role. */
  self(): { id: string | null; role?: string };
  /** Everyone else in the meeting right now. */
  peers(): Peer[];
  /** Sends a `relay`. */
  relay(to: string, data: string): void;
  /** We now hold the meeting key: obtained (send `key.status`) or made. */
  obtained(key: Uint8Array<ArrayBuffer>, how: 'exchange' | 'generated'): void;
}

/** How long we wait for a holder's answer before asking another. */
export const REQUEST_TIMEOUT_MS = 4000;

type Relay = { kind: 'key-request' } | { kind: 'key'; iv: string; ct: string };

export function parseRelay(data: string): Relay | null {
  try {
    const v: unknown = JSON.parse(data);
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (o.kind === 'key-request') return { kind: 'key-request' };
    if (o.kind === 'key' && typeof o.iv === 'string' && typeof o.ct === 'string') return { kind: 'key', iv: o.iv, ct: o.ct };
  } catch {
    // Not ours; ignored.
  }
  return null;
}

export class Keyring {
  readonly ready: Promise<Identity>;
  identity: Identity | null = null;
  private meetingKey: Uint8Array<ArrayBuffer> | null = null;
  private chat: Promise<CryptoKey> | null = null;
  private pairs = new Map<string, { pub: string; key: Promise<CryptoKey | null> }>();
  private codes = new Map<string, { pub: string; code: string[] | null }>();
  /** Holders we asked, and when; a `key` is accepted only from one of them. */
  private asked = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private listeners = new Set<() => void>();
  private verified = new Set<string>();
  private closed = false;

  constructor(
    private readonly deps: KeyringDeps,
    meetingKey: Uint8Array<ArrayBuffer> | null,
    identity?: Promise<Identity>,
  ) {
    this.ready = identity ?? newIdentity();
    void this.ready.then((id) => {
      this.identity = id;
      this.changed();
    });
    if (meetingKey) this.setKey(meetingKey);
  }

  onChange = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private changed(): void {
    for (const l of this.listeners) l();
  }

  get hasKey(): boolean {
    return this.meetingKey !== null;
  }

  /** The meeting key as it goes in a link's `#k=`; never sent to the server. */
  get keyText(): string | null {
    return this.meetingKey ? toBase64url(this.meetingKey) : null;
  }

  /** The group chat key, or null while we have no meeting key. */
  chatKey(): Promise<CryptoKey> | null {
    return this.chat;
  }

  private setKey(k: Uint8Array<ArrayBuffer>): void {
    this.meetingKey = k;
    this.chat = chatKey(k);
    this.asked.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.changed();
  }

  /** Our pairwise key with a peer, or null when their public key is missing or invalid. */
  pairwise(peer: Peer): Promise<CryptoKey | null> {
    const pub = peer.publicKey ?? '';
    const cached = this.pairs.get(peer.id);
    if (cached && cached.pub === pub) return cached.key;
    const raw = parsePublicKey(pub);
    const key = raw ? this.ready.then((me) => pairwiseKey(me, raw)).catch(() => null) : Promise.resolve(null);
    this.pairs.set(peer.id, { pub, key });
    return key;
  }

  /**
   * The verification code of us and a peer, once computed (null before; the
   * keyring reports the change). Also null when the peer has no valid key.
   */
  code(peer: Peer): string[] | null {
    const pub = peer.publicKey ?? '';
    const cached = this.codes.get(peer.id);
    if (cached && cached.pub === pub) return cached.code;
    const entry: { pub: string; code: string[] | null } = { pub, code: null };
    this.codes.set(peer.id, entry);
    const raw = parsePublicKey(pub);
    if (raw) {
      void this.ready
        .then((me) => verificationCode(me.raw, raw))
        .then((code) => {
          entry.code = code;
          this.changed();
        });
    }
    return null;
  }

  /** Marks a peer as verified (the code was compared), for this key of theirs only; in memory only. */
  setVerified(peer: Peer, on: boolean): void {
    const id = `${peer.id}|${peer.publicKey ?? ''}`;
    if (on && peer.publicKey) this.verified.add(id);
    else this.verified.delete(id);
    this.changed();
  }

  isVerified(peer: Peer): boolean {
    return !!peer.publicKey && this.verified.has(`${peer.id}|${peer.publicKey}`);
  }

  /** Forgets what belonged to someone who left. */
  forget(id: string): void {
    this.pairs.delete(id);
    this.codes.delete(id);
    this.asked.delete(id);
  }

  /**
   * Looks at who is here and acts: without the key, asks a holder for it,
   * or makes the key when nobody has one and we are the one to make it.
   * Call after `joined` and after every change of the participants.
   */
  update(): void {
    if (this.closed || this.meetingKey) return;
    const me = this.deps.self();
    if (me.id === null) return;
    const peers = this.deps.peers();
    // Moderators first (a stray link with another key is less likely there),
    // then in the order the server lists people (longest present first).
    const holders = peers
      .filter((p) => p.hasKey && parsePublicKey(p.publicKey) !== null)
      .sort((a, b) => Number(b.role === 'moderator') - Number(a.role === 'moderator'));
    if (holders.length === 0) {
      if (this.shouldGenerate(me, peers)) {
        const k = newMeetingKey();
        this.setKey(k);
        this.deps.obtained(k, 'generated');
      }
      return;
    }
    if (this.timer) return; // a request is out; its timeout decides what next
    // Ask whom we have not asked yet (oldest first), else start over.
    let next = holders.find((h) => !this.asked.has(h.id));
    if (!next) {
      next = holders.reduce((a, b) => ((this.asked.get(b.id) ?? 0) < (this.asked.get(a.id) ?? 0) ? b : a));
    }
    this.asked.set(next.id, Date.now());
    this.deps.relay(next.id, JSON.stringify({ kind: 'key-request' }));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.update();
    }, REQUEST_TIMEOUT_MS);
  }

  /**
   * Nobody present holds the key. Exactly one person makes it: we when alone;
   * otherwise the moderator with the smallest id (everyone computes the same).
   */
  private shouldGenerate(me: { id: string | null; role?: string }, peers: Peer[]): boolean {
    if (peers.length === 0) return true;
    const everyone: Peer[] = [{ id: me.id ?? '', role: me.role }, ...peers];
    const mods = everyone.filter((p) => p.role === 'moderator');
    const pool = mods.length ? mods : everyone;
    const first = pool.map((p) => p.id).sort()[0];
    return first === me.id;
  }

  /** A `relay` from a peer: a key request to answer, or the key we asked for. */
  async handleRelay(from: Peer, data: string): Promise<void> {
    const msg = parseRelay(data);
    const me = this.deps.self().id;
    if (!msg || me === null || this.closed) return;
    const room = this.deps.room();
    if (msg.kind === 'key-request') {
      const k = this.meetingKey;
      if (!k) return; // they will ask someone else
      const pk = await this.pairwise(from);
      if (!pk) return;
      const wrapped = await wrapMeetingKey(pk, aad.key(room, me, from.id), k);
      this.deps.relay(from.id, JSON.stringify({ kind: 'key', ...wrapped }));
      return;
    }
    if (this.meetingKey || !this.asked.has(from.id)) return;
    const pk = await this.pairwise(from);
    if (!pk) return;
    const k = await unwrapMeetingKey(pk, aad.key(room, from.id, me), msg);
    if (!k || this.meetingKey) return;
    this.setKey(k);
    this.deps.obtained(k, 'exchange');
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
