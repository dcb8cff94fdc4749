// Staying in the meeting through a lost connection (docs/protocol.md:
// `resume`, `restart`, `server.draining`, close codes). Two watchers, both
// free of sockets and peer connections so they can be tested with a fake
// clock:
//
// - Reconnector: the signalling socket is gone. It tries again and again with
//   exponential backoff and jitter: `resume` first; once the server says the
//   session is over (`resume_failed`), a fresh `join`. After GIVE_UP_MS of
//   failures it stops and waits for a person to press "Rejoin".
// - MediaWatch: a server media connection failed or stayed disconnected for a
//   few seconds while the socket seems fine: it says when to restart ICE
//   (again with backoff, as long as the media stays broken).
//
// The connection (connection.ts) does the actual work of each attempt and restart.

import { CLOSE_ERROR, CLOSE_NORMAL, CLOSE_REMOVED, CLOSE_REPLACED } from './protocol';
import type { CloseInfo } from './signal';

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Spread of each wait, as a fraction: 0.3 is +-30 %. */
  jitter: number;
}

/** Waits between reconnect attempts: 0.5 s doubling to 10 s, +-30 %. */
export const RECONNECT_BACKOFF: Backoff = { initialMs: 500, maxMs: 10000, jitter: 0.3 };
/** Waits between ICE restarts while media stays broken: a restart needs a moment to work. */
export const RESTART_BACKOFF: Backoff = { initialMs: 2000, maxMs: 10000, jitter: 0.3 };
/** How long reconnecting goes on before it gives up and offers "Rejoin". */
export const GIVE_UP_MS = 120_000;
/** A media connection disconnected this long counts as broken ('failed' at once). */
export const MEDIA_GRACE_MS = 3000;
/** A disconnect this long that heals by itself still gets an ICE restart: the network was away, and the socket may be gone with it. */
export const HICCUP_MS = 1000;

/**
 * The wait before retry number `attempt` (0 is the first retry): initialMs
 * doubling up to maxMs, then spread by the jitter so that a whole meeting
 * that lost its server does not come back in lockstep. `random` is in [0, 1).
 */
export function backoffDelay(attempt: number, b: Backoff = RECONNECT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(0, Math.min(attempt, 30));
  const base = Math.min(b.maxMs, b.initialMs * 2 ** n);
  return Math.round(base * (1 + b.jitter * (2 * random() - 1)));
}

/** Errors after which the session is over for good (the server closes with 4001). */
const FINAL_ERRORS = new Set(['denied', 'removed', 'ended', 'e2ee_required', 'lobby_timeout']);

/**
 * Whether a closed signalling connection should be continued on a new one.
 * Not after leaving (1000, or our own close), being removed or the meeting
 * ending (4001), a protocol error (4000: the same again would fail the same
 * way), or when the session already went on elsewhere (4003). Everything else
 * (a broken connection 1006, a server restart 4002, going away 1001) is worth
 * another try.
 */
export function shouldReconnect(info: CloseInfo, lastError: string | null): boolean {
  if (info.byUs) return false;
  if (lastError !== null && FINAL_ERRORS.has(lastError)) return false;
  return info.code !== CLOSE_NORMAL && info.code !== CLOSE_ERROR && info.code !== CLOSE_REMOVED && info.code !== CLOSE_REPLACED;
}

/** up: connected; reconnecting: trying again; failed: gave up, waits for "Rejoin". */
export type LinkState = 'up' | 'reconnecting' | 'failed';

/**
 * One attempt's outcome. ok: back in the meeting (or in its lobby or at its
 * password prompt); fresh: the session could not be continued, join afresh;
 * retry: try again after a while; final: the call is over (removed, ended).
 */
export type Outcome = 'ok' | 'fresh' | 'retry' | 'final';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  random(): number;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

export interface ReconnectDeps {
  /** One attempt on a new connection: `resume`, or with `fresh` a new `join`. */
  attempt(fresh: boolean): Promise<Outcome>;
  /** state or draining changed. */
  changed(): void;
}

