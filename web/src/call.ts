// One meeting from "Join" to leaving: wires the signalling socket, the media
// engine, the local devices, the room model, the keyring and the chat
// together. The UI calls its methods and listens to its stores; it never talks
// to the socket itself.

import { ChatStore, shownTime, type NewMessage } from './chat';
import { aad, decryptChat, encryptChat } from './crypto/e2e';
import { Keyring } from './crypto/keyring';
import { inviteLink } from './fragment';
import type { Key, Params } from './i18n';
import type { EngineStats } from './media/engine';
import { LevelMeter, LocalMedia, SPEAKING_LEVEL } from './media/devices';
import { frameSupport, type FrameSupport } from './media/framecrypto';
import { SerialQueue } from './media/queue';
import { startMeasuring } from './media/measure';
import { MediaSession } from './media/session';
import { ViewReporter } from './media/view';
import {
  CLOSE_ERROR,
  CLOSE_REMOVED,
  LIMITS,
  type ChatInMessage,
  type ErrorMessage,
  type JoinMessage,
  type MediaKind,
  type ModeratorMessage,
  type ParticipantInfo,
  type ServerMessage,
} from './protocol';
import { MediaWatch, Reconnector, shouldReconnect, watchNetwork, type Outcome } from './reconnect';
import { initialState, nameOf, RoomStore } from './room';
import { Signal, socketURL, type CloseInfo } from './signal';
import { StageStore } from './stage';

/**
 * connecting: socket open, `join` sent; password: the meeting wants a
 * password; lobby: waiting to be admitted; joined: in the meeting.
 */
export type Phase = 'connecting' | 'password' | 'lobby' | 'joined' | 'ended';

/** Why a call ended, for the "you left" page. */
export interface Ending {
  kind: 'left' | 'error' | 'lost' | 'unreachable';
  /** Whether we had got into the meeting before it ended. */
  wasJoined?: boolean;
  /** A heading other than the default one of the kind. */
  title?: Key;
  /** A translated explanation, when we know one. */
  message?: Key;
  /** The server's own close reason, shown as it is. */
  reason?: string;
}

export interface Notice {
  key: Key;
  params?: Params;
}

/** The password prompt's state. */
export interface PasswordGate {
  problem: 'none' | 'wrong' | 'tooMany';
  /** With tooMany: when (performance.now()) one may try again. */
  retryAt: number;
  /** A password was sent and the answer is outstanding. */
  checking: boolean;
}

export interface CallOptions {
  room: string;
  name: string;
  media: LocalMedia;
  /** The meeting key from the link, if it had one. */
  meetingKey: Uint8Array<ArrayBuffer> | null;
  /** The password from the link, if it had one. */
  password: string | null;
  notify(n: Notice): void;
  ended(e: Ending): void;
  /** We now hold the meeting key (made or obtained): the address may show it. */
  keyChanged(keyText: string): void;
  /** How this browser encrypts media frames (default: found out); null when it cannot. */
  frames?: FrameSupport;
}

export type SendResult = 'sent' | 'empty' | 'nokey' | 'toolong' | 'gone';

const FATAL_ENDINGS = {
  denied: { title: 'left.notJoined', message: 'left.denied' },
  removed: { title: 'left.removedTitle', message: 'left.removed' },
  ended: { title: 'left.endedTitle', message: 'left.ended' },
  e2ee_required: { title: 'left.e2eeTitle', message: 'left.e2eeRequired' },
} as const satisfies Record<string, { title: Key; message: Key }>;

