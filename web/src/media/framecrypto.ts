// The page's side of frame encryption: finds out whether this browser can
// transform encoded frames, starts the frame worker, puts a transform on
// every sender and receiver, and hands the worker its keys. The worker does
// the crypto (crypto/frames.worker.ts).

import type { FrameKind } from '../crypto/frame';
import type { FromWorker, ToWorker, TransformOptions, WorkerStats } from '../crypto/frames-protocol';

/** How this browser transforms frames, or null when it cannot. */
export type FrameSupport = 'script-transform' | 'encoded-streams' | null;

/** Where esbuild puts the worker (build.mjs). */
export const WORKER_URL = '/assets/frames-worker.js';

interface ScriptTransformCtor {
  new (worker: Worker, options: TransformOptions): unknown;
}

interface EncodedStreams {
  readable: ReadableStream;
  writable: WritableStream;
}

export function frameSupport(): FrameSupport {
  if (typeof Worker !== 'function' || typeof RTCRtpSender === 'undefined') return null;
  const g = globalThis as { RTCRtpScriptTransform?: ScriptTransformCtor };
  if (typeof g.RTCRtpScriptTransform === 'function') return 'script-transform';
  const enc = (p: object): boolean => typeof (p as { createEncodedStreams?: unknown }).createEncodedStreams === 'function';
  if (enc(RTCRtpSender.prototype) && typeof RTCRtpReceiver !== 'undefined' && enc(RTCRtpReceiver.prototype)) return 'encoded-streams';
  return null;
}

export const emptyWorkerStats = (): WorkerStats => ({
  sendKid: null,
  encrypted: { audio: { frames: 0, bytesIn: 0, bytesOut: 0, ms: 0 }, video: { frames: 0, bytesIn: 0, bytesOut: 0, ms: 0 } },
  receivers: {},
  transforms: {},
  decryptFailures: 0,
});

export class FrameCrypto {
  private readonly worker: Worker;
  private readonly attached = new WeakSet<RTCRtpSender | RTCRtpReceiver>();
  private waiters: ((s: WorkerStats) => void)[] = [];
  private listeners = new Set<() => void>();
  latest: WorkerStats = emptyWorkerStats();

  constructor(readonly support: Exclude<FrameSupport, null>) {
    this.worker = new Worker(WORKER_URL, { name: 'plausch-frames' });
    this.worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (ev.data.type !== 'stats') return;
      this.latest = ev.data.stats;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f(this.latest);
      for (const l of this.listeners) l();
    };
  }

  onStats = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** What a peer connection needs for this browser's way of transforming. */
  pcConfig(): Partial<RTCConfiguration> {
    return this.support === 'encoded-streams' ? ({ encodedInsertableStreams: true } as Partial<RTCConfiguration>) : {};
  }

  private post(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private attach(target: RTCRtpSender | RTCRtpReceiver, options: TransformOptions): void {
    if (this.attached.has(target)) return;
    this.attached.add(target);
    if (this.support === 'script-transform') {
      const Ctor = (globalThis as unknown as { RTCRtpScriptTransform: ScriptTransformCtor }).RTCRtpScriptTransform;
      (target as unknown as { transform: unknown }).transform = new Ctor(this.worker, options);
    } else {
      const s = (target as unknown as { createEncodedStreams(): EncodedStreams }).createEncodedStreams();
      this.post({ type: 'streams', readable: s.readable, writable: s.writable, options }, [s.readable as unknown as Transferable, s.writable as unknown as Transferable]);
    }
  }

  /** Encrypts everything this sender sends. Call before it sends anything. */
  encryptSender(sender: RTCRtpSender, kind: FrameKind): void {
    this.attach(sender, { role: 'send', kind, id: 'send' });
  }

  /** Decrypts what this receiver gets; `id` names it in the counters. */
  decryptReceiver(receiver: RTCRtpReceiver, kind: FrameKind, id: string): void {
    this.attach(receiver, { role: 'recv', kind, id });
  }

  setSendKey(kid: number, material: Uint8Array<ArrayBuffer>): void {
    this.post({ type: 'send-key', kid, material });
  }

  addReceiveKey(participant: string, kid: number, material: Uint8Array<ArrayBuffer>): void {
    this.post({ type: 'recv-key', participant, kid, material });
  }

  forget(participant: string): void {
    this.post({ type: 'forget', participant });
  }

  /** Whether a receiver's frames are encrypted (`decrypt`) or come from a sender that cannot encrypt (`plain`). */
  setMode(id: string, mode: 'decrypt' | 'plain'): void {
    this.post({ type: 'recv-mode', id, mode });
  }

  /** Test hook: hold wrong keys for a participant from now on. */
  corrupt(participant: string): void {
    this.post({ type: 'corrupt', participant });
  }

  /** Fresh counters from the worker. */
  stats(): Promise<WorkerStats> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.post({ type: 'stats' });
    });
  }

  close(): void {
    this.worker.terminate();
    this.listeners.clear();
  }
}

/** Only VP8 for video: the frame encryption keeps VP8's header in clear (docs/protocol.md). */
export function preferVP8(tr: RTCRtpTransceiver): void {
  const caps = typeof RTCRtpReceiver.getCapabilities === 'function' ? RTCRtpReceiver.getCapabilities('video') : null;
  if (!caps || typeof tr.setCodecPreferences !== 'function') return;
  const codecs = caps.codecs.filter((c) => /^video\/(vp8|rtx)$/i.test(c.mimeType));
  try {
    if (codecs.some((c) => /vp8/i.test(c.mimeType))) tr.setCodecPreferences(codecs);
  } catch {
    // keep the browser's defaults
  }
}