export class Reconnector {
  state: LinkState = 'up';
  /** Attempts since the connection was lost (for tests and the log). */
  attempts = 0;
  private since = 0;
  private fresh = false;
  private running = false;
  private stopped = false;
  private kicked = false;
  private timer: unknown = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly deps: ReconnectDeps,
    private readonly clock: Clock = realClock,
    private readonly giveUpMs = GIVE_UP_MS,
  ) {}

  /** The connection is lost: start reconnecting (nothing while already at it, or after giving up). */
  lost(): void {
    if (this.stopped || this.state !== 'up') return;
    this.begin();
  }

  /**
   * Try at once: the network is back, or a person pressed "Rejoin" after
   * the give-up (which starts a new round).
   */
  now(): void {
    if (this.stopped) return;
    if (this.state === 'failed') this.begin();
    else if (this.state === 'reconnecting') {
      this.kicked = true;
      this.interrupt();
    }
  }

  /** The call is over: no more attempts. */
  stop(): void {
    this.stopped = true;
    this.interrupt();
  }

  private begin(): void {
    this.state = 'reconnecting';
    this.since = this.clock.now();
    this.attempts = 0;
    this.deps.changed();
    void this.loop();
  }

  private interrupt(): void {
    const w = this.wake;
    this.wake = null;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let retries = 0;
      while (!this.stopped && this.state === 'reconnecting') {
        this.attempts++;
        const outcome = await this.deps.attempt(this.fresh);
        if (this.stopped) return;
        if (outcome === 'ok') {
          this.state = 'up';
          this.fresh = false;
          this.deps.changed();
          return;
        }
        if (outcome === 'final') {
          this.stopped = true;
          return;
        }
        if (outcome === 'fresh' && !this.fresh) {
          // The server no longer knows us: join again straight away.
          this.fresh = true;
          continue;
        }
        if (this.clock.now() - this.since >= this.giveUpMs) {
          this.state = 'failed';
          this.deps.changed();
          return;
        }
        this.kicked = false;
        await this.sleep(backoffDelay(retries++, RECONNECT_BACKOFF, this.clock.random));
        // Woken early (the network is back): the next waits start small again.
        if (this.kicked) retries = 0;
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * Watches the states of the server media connections (publish, subscribe)
 * while the signalling socket is up. check() is called about once a second
 * and says when to restart ICE: at once for `failed`, after MEDIA_GRACE_MS
 * for `disconnected`, then again with backoff while it stays broken. Once
 * broken, only every connection `connected` again counts as mended. A
 * disconnect of HICCUP_MS or more that heals by itself gets one restart too:
 * the restart's answer shows whether the signalling socket survived.
 */
export class MediaWatch {
  /** Media is broken (the banner shows). */
  broken = false;
  private badSince: number | null = null;
  private nextRestart = 0;
  private restarts = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** True when an ICE restart is due now. */
  check(states: readonly RTCPeerConnectionState[], now: number): boolean {
    const failed = states.includes('failed');
    const bad = failed || states.includes('disconnected') || (this.broken && states.some((s) => s !== 'connected' && s !== 'closed'));
    if (!bad) {
      const hiccup = !this.broken && this.badSince !== null && now - this.badSince >= HICCUP_MS;
      if (this.broken) this.reset();
      this.badSince = null;
      if (!hiccup || now < this.nextRestart) return false;
      this.restarted(now);
      return true;
    }
    this.badSince ??= now;
    if (!failed && now - this.badSince < MEDIA_GRACE_MS) return false;
    this.broken = true;
    if (now < this.nextRestart) return false;
    this.restarted(now);
    return true;
  }

  /** An ICE restart happened (here, after a resume or a network change): the next waits. */
  restarted(now: number): void {
    this.nextRestart = now + backoffDelay(this.restarts++, RESTART_BACKOFF, this.random);
  }

  /** Forget everything (new connections after a fresh join). */
  reset(): void {
    this.broken = false;
    this.badSince = null;
    this.restarts = 0;
    this.nextRestart = 0;
  }
}

export interface NetworkEvents {
  /** The browser is online again (after `offline`). */
  online(): void;
  offline(): void;
  /** Another network (navigator.connection `change`, where the browser has it). */
  change(): void;
}

/** Listens to the browser's network events; returns the function that stops listening. */
export function watchNetwork(on: NetworkEvents): () => void {
  const conn = (navigator as Navigator & { connection?: EventTarget }).connection;
  const online = (): void => on.online();
  const offline = (): void => on.offline();
  const change = (): void => on.change();
  window.addEventListener('online', online);
  window.addEventListener('offline', offline);
  conn?.addEventListener('change', change);
  return () => {
    window.removeEventListener('online', online);
    window.removeEventListener('offline', offline);
    conn?.removeEventListener('change', change);
  };
}
