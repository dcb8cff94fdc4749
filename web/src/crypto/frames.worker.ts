// The frame worker: encrypts every encoded frame we send and decrypts every
// frame we receive (crypto/frame.ts has the format), off the main thread.
// Frames arrive through RTCRtpScriptTransform (`rtctransform` events) or, in
// browsers that only have Chromium's encoded insertable streams, as streams
// the page transfers here. The page gives us keys and asks for counters; a
// frame that does not decrypt is dropped and counted, never passed on.

import {
  decryptFrame,
  encryptFrame,
  FRAME_OVERHEAD,
  frameKey,
  kidDistance,
  MAX_COUNTER,
  MAX_RATCHET_STEPS,
  parseTrailer,
  ratchet,
  type FrameKey,
  type FrameKind,
} from './frame';
import type { FromWorker, KindStats, TransformOptions, ToWorker, TransformStats, WorkerStats } from './frames-protocol';

/** How long a receiver keeps a sender's previous key after the sender moved on. */
const GRACE_MS = 2000;
/** At most this many keys per sender (the oldest go first). */
const MAX_KEYS = 8;
/** A key id nothing could decrypt is not searched for again for this long. */
const MISS_BACKOFF_MS = 1000;

interface Entry {
  fk: FrameKey;
  material: Uint8Array<ArrayBuffer>;
  seq: number;
  expires: number;
}

interface Sender {
  entries: Entry[];
  inUse: number | null;
}

let send: { fk: FrameKey; ctr: number } | null = null;
let seq = 0;
const senders = new Map<string, Sender>();
const corrupt = new Set<string>();
const modes = new Map<string, 'decrypt' | 'plain'>();
const transforms = new Map<string, TransformStats>();
const misses = new Map<number, number>();
const encrypted: Record<FrameKind, KindStats> = {
  audio: { frames: 0, bytesIn: 0, bytesOut: 0, ms: 0 },
  video: { frames: 0, bytesIn: 0, bytesOut: 0, ms: 0 },
};
let decryptFailures = 0;
let dirty = true;

const post = (m: FromWorker): void => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);

function stats(): WorkerStats {
  const receivers: WorkerStats['receivers'] = {};
  for (const [id, s] of senders) receivers[id] = { kids: s.entries.map((e) => e.fk.kid), inUse: s.inUse };
  const ts: WorkerStats['transforms'] = {};
  for (const [id, t] of transforms) ts[id] = { ...t };
  return {
    sendKid: send ? send.fk.kid : null,
    encrypted: { audio: { ...encrypted.audio }, video: { ...encrypted.video } },
    receivers,
    transforms: ts,
    decryptFailures,
  };
}

function prune(s: Sender, now: number): void {
  s.entries = s.entries.filter((e) => e.expires > now);
  if (s.entries.length > MAX_KEYS) s.entries = s.entries.sort((a, b) => a.seq - b.seq).slice(-MAX_KEYS);
}

async function addKey(participant: string, kid: number, material: Uint8Array<ArrayBuffer>): Promise<Entry> {
  let s = senders.get(participant);
  if (!s) {
    s = { entries: [], inUse: null };
    senders.set(participant, s);
  }
  const m = corrupt.has(participant) ? crypto.getRandomValues(new Uint8Array(material.length)) : material;
  const entry: Entry = { fk: await frameKey(m, kid), material: m, seq: ++seq, expires: Infinity };
  s.entries = s.entries.filter((e) => e.fk.kid !== entry.fk.kid);
  s.entries.push(entry);
  prune(s, Date.now());
  misses.clear();
  dirty = true;
  return entry;
}

/** A frame decrypted with `e`: it is the sender's key now; older ones expire after the grace period. */
function used(s: Sender, e: Entry): void {
  if (s.inUse === e.fk.kid) return;
  const until = Date.now() + GRACE_MS;
  for (const o of s.entries) if (o.seq < e.seq && o.expires === Infinity) o.expires = until;
  s.inUse = e.fk.kid;
  dirty = true;
}

/** Tries the keys with the frame's key id, then ratchets known keys forward to it. */
async function open(kind: FrameKind, data: Uint8Array<ArrayBuffer>, hint: string | null): Promise<{ plain: Uint8Array<ArrayBuffer>; participant: string } | null> {
  const tr = parseTrailer(data);
  if (!tr) return null;
  const now = Date.now();
  const order = [...senders.keys()].sort((a, b) => Number(b === hint) - Number(a === hint));
  for (const id of order) {
    const s = senders.get(id)!;
    for (const e of s.entries) {
      if (e.fk.kid !== tr.kid || e.expires <= now) continue;
      const plain = await decryptFrame(e.fk, kind, data);
      if (plain) {
        used(s, e);
        return { plain, participant: id };
      }
    }
  }
  const missed = misses.get(tr.kid);
  if (missed !== undefined && now - missed < MISS_BACKOFF_MS) return null;
  for (const id of order) {
    const s = senders.get(id)!;
    for (const e of [...s.entries].sort((a, b) => b.seq - a.seq)) {
      const steps = kidDistance(e.fk.kid, tr.kid);
      if (steps === 0 || steps > MAX_RATCHET_STEPS) continue;
      let m = e.material;
      for (let i = 0; i < steps; i++) m = await ratchet(m);
      const fk = await frameKey(m, tr.kid);
      const plain = await decryptFrame(fk, kind, data);
      if (plain) {
        const entry: Entry = { fk, material: m, seq: ++seq, expires: Infinity };
        s.entries = s.entries.filter((x) => x.fk.kid !== tr.kid);
        s.entries.push(entry);
        used(s, entry);
        prune(s, now);
        return { plain, participant: id };
      }
    }
  }
  misses.set(tr.kid, now);
  return null;
}

