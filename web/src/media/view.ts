// What we show, for the server (`view` in docs/protocol.md): the remote videos
// on screen now with their size in device pixels, and how many camera videos
// at most to forward (`lastN`). The UI reports each visible tile here as it
// is measured; the reporter folds changes for ~250 ms and sends a `view` only
// when it differs from the last one sent. A video not listed is paused by
// the server, so tiles on other pages, scrolled out of the strip or in a
// hidden tab cost nothing.

import type { ViewMessage, ViewVideo } from '../protocol';

/** The "Maximum videos" setting: `auto` forwards what is visible. */
export type LastN = 'auto' | number;
export const LAST_N_CHOICES: readonly LastN[] = ['auto', 4, 9, 16];

export const VIEW_DELAY_MS = 250;
/** Limits of the protocol. */
export const MAX_VIEW_VIDEOS = 64;
export const MAX_VIEW_SIZE = 8192;
const MAX_LAST_N = 64;

const clampSize = (n: number): number => Math.min(MAX_VIEW_SIZE, Math.max(0, Math.round(Number.isFinite(n) ? n : 0)));

/**
 * The `view` message for these videos: one entry per participant and source
 * (the largest, if one is shown twice), in a stable order, within the
 * protocol's limits. `auto` caps the camera videos at the number visible.
 */
export function viewMessage(videos: readonly ViewVideo[], lastN: LastN): ViewMessage {
  const best = new Map<string, ViewVideo>();
  for (const v of videos) {
    const w = clampSize(v.width);
    const h = clampSize(v.height);
    const k = `${v.participant}\n${v.source}`;
    const had = best.get(k);
    if (!had || w * h > had.width * had.height) best.set(k, { participant: v.participant, source: v.source, width: w, height: h });
  }
  let list = [...best.values()];
  // Over the limit: the largest are the ones people look at.
  if (list.length > MAX_VIEW_VIDEOS) list = list.sort((a, b) => b.width * b.height - a.width * a.height).slice(0, MAX_VIEW_VIDEOS);
  list.sort((a, b) => (a.participant < b.participant ? -1 : a.participant > b.participant ? 1 : a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  const cameras = list.filter((v) => v.source === 'camera').length;
  const n = lastN === 'auto' ? cameras : lastN;
  return { type: 'view', videos: list, lastN: Math.min(MAX_LAST_N, Math.max(0, Math.floor(n))) };
}

export function sameView(a: ViewMessage | null, b: ViewMessage | null): boolean {
  return a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/** Timers, replaceable in tests. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const windowTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class ViewReporter {
  private seen = new Map<string, ViewVideo>();
  private hidden = false;
  private limit: LastN = 'auto';
  private timer: unknown = null;
  private sent: ViewMessage | null = null;
  private listeners = new Set<() => void>();
  private off = false;

  /** `send` returns false when the message could not go out now (not in the meeting yet). */
  constructor(
    private readonly send: (m: ViewMessage) => boolean,
    private readonly timers: Timers = windowTimers,
    private readonly delay = VIEW_DELAY_MS,
  ) {}

  /** One tile's video is on screen at this size (device pixels), or no longer (null). `token` names the tile. */
  set(token: string, video: ViewVideo | null): void {
    const had = this.seen.get(token);
    if (video === null) {
      if (!had) return;
      this.seen.delete(token);
    } else {
      if (had && had.participant === video.participant && had.source === video.source && had.width === video.width && had.height === video.height) return;
      this.seen.set(token, video);
    }
    this.schedule();
  }

  /** The page is hidden (another tab, minimised): nothing is shown, so nothing is wanted. */
  setHidden(hidden: boolean): void {
    if (this.hidden === hidden) return;
    this.hidden = hidden;
    this.schedule();
  }

  get lastN(): LastN {
    return this.limit;
  }

  setLastN(n: LastN): void {
    if (this.limit === n) return;
    this.limit = n;
    for (const l of this.listeners) l();
    this.schedule();
  }

  onChange = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** What we would send now. */
  current(): ViewMessage {
    return viewMessage(this.hidden ? [] : [...this.seen.values()], this.limit);
  }

  /** A new connection: the server knows nothing of our view, so it goes out again. */
  reset(): void {
    this.sent = null;
    this.schedule();
  }

  /** The server does not know `view` (an older one): send no more; it forwards everything anyway. */
  disable(): void {
    this.off = true;
  }

  /** Sends now if something changed (the timer does this by itself). */
  flush(): void {
    if (this.timer !== null) {
      this.timers.clear(this.timer);
      this.timer = null;
    }
    if (this.off) return;
    const m = this.current();
    if (sameView(m, this.sent)) return;
    if (this.send(m)) this.sent = m;
  }

  close(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.listeners.clear();
  }

  // Changes within the delay are folded into one message; a steady stream of
  // changes (a window being resized) still sends every `delay` ms.
  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = this.timers.set(() => {
      this.timer = null;
      this.flush();
    }, this.delay);
  }
}
