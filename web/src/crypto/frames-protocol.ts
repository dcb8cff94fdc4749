// Messages between the page and the frame worker (frames.worker.ts). Types
// only, shared by both sides.

import type { FrameKind } from './frame';

/** What one transform does: encrypt what we send, or decrypt what we receive on one receiver. */
export interface TransformOptions {
  role: 'send' | 'recv';
  kind: FrameKind;
  /** Names the receiver (e.g. `sub:3` or `p2p:camera`), for its counters and mode. */
  id: string;
}

export type ToWorker =
  /** Encrypt from now on with this key. */
  | { type: 'send-key'; kid: number; material: Uint8Array<ArrayBuffer> }
  /** A participant's sending key, to decrypt their frames. */
  | { type: 'recv-key'; participant: string; kid: number; material: Uint8Array<ArrayBuffer> }
  | { type: 'forget'; participant: string }
  /** `plain`: the sender cannot encrypt, frames pass as they are. */
  | { type: 'recv-mode'; id: string; mode: 'decrypt' | 'plain' }
  /** Encoded insertable streams, transferred from the page. */
  | { type: 'streams'; readable: ReadableStream; writable: WritableStream; options: TransformOptions }
  /** Test hook: from now on hold wrong keys for this participant. */
  | { type: 'corrupt'; participant: string }
  | { type: 'stats' };

export interface KindStats {
  frames: number;
  bytesIn: number;
  bytesOut: number;
  /** Time spent encrypting, in ms. */
  ms: number;
}

export interface TransformStats {
  ok: number;
  failed: number;
  /** Date.now() of the last frame that decrypted / failed. */
  lastOk: number;
  lastFail: number;
  /** Whose key opened the last frame. */
  participant: string | null;
}

export interface WorkerStats {
  sendKid: number | null;
  encrypted: Record<FrameKind, KindStats>;
  /** Key ids held per sender, and the one their frames use now. */
  receivers: Record<string, { kids: number[]; inUse: number | null }>;
  transforms: Record<string, TransformStats>;
  decryptFailures: number;
}

export type FromWorker = { type: 'stats'; stats: WorkerStats };