/** Maps the server's close reason (or error code) to a translated message. */
export function endingFromClose(info: CloseInfo, lastError: string | null, endedByUs = false): Ending {
  if (info.neverOpened) return { kind: 'unreachable', message: 'left.unreachable' };
  const fatal = lastError !== null && lastError in FATAL_ENDINGS ? FATAL_ENDINGS[lastError as keyof typeof FATAL_ENDINGS] : null;
  if (fatal || info.code === CLOSE_REMOVED) {
    if (endedByUs && (lastError === 'ended' || !fatal)) return { kind: 'left', title: 'left.endedTitle', message: 'left.youEnded' };
    const f = fatal ?? { title: 'left.disconnected', message: 'left.removedOrEnded' };
    return { kind: 'error', title: f.title, message: f.message };
  }
  if (info.byUs && (info.code === 1000 || info.code === 1005)) return { kind: 'left' };
  if (info.code === CLOSE_ERROR || lastError) {
    const text = `${info.reason} ${lastError ?? ''}`;
    const code = (['room_full', 'server_full', 'bad_room', 'bad_name', 'internal'] as const).find((c) => text.includes(c));
    return { kind: 'error', message: code ? `error.${code}` : 'error.other', reason: info.reason || undefined };
  }
  if (info.byUs) return { kind: 'left' };
  return { kind: 'lost', message: 'left.lost', reason: info.reason || undefined };
}

/** A reconnect attempt that got no answer in this time is given up (and the next one tried). */
const ATTEMPT_TIMEOUT_MS = 10000;
/** After an ICE restart over a socket that seems fine: no word from the server in this time and the socket is dead too. */
const PROBE_MS = 4000;
/** Network changes (navigator.connection) restart ICE at most this often. */
const CHANGE_RESTART_MS = 5000;

type Handlers = { [K in ServerMessage['type']]: (msg: Extract<ServerMessage, { type: K }>) => Promise<void> | void };

export class Call {
  readonly store: RoomStore<MediaStreamTrack>;
  readonly chat = new ChatStore();
  readonly keys: Keyring;
  /** Our media: the server and direct paths and their end-to-end encryption. */
  readonly session: MediaSession;
  phase: Phase = 'connecting';
  gate: PasswordGate = { problem: 'none', retryAt: 0, checking: false };
  /** Whether "Copy invite link" adds the password (the host's choice). */
  includePassword = false;
  /** When "Join meeting" was pressed, for the join-to-first-frame figure. */
  readonly startedAt = performance.now();
  private signal: Signal;
  private incoming = new SerialQueue();
  private meter: LevelMeter | null = null;
  private meterTimer = 0;
  private screen: MediaStreamTrack | null = null;
  private lastError: string | null = null;
  private endedByUs = false;
  private password: string | null;
  /** Group messages that arrived before we had the meeting key, by chat id. */
  private pending = new Map<number, { from: string; data: string }>();
  private phaseListeners = new Set<() => void>();
  /** Dominant speaker, forwarded videos and connection figures (large meetings). */
  readonly stage = new StageStore();
  /** Tells the server which videos we show (`view`); the layout reports to it. */
  readonly view = new ViewReporter((m) => {
    if (this.phase !== 'joined') return false;
    this.signal.send(m);
    return true;
  });
  private stopMeasuring: (() => void) | null = null;
  /** Staying in the meeting through a lost connection (reconnect.ts); `reconnect.state` drives the banner. */
  readonly reconnect: Reconnector;
  private readonly mediaWatch = new MediaWatch();
  /** From `joined`; in memory only, never stored (it would let anyone take over the session). */
  private resumeToken: string | null = null;
  /** The reconnect attempt in progress, if any. */
  private attemptState: { fresh: boolean; settle(o: Outcome): void } | null = null;
  /** Seconds the server gave before its restart (`server.draining`), until we are back. */
  draining: number | null = null;
  /** The browser says it is offline. */
  offline = false;
  private lastHeard = 0;
  private lastRestart = 0;
  private probeTimer = 0;
  private unwatch: (() => void) | null = null;

