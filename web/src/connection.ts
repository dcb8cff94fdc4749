// The signalling socket of one call and keeping it (and the server media
// connections) alive: each reconnect attempt on a new socket, ICE restarts
// when the media breaks, and the browser's network events. reconnect.ts
// decides when to try; this does the trying. What the messages mean is the
// call's business (call.ts).

import type { SerialQueue } from './media/queue';
import type { MediaSession } from './media/session';
import type { ClientMessage, ServerMessage } from './protocol';
import { MediaWatch, Reconnector, shouldReconnect, watchNetwork, type Outcome } from './reconnect';
import { Signal, socketURL, type CloseInfo } from './signal';

/** A reconnect attempt that got no answer in this time is given up (and the next one tried). */
const ATTEMPT_TIMEOUT_MS = 10000;
/** After an ICE restart over a socket that seems fine: no word from the server in this time and the socket is dead too. */
const PROBE_MS = 4000;
/** Network changes (navigator.connection) restart ICE at most this often. */
const CHANGE_RESTART_MS = 5000;

/** The reconnect attempt in progress. */
export interface Attempt {
  /** `join` afresh rather than `resume`. */
  readonly fresh: boolean;
  settle(o: Outcome): void;
}

export interface ConnectionDeps {
  /** Whether we are in the meeting (phase `joined`). */
  joined(): boolean;
  session: MediaSession;
  /** Where incoming messages (and each attempt's first message) wait their turn. */
  queue: SerialQueue;
  handle(msg: ServerMessage): Promise<void> | void;
  /** Sends `join` on the current socket. */
  join(): void;
  /** The socket closed and is not to be continued: the call ends. */
  closed(info: CloseInfo): void;
  /** The banner's inputs changed. */
  changed(): void;
}

export class Connection {
  /** The current socket; only it is listened to. */
  private sig: Signal;
  /** Staying in the meeting through a lost connection; its state drives the banner. */
  readonly reconnect: Reconnector;
  readonly mediaWatch = new MediaWatch();
  /** From `joined`; in memory only, never stored (it would let anyone take over the session). */
  resumeToken: string | null = null;
  /** The last error code from the server, for how a close ends the call. */
  lastError: string | null = null;
  /** Seconds the server gave before its restart (`server.draining`), until we are back. */
  draining: number | null = null;
  /** The browser says it is offline. */
  offline = false;
  private current: Attempt | null = null;
  private lastHeard = 0;
  private lastRestart = 0;
  private probeTimer = 0;
  private unwatch: (() => void) | null = null;

  constructor(private readonly deps: ConnectionDeps) {
    this.reconnect = new Reconnector({ attempt: (fresh) => this.attempt(fresh), changed: () => deps.changed() });
    this.sig = this.newSignal();
  }

  get signal(): Signal {
    return this.sig;
  }

  /** The reconnect attempt in progress, if any. */
  get attempting(): Attempt | null {
    return this.current;
  }

  send(msg: ClientMessage): void {
    this.sig.send(msg);
  }

  private newSignal(): Signal {
    const sig: Signal = new Signal(socketURL(location), {
      message: (msg) => {
        if (sig !== this.sig) return;
        this.lastHeard = performance.now();
        void this.deps.queue.run(() => this.deps.handle(msg)).catch((err: unknown) => console.error('plausch:', msg.type, err));
      },
      close: (info) => {
        if (sig === this.sig) this.socketClosed(info);
      },
    });
    return sig;
  }

  private socketClosed(info: CloseInfo): void {
    const a = this.current;
    if (a) {
      a.settle('retry');
      return;
    }
    if (this.deps.joined() && this.resumeToken !== null && shouldReconnect(info, this.lastError)) {
      this.reconnect.lost();
      return;
    }
    this.deps.closed(info);
  }

  /**
   * One reconnect attempt on a new socket: `resume` with our token, or with
   * `fresh` (the server no longer knows the session) `join` again as the
   * same person with new media connections.
   */
  private attempt(fresh: boolean): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const sig = this.newSignal();
      this.sig = sig;
      const state = {
        fresh,
        settle: (o: Outcome): void => {
          if (this.current !== state) return;
          this.current = null;
          window.clearTimeout(timer);
          if (o === 'ok') {
            this.lastError = null;
            this.draining = null;
          } else if (o !== 'final') sig.drop();
          resolve(o);
        },
      };
      const timer = window.setTimeout(() => state.settle('retry'), ATTEMPT_TIMEOUT_MS);
      this.current = state;
      sig.open().then(
        () =>
          this.deps.queue.run(() => {
            if (this.current !== state) return;
            if (fresh || this.resumeToken === null) {
              this.deps.session.reset();
              this.mediaWatch.reset();
              this.deps.join();
            } else sig.send({ type: 'resume', token: this.resumeToken });
          }),
        () => state.settle('retry'),
      );
    });
  }

  /**
   * Continues on a new socket: the old one seems dead, or is tied to a
   * network that went. It is not closed first (that would show us as
   * reconnecting to the others): the server closes it when the `resume`
   * takes over, else we do a little later.
   */
  private abandonSocket(): void {
    if (!this.deps.joined() || this.reconnect.state !== 'up') return;
    const old = this.sig;
    old.detach();
    window.setTimeout(() => old.drop(), ATTEMPT_TIMEOUT_MS);
    this.reconnect.lost();
  }

  /** About once a second: are the server media connections well? */
  checkMedia(): void {
    if (!this.deps.joined() || this.reconnect.state !== 'up') return;
    const was = this.mediaWatch.broken;
    if (this.mediaWatch.check(this.deps.session.connectionStates(), performance.now())) this.restartMedia();
    if (was !== this.mediaWatch.broken) this.deps.changed();
  }

  /** ICE restarts over the socket we have; if the server then says nothing, the socket is dead too. */
  private restartMedia(): void {
    const asked = performance.now();
    this.lastRestart = asked;
    this.deps.session.restartIce();
    window.clearTimeout(this.probeTimer);
    this.probeTimer = window.setTimeout(() => {
      if (this.lastHeard < asked) this.abandonSocket();
    }, PROBE_MS);
  }

  /** Network events (back online, another network) and the media watch. */
  watch(): void {
    const stop = watchNetwork({
      online: () => {
        this.offline = false;
        this.deps.changed();
        // The old socket may be tied to the network that went: go on on a
        // new one at once (the server hands the session over to it).
        if (this.reconnect.state === 'up') this.abandonSocket();
        else this.reconnect.now();
      },
      offline: () => {
        this.offline = true;
        this.deps.changed();
      },
      change: () => {
        if (this.reconnect.state !== 'up') this.reconnect.now();
        else if (this.deps.joined() && performance.now() - this.lastRestart > CHANGE_RESTART_MS) this.restartMedia();
      },
    });
    const timer = window.setInterval(() => this.checkMedia(), 1000);
    this.unwatch = () => {
      stop();
      window.clearInterval(timer);
      window.clearTimeout(this.probeTimer);
    };
  }

  /** The call is over: no attempt, no retry, no watching. */
  stop(): void {
    this.current?.settle('final');
    this.reconnect.stop();
    this.unwatch?.();
  }
}