interface EncodedFrame {
  data: ArrayBuffer;
  type?: string;
}

function transformStats(id: string): TransformStats {
  let t = transforms.get(id);
  if (!t) {
    t = { ok: 0, failed: 0, lastOk: 0, lastFail: 0, participant: null };
    transforms.set(id, t);
  }
  return t;
}

function sender(kind: FrameKind) {
  return async (frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>): Promise<void> => {
    const data = new Uint8Array(frame.data);
    if (data.length === 0) {
      out.enqueue(frame);
      return;
    }
    const s = send;
    // No key, no frame: nothing ever leaves in clear.
    if (!s || s.ctr > MAX_COUNTER) return;
    const ctr = s.ctr++;
    const t0 = performance.now();
    const enc = await encryptFrame(s.fk, ctr, kind, data);
    const st = encrypted[kind];
    st.ms += performance.now() - t0;
    st.frames++;
    st.bytesIn += data.length;
    st.bytesOut += enc.length;
    frame.data = enc.buffer;
    out.enqueue(frame);
  };
}

function receiver(kind: FrameKind, id: string) {
  return async (frame: EncodedFrame, out: TransformStreamDefaultController<EncodedFrame>): Promise<void> => {
    const data = new Uint8Array(frame.data);
    if (data.length === 0 || modes.get(id) === 'plain') {
      out.enqueue(frame);
      return;
    }
    const t = transformStats(id);
    const r = data.length >= FRAME_OVERHEAD ? await open(kind, data, t.participant) : null;
    if (!r) {
      // Dropped: the decoder never sees garbage.
      t.failed++;
      t.lastFail = Date.now();
      decryptFailures++;
      dirty = true;
      return;
    }
    if (t.participant !== r.participant) dirty = true;
    t.ok++;
    t.lastOk = Date.now();
    t.participant = r.participant;
    frame.data = r.plain.buffer;
    out.enqueue(frame);
  };
}

function pipe(readable: ReadableStream<EncodedFrame>, writable: WritableStream<EncodedFrame>, o: TransformOptions): void {
  const transform = o.role === 'send' ? sender(o.kind) : receiver(o.kind, o.id);
  if (o.role === 'recv') transformStats(o.id);
  readable
    .pipeThrough(new TransformStream<EncodedFrame, EncodedFrame>({ transform }))
    .pipeTo(writable)
    .catch(() => undefined); // the connection closed
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'send-key':
      if (send?.fk.kid === m.kid >>> 0) return;
      send = { fk: await frameKey(m.material, m.kid), ctr: 0 };
      dirty = true;
      return;
    case 'recv-key':
      await addKey(m.participant, m.kid, m.material);
      return;
    case 'forget':
      senders.delete(m.participant);
      corrupt.delete(m.participant);
      dirty = true;
      return;
    case 'recv-mode':
      modes.set(m.id, m.mode);
      return;
    case 'streams':
      pipe(m.readable as ReadableStream<EncodedFrame>, m.writable as WritableStream<EncodedFrame>, m.options);
      return;
    case 'corrupt': {
      corrupt.add(m.participant);
      const s = senders.get(m.participant);
      if (s) for (const e of [...s.entries]) await addKey(m.participant, e.fk.kid, e.material);
      return;
    }
    case 'stats':
      post({ type: 'stats', stats: stats() });
      dirty = false;
      return;
  }
}

// Keys and settings in the order they were sent.
let chain: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<ToWorker>) => {
  chain = chain.then(() => handle(ev.data)).catch((err: unknown) => console.error('plausch frame worker:', err));
};

(self as unknown as { onrtctransform: ((ev: { transformer: { readable: ReadableStream; writable: WritableStream; options: TransformOptions } }) => void) | null }).onrtctransform =
  (ev) => pipe(ev.transformer.readable, ev.transformer.writable, ev.transformer.options);

// Counters go to the page twice a second when something changed.
setInterval(() => {
  const now = Date.now();
  for (const s of senders.values()) {
    const n = s.entries.length;
    prune(s, now);
    if (s.entries.length !== n) dirty = true;
  }
  const active = [...transforms.values()].some((t) => now - t.lastFail < 1000 || now - t.lastOk < 1000);
  if (dirty || active) {
    dirty = false;
    post({ type: 'stats', stats: stats() });
  }
}, 500);