  constructor(private readonly opts: CallOptions) {
    const m = opts.media;
    this.password = opts.password;
    this.store = new RoomStore(initialState(opts.room, { name: opts.name, audio: m.micOn, video: m.cameraOn }));
    this.keys = new Keyring(
      {
        room: () => this.store.state.room,
        self: () => ({ id: this.store.state.selfId, role: this.store.state.self.role }),
        peers: () => this.store.state.others,
        relay: (to, data) => this.signal.send({ type: 'relay', to, data }),
        obtained: (_key, how) => {
          if (this.phase === 'joined') this.signal.send({ type: 'key.status', hasKey: true });
          const text = this.keys.keyText;
          if (text) this.opts.keyChanged(text);
          if (how === 'exchange') this.opts.notify({ key: 'crypto.keyObtained' });
          void this.incoming.run(() => this.retryPending());
        },
      },
      opts.meetingKey,
    );
    this.session = new MediaSession(
      {
        store: this.store,
        send: (msg) => this.signal.send(msg),
        relay: (to, data) => this.signal.send({ type: 'relay', to, data }),
        pairwise: (p) => this.keys.pairwise(p),
        // A failed server connection is restarted by the media watch (checkMedia).
        failed: () => this.checkMedia(),
      },
      opts.frames === undefined ? frameSupport() : opts.frames,
    );
    void this.session.setLocal('microphone', m.audio);
    void this.session.setLocal('camera', m.cameraOn ? m.video : null);
    this.reconnect = new Reconnector({ attempt: (fresh) => this.attempt(fresh), changed: () => this.linkChanged() });
    this.signal = this.newSignal();
  }

  /** A signalling connection; only the current one is listened to. */
  private newSignal(): Signal {
    const sig: Signal = new Signal(socketURL(location), {
      message: (msg) => {
        if (sig !== this.signal) return;
        this.lastHeard = performance.now();
        void this.incoming.run(() => this.handle(msg)).catch((err: unknown) => console.error('plausch:', msg.type, err));
      },
      close: (info) => {
        if (sig === this.signal) this.socketClosed(info);
      },
    });
    return sig;
  }

  private socketClosed(info: CloseInfo): void {
    const a = this.attemptState;
    if (a) {
      a.settle('retry');
      return;
    }
    if (this.phase === 'joined' && this.resumeToken !== null && shouldReconnect(info, this.lastError)) {
      this.reconnect.lost();
      return;
    }
    this.end(endingFromClose(info, this.lastError, this.endedByUs));
  }

  /** The banner listens through onPhase too. */
  private linkChanged(): void {
    for (const l of this.phaseListeners) l();
  }

  /** Whether the banner says "Reconnecting…": the socket or the media is being mended, or the browser is offline (not after giving up). */
  get reconnecting(): boolean {
    const r = this.reconnect.state;
    return this.phase === 'joined' && r !== 'failed' && (r === 'reconnecting' || this.mediaWatch.broken || this.offline);
  }

  /** "Rejoin" after reconnecting gave up: a new round of attempts. */
  reconnectNow(): void {
    this.reconnect.now();
  }

  /**
   * One reconnect attempt on a new socket: `resume` with our token, or with
   * `fresh` (the server no longer knows the session) `join` again as the
   * same person with new media connections.
   */
  private attempt(fresh: boolean): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const sig = this.newSignal();
      this.signal = sig;
      const state = {
        fresh,
        settle: (o: Outcome): void => {
          if (this.attemptState !== state) return;
          this.attemptState = null;
          window.clearTimeout(timer);
          if (o === 'ok') {
            this.lastError = null;
            this.draining = null;
          } else if (o !== 'final') sig.drop();
          resolve(o);
        },
      };
      const timer = window.setTimeout(() => state.settle('retry'), ATTEMPT_TIMEOUT_MS);
      this.attemptState = state;
      sig.open().then(
        () =>
          this.incoming.run(() => {
            if (this.attemptState !== state) return;
            if (fresh || this.resumeToken === null) {
              this.session.reset();
              this.mediaWatch.reset();
              this.sendJoin();
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
    if (this.phase !== 'joined' || this.reconnect.state !== 'up') return;
    const old = this.signal;
    old.detach();
    window.setTimeout(() => old.drop(), ATTEMPT_TIMEOUT_MS);
    this.reconnect.lost();
  }

  /** About once a second: are the server media connections well? */
  private checkMedia(): void {
    if (this.phase !== 'joined' || this.reconnect.state !== 'up') return;
    const was = this.mediaWatch.broken;
    if (this.mediaWatch.check(this.session.connectionStates(), performance.now())) this.restartMedia();
    if (was !== this.mediaWatch.broken) this.linkChanged();
  }

  /** ICE restarts over the socket we have; if the server then says nothing, the socket is dead too. */
  private restartMedia(): void {
    const asked = performance.now();
    this.lastRestart = asked;
    this.session.restartIce();
    window.clearTimeout(this.probeTimer);
    this.probeTimer = window.setTimeout(() => {
      if (this.lastHeard < asked) this.abandonSocket();
    }, PROBE_MS);
  }

  /** Network events (back online, another network) and the media watch. */
  private watch(): void {
    const stop = watchNetwork({
      online: () => {
        this.offline = false;
        this.linkChanged();
        // The old socket may be tied to the network that went: go on on a
        // new one at once (the server hands the session over to it).
        if (this.reconnect.state === 'up') this.abandonSocket();
        else this.reconnect.now();
      },
      offline: () => {
        this.offline = true;
        this.linkChanged();
      },
      change: () => {
        if (this.reconnect.state !== 'up') this.reconnect.now();
        else if (this.phase === 'joined' && performance.now() - this.lastRestart > CHANGE_RESTART_MS) this.restartMedia();
      },
    });
    const timer = window.setInterval(() => this.checkMedia(), 1000);
    this.unwatch = () => {
      stop();
      window.clearInterval(timer);
      window.clearTimeout(this.probeTimer);
    };
  }

  /**
   * After a `joined` that replaced the list of others: whoever came or went
   * while we were away gets what a join or a leave would have given them
   * (keys above all). After a fresh join only the old ids are let go.
   */
  private catchUp(before: ParticipantInfo[], resumed: boolean): void {
    const now = this.store.state.others;
    for (const p of before) {
      if (now.some((x) => x.id === p.id)) continue;
      this.keys.forget(p.id);
      this.session.peerLeft(p.id);
      if (resumed) this.opts.notify({ key: 'meeting.left', params: { name: p.name } });
    }
    if (!resumed) return;
    for (const p of now) {
      if (before.some((x) => x.id === p.id)) continue;
      this.session.peerJoined(p);
      this.opts.notify({ key: 'meeting.joined', params: { name: p.name } });
    }
  }

  get media(): LocalMedia {
    return this.opts.media;
  }

  // An arrow property, so it can be handed around unbound (useChanges).
  onPhase = (fn: () => void): (() => void) => {
    this.phaseListeners.add(fn);
    return () => this.phaseListeners.delete(fn);
  };

  private setPhase(p: Phase): void {
    this.phase = p;
    for (const l of this.phaseListeners) l();
  }

  async start(): Promise<void> {
    // The public key goes in `join`, so the key pair must exist first.
    await this.keys.ready;
    try {
      await this.signal.open();
    } catch {
      return; // The close handler has already ended the call.
    }
    this.sendJoin();
    this.watchLevel();
    this.watch();
  }

  private sendJoin(): void {
    const m = this.opts.media;
    const join: JoinMessage = {
      type: 'join',
      room: this.opts.room,
      name: this.opts.name,
      audio: m.micOn,
      video: m.cameraOn,
      publicKey: this.keys.identity?.b64 ?? '',
      hasKey: this.keys.hasKey,
      e2ee: this.session.e2ee,
      resumable: true,
    };
    if (this.password) join.password = this.password;
    this.signal.send(join);
  }

  private handle(msg: ServerMessage): Promise<void> | void {
    if (this.phase === 'ended') return;
    return (this.handlers[msg.type] as (m: ServerMessage) => Promise<void> | void)(msg);
  }

  private readonly handlers: Handlers = {
    joined: (msg) => {
      const store = this.store;
      const a = this.attemptState;
      // Back after a lost connection: the same session, or (fresh) a new one.
      const again = a !== null && this.phase === 'joined';
      const resumed = again && !a.fresh && this.session.engine !== null;
      const before = store.state.others;
      if (msg.resume) this.resumeToken = msg.resume;
      store.dispatch({ type: 'joined', id: msg.id, room: msg.room, participants: msg.participants, role: msg.role, settings: msg.settings });
      if (again) this.catchUp(before, resumed);
      if (resumed) {
        this.session.resumed();
        this.mediaWatch.restarted(performance.now());
        // What we switched while away never reached the server.
        this.sendMedia();
      } else this.session.joined(msg.iceServers);
      const waited = this.phase === 'lobby';
      this.setPhase('joined');
      if (waited) this.opts.notify({ key: 'lobby.admitted' });
      this.keys.update();
      a?.settle('ok');
      this.joinedStage();
    },
    'publish.answer': (msg) => this.session.engine?.handlePublishAnswer(msg.sdp),
    'subscribe.offer': (msg) => this.session.subscribeOffer(msg.sdp, msg.tracks),
    'media.mode': (msg) => this.session.setMode(msg.mode, msg.peer),
    'participant.joined': (msg) => {
      this.store.dispatch(msg);
      if (msg.participant.id !== this.store.state.selfId) {
        this.opts.notify({ key: 'meeting.joined', params: { name: msg.participant.name } });
        this.session.peerJoined(msg.participant);
      }
      this.keys.update();
    },
    'participant.updated': (msg) => {
      const s = this.store.state;
      const before = s.others.find((p) => p.id === msg.participant.id);
      const wasModerator = s.self.role === 'moderator';
      this.store.dispatch(msg);
      if (before && !before.screen && msg.participant.screen) {
        this.opts.notify({ key: 'meeting.sharing', params: { name: msg.participant.name } });
      }
      if (msg.participant.id === s.selfId && !wasModerator && msg.participant.role === 'moderator') {
        this.opts.notify({ key: 'moderation.nowModerator' });
      }
      if (before?.reconnecting && !msg.participant.reconnecting) this.session.peerBack(msg.participant);
      this.session.peersChanged();
      this.keys.update();
    },
    'participant.left': (msg) => {
      const name = nameOf(this.store.state, msg.id);
      this.keys.forget(msg.id);
      this.store.dispatch(msg);
      this.stage.left(msg.id);
      this.session.peerLeft(msg.id);
      if (name !== undefined) this.opts.notify({ key: 'meeting.left', params: { name } });
      this.keys.update();
    },
    speaking: (msg) => this.store.dispatch(msg),
    'lobby.waiting': () => {
      this.setPhase('lobby');
      this.attemptState?.settle('ok');
    },
    'lobby.knock': (msg) => {
      const known = this.store.state.knocks.some((k) => k.id === msg.participant.id);
      this.store.dispatch(msg);
      if (!known) this.opts.notify({ key: 'lobby.knockNotice', params: { name: msg.participant.name } });
    },
    'lobby.gone': (msg) => this.store.dispatch(msg),
    'room.settings': (msg) => this.store.dispatch(msg),
    muted: (msg) => this.mutedBy(msg.kind),
    chat: (msg) => this.receiveChat(msg),
    relay: async (msg) => {
      const peer = this.store.state.others.find((p) => p.id === msg.from);
      if (peer && !this.session.handleRelay(peer, msg.data)) await this.keys.handleRelay(peer, msg.data);
    },
    forwarded: (msg) => this.stage.forwarded(msg),
    dominant: (msg) => this.stage.dominant(msg.id),
    quality: (msg) => this.stage.quality(msg.participants),
    'server.draining': (msg) => {
      this.draining = msg.seconds;
      this.linkChanged();
    },
    error: (msg) => this.handleError(msg),
  };

  /** In the meeting (again): the server hears our view anew; our own connections are measured. */
  private joinedStage(): void {
    this.view.reset();
    this.stopMeasuring ??= startMeasuring(
      {
        own: () => this.session.connections(),
        direct: () => this.session.direct?.connection() ?? null,
      },
      (local, direct) => this.stage.measured(local, direct),
    );
  }

  private handleError(msg: ErrorMessage): void {
    console.warn('plausch: server error', msg.code, msg.message);
    const code = msg.code;
    const a = this.attemptState;
    const passwordProblem = code === 'password_required' || code === 'wrong_password' || code === 'too_many_attempts';
    if (a && !passwordProblem && !(code in FATAL_ENDINGS)) {
      // A reconnect attempt did not work: the session is over (join afresh), or try again later.
      a.settle(code === 'resume_failed' ? 'fresh' : 'retry');
      return;
    }
    if (passwordProblem) {
      if (this.phase === 'joined' && !a) return;
      // Joining afresh, the meeting now wants a (new) password: the prompt takes over.
      a?.settle('ok');
      const retryAt = code === 'too_many_attempts' ? performance.now() + (msg.retryAfter ?? 30) * 1000 : 0;
      // A password that came with the link and was refused is forgotten.
      if (code !== 'too_many_attempts') this.password = null;
      this.gate = { problem: code === 'wrong_password' ? 'wrong' : code === 'too_many_attempts' ? 'tooMany' : 'none', retryAt, checking: false };
      this.setPhase('password');
      return;
    }
    if (code === 'unknown_type' && msg.message.includes('"view"')) {
      // An older server: it forwards every video anyway.
      this.view.disable();
      return;
    }
    this.lastError = code;
    if (code === 'e2ee_required' && this.session.e2ee) {
      // We asked to require it without being able to ourselves (the UI does not offer that).
      this.opts.notify({ key: 'error.e2ee_required' });
      return;
    }
    if (code === 'denied' || code === 'removed' || code === 'ended' || code === 'e2ee_required') {
      // Fatal: the server closes with 4001 next; end now with the reason.
      this.end(endingFromClose({ code: CLOSE_REMOVED, reason: '', byUs: false, neverOpened: false }, code, this.endedByUs));
      this.signal.close();
      return;
    }
    if (code === 'forbidden' || code === 'not_found' || code === 'rate_limited') {
      this.opts.notify({ key: `error.${code}` });
      return;
    }
    if (code === 'bad_sdp') this.session.engine?.rejectPendingOffer(msg.message);
    // Before `joined` nothing can go on: end with the server's reason.
    if (this.phase !== 'joined') {
      this.end(endingFromClose({ code: CLOSE_ERROR, reason: msg.message || msg.code, byUs: false, neverOpened: false }, msg.code));
      this.signal.close();
    }
  }

  /** Sends `join` again with a password (after the meeting asked for one). */
  submitPassword(password: string): void {
    if (this.phase !== 'password' || this.gate.checking) return;
    if (this.gate.problem === 'tooMany' && performance.now() < this.gate.retryAt) return;
    this.password = password;
    this.gate = { ...this.gate, checking: true };
    this.setPhase('password');
    this.sendJoin();
  }

  /** A moderator muted our microphone or stopped our camera: really do it here too. */
  private async mutedBy(kind: MediaKind): Promise<void> {
    if (kind === 'audio') {
      this.setMic(false);
      this.opts.notify({ key: 'moderation.mutedYou' });
    } else {
      await this.setCamera(false);
      this.opts.notify({ key: 'moderation.stoppedYourCamera' });
    }
  }

  // Chat

  private async receiveChat(msg: ChatInMessage): Promise<void> {
    const s = this.store.state;
    if (msg.from === s.selfId) return; // our own, if the server ever echoes it
    if (msg.to !== undefined && msg.to !== s.selfId) return; // not for us
    const sender = s.others.find((p) => p.id === msg.from);
    const now = Date.now();
    const base: NewMessage = { from: msg.from, fromName: sender?.name ?? '', self: false, ts: now, text: null, problem: 'failed' };
    let id: number;
    if (msg.to !== undefined) {
      const pk = sender ? await this.keys.pairwise(sender) : null;
      const plain = pk ? await decryptChat(pk, aad.pm(s.room, msg.from, msg.to), msg.data) : null;
      const m: NewMessage = { ...base, to: msg.to, toName: s.self.name };
      id = this.chat.add(plain ? { ...m, text: plain.text, problem: undefined, ts: shownTime(plain.ts, now) } : m);
    } else {
      const ck = this.keys.chatKey();
      if (!ck) {
        id = this.chat.add({ ...base, problem: 'nokey' });
        this.pending.set(id, { from: msg.from, data: msg.data });
      } else {
        const plain = await decryptChat(await ck, aad.chat(s.room, msg.from), msg.data);
        id = this.chat.add(plain ? { ...base, text: plain.text, problem: undefined, ts: shownTime(plain.ts, now) } : base);
      }
    }
    if (!this.chat.isOpen && id) {
      const name = base.fromName || '?';
      this.opts.notify({ key: msg.to !== undefined ? 'chat.newPrivate' : 'chat.newMessage', params: { name } });
    }
  }

  /** Once the key is here, opens the group messages that came before it. */
  private async retryPending(): Promise<void> {
    const ck = this.keys.chatKey();
    if (!ck) return;
    const key = await ck;
    const room = this.store.state.room;
    for (const [id, p] of this.pending) {
      const plain = await decryptChat(key, aad.chat(room, p.from), p.data);
      const m = this.chat.messages.find((x) => x.id === id);
      if (plain) this.chat.update(id, { text: plain.text, ts: shownTime(plain.ts, m?.ts ?? Date.now()) });
      else this.chat.update(id, { problem: 'failed' });
    }
    this.pending.clear();
  }

  /** Encrypts and sends a message to everyone, or to one participant. */
  async sendChat(text: string, to: string | null): Promise<SendResult> {
    if (text.trim() === '') return 'empty';
    if (this.phase !== 'joined' || this.reconnect.state !== 'up') return 'gone';
    const s = this.store.state;
    const self = s.selfId ?? '';
    const ts = Date.now();
    let data: string;
    let toName: string | undefined;
    if (to !== null) {
      const peer = s.others.find((p) => p.id === to);
      if (!peer) return 'gone';
      toName = peer.name;
      const pk = await this.keys.pairwise(peer);
      if (!pk) return 'nokey';
      data = await encryptChat(pk, aad.pm(s.room, self, to), { text, ts });
    } else {
      const ck = this.keys.chatKey();
      if (!ck) return 'nokey';
      data = await encryptChat(await ck, aad.chat(s.room, self), { text, ts });
    }
    if (data.length > LIMITS.maxChatData) return 'toolong';
    this.signal.send(to !== null ? { type: 'chat', data, to } : { type: 'chat', data });
    this.chat.add(
      to !== null && toName !== undefined
        ? { from: self, fromName: s.self.name, self: true, to, toName, text, ts }
        : { from: self, fromName: s.self.name, self: true, text, ts },
    );
    return 'sent';
  }

  /** The link to share: with the meeting key, and the password where the host chose so. */
  inviteLink(): string {
    const pw = this.includePassword && this.store.state.settings.password ? this.password : null;
    return inviteLink(location.origin, this.store.state.room, this.keys.keyText, pw);
  }

  /** Whether we know the meeting password (we set it or joined with it). */
  get knowsPassword(): boolean {
    return this.password !== null && this.store.state.settings.password;
  }

  // Moderation: the server checks the role; the UI only offers it to moderators.

  moderate(msg: ModeratorMessage): void {
    if (this.phase !== 'joined') return;
    if (msg.type === 'room.password') this.password = msg.password === '' ? null : msg.password;
    if (msg.type === 'room.end') this.endedByUs = true;
    this.signal.send(msg);
  }

  /** Our own speaking highlight, from our microphone's level. */
  private watchLevel(): void {
    const m = this.opts.media;
    this.meter?.close();
    this.meter = m.audio ? new LevelMeter(m.audio) : null;
    if (this.meterTimer) return;
    let loud = 0;
    this.meterTimer = window.setInterval(() => {
      const level = this.meter && this.opts.media.micOn ? this.meter.level() : 0;
      // A short hangover keeps the highlight from flickering between syllables.
      loud = level > SPEAKING_LEVEL ? 4 : Math.max(0, loud - 1);
      this.store.dispatch({ type: 'selfSpeaking', speaking: loud > 0 });
    }, 100);
  }

  private sendMedia(): void {
    const s = this.store.state.self;
    this.signal.send({ type: 'media', audio: s.audio, video: s.video });
  }

  setMic(on: boolean): void {
    const m = this.opts.media;
    m.setMicOn(on);
    this.store.dispatch({ type: 'self', patch: { audio: m.micOn } });
    if (this.phase === 'joined') this.sendMedia();
  }

  async setCamera(on: boolean): Promise<void> {
    const m = this.opts.media;
    if (on) {
      const track = await m.startCamera();
      if (!track) this.opts.notify({ key: 'device.cameraFailed' });
      await this.session.setLocal('camera', track);
    } else {
      await this.session.setLocal('camera', null);
      m.stopCamera();
    }
    this.store.dispatch({ type: 'self', patch: { video: m.cameraOn } });
    if (this.phase === 'joined') this.sendMedia();
  }

  async switchCamera(deviceId: string): Promise<void> {
    const m = this.opts.media;
    const wasOn = m.cameraOn;
    const track = await m.switchCamera(deviceId);
    if (!wasOn) return;
    await this.session.setLocal('camera', track);
    if (!track) {
      // The new camera did not start and the old one is stopped: say so.
      this.opts.notify({ key: 'device.cameraFailed' });
      this.store.dispatch({ type: 'self', patch: { video: false } });
      if (this.phase === 'joined') this.sendMedia();
    }
  }

  async switchMicrophone(deviceId: string): Promise<void> {
    const track = await this.opts.media.switchMicrophone(deviceId);
    await this.session.setLocal('microphone', track);
    this.watchLevel();
  }

  get sharing(): boolean {
    return this.screen !== null;
  }

  async startScreen(): Promise<void> {
    if (this.screen || this.phase !== 'joined') return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (err) {
      // Cancelling the browser's picker is not worth a message.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) this.opts.notify({ key: 'meeting.shareFailed' });
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    // Text on screens stays sharp rather than smooth.
    track.contentHint = 'detail';
    this.screen = track;
    // The browser's own "Stop sharing" button ends the track.
    track.addEventListener('ended', () => void this.stopScreen());
    this.store.dispatch({ type: 'selfScreen', sharing: true });
    try {
      await this.session.setLocal('screen', track);
    } catch (err) {
      console.error('plausch: screen', err);
      this.opts.notify({ key: 'meeting.shareFailed' });
      await this.stopScreen();
    }
  }

  async stopScreen(): Promise<void> {
    const track = this.screen;
    if (!track) return;
    this.screen = null;
    track.stop();
    this.store.dispatch({ type: 'selfScreen', sharing: false });
    await this.session.setLocal('screen', null);
  }

  screenTrack(): MediaStreamTrack | null {
    return this.screen;
  }

  leave(): void {
    if (this.phase === 'ended') return;
    this.signal.leave();
    this.end({ kind: 'left' });
  }

  private end(e: Ending): void {
    if (this.phase === 'ended') return;
    const wasJoined = this.phase === 'joined';
    this.setPhase('ended');
    this.attemptState?.settle('final');
    this.reconnect.stop();
    this.unwatch?.();
    window.clearInterval(this.meterTimer);
    this.stopMeasuring?.();
    this.view.close();
    this.meter?.close();
    this.screen?.stop();
    this.screen = null;
    this.session.close();
    this.keys.close();
    this.opts.media.stop();
    this.opts.ended({ ...e, wasJoined });
  }

  /** For the status readout and the browser tests. */
  async stats(): Promise<EngineStats | null> {
    return this.session.engine ? this.session.stats() : null;
  }
}
