// One meeting from "Join" to leaving: wires the signalling socket, the media
// engine, the local devices, the room model, the keyring and the chat
// together. The UI calls its methods and listens to its stores; it never talks
// to the socket itself.

import { ChatStore } from './chat';
import { Connection } from './connection';
import { Keyring } from './crypto/keyring';
import { endingFromClose, FATAL_ENDINGS, type Ending } from './ending';
import { inviteLink } from './fragment';
import type { Key, Params } from './i18n';
import type { EngineStats } from './media/engine';
import { MediaControls } from './media/controls';
import type { LocalMedia } from './media/devices';
import { frameSupport, type FrameSupport } from './media/framecrypto';
import { SerialQueue } from './media/queue';
import { startMeasuring } from './media/measure';
import { MediaSession } from './media/session';
import { ViewReporter } from './media/view';
import {
  CLOSE_ERROR,
  CLOSE_REMOVED,
  type ErrorMessage,
  type JoinMessage,
  type MediaKind,
  type ModeratorMessage,
  type ParticipantInfo,
  type ServerMessage,
  type WaitReason,
} from './protocol';
import type { Reconnector } from './reconnect';
import { initialState, nameOf, RoomStore } from './room';
import type { CloseInfo } from './signal';
import { SecureChat, type SendResult } from './securechat';
import { StageStore } from './stage';

export { endingFromClose, type Ending, type SendResult };

/**
 * connecting: socket open, `join` sent; password: the meeting wants a
 * password; lobby: waiting to be admitted; joined: in the meeting.
 */
export type Phase = 'connecting' | 'password' | 'lobby' | 'joined' | 'ended';

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

/** Knocks are announced at most this often. */
const KNOCK_NOTICE_MS = 5000;

type Handlers = { [K in ServerMessage['type']]: (msg: Extract<ServerMessage, { type: K }>) => Promise<void> | void };

export class Call {
  readonly store: RoomStore<MediaStreamTrack>;
  readonly chat = new ChatStore();
  readonly keys: Keyring;
  /** Our media: the server and direct paths and their end-to-end encryption. */
  readonly session: MediaSession;
  phase: Phase = 'connecting';
  gate: PasswordGate = { problem: 'none', retryAt: 0, checking: false };
  /** In the lobby: why we wait although it may be off (null: the lobby is on). */
  waitReason: WaitReason | null = null;
  /** When the last knock was announced (performance.now()). */
  private lastKnockNotice = -Infinity;
  /** Whether "Copy invite link" adds the password (the host's choice). */
  includePassword = false;
  /** When "Join meeting" was pressed, for the join-to-first-frame figure. */
  readonly startedAt = performance.now();
  private readonly conn: Connection;
  private readonly secureChat: SecureChat;
  private readonly controls: MediaControls;
  private incoming = new SerialQueue();
  private endedByUs = false;
  private password: string | null;
  private phaseListeners = new Set<() => void>();
  /** Dominant speaker, forwarded videos and connection figures (large meetings). */
  readonly stage = new StageStore();
  /** Tells the server which videos we show (`view`); the layout reports to it. */
  readonly view = new ViewReporter((m) => {
    if (this.phase !== 'joined') return false;
    this.conn.send(m);
    return true;
  });
  private stopMeasuring: (() => void) | null = null;
  /** Staying in the meeting through a lost connection (connection.ts); `reconnect.state` drives the banner. */
  readonly reconnect: Reconnector;

  constructor(private readonly opts: CallOptions) {
    const m = opts.media;
    this.password = opts.password;
    this.store = new RoomStore(initialState(opts.room, { name: opts.name, audio: m.micOn, video: m.cameraOn }));
    this.keys = new Keyring(
      {
        room: () => this.store.state.room,
        self: () => ({ id: this.store.state.selfId, role: this.store.state.self.role }),
        peers: () => this.store.state.others,
        relay: (to, data) => this.conn.send({ type: 'relay', to, data }),
        obtained: (_key, how) => {
          if (this.phase === 'joined') this.conn.send({ type: 'key.status', hasKey: true });
          const text = this.keys.keyText;
          if (text) this.opts.keyChanged(text);
          if (how === 'exchange') this.opts.notify({ key: 'crypto.keyObtained' });
          void this.incoming.run(() => this.secureChat.retryPending());
        },
      },
      opts.meetingKey,
    );
    this.session = new MediaSession(
      {
        store: this.store,
        send: (msg) => this.conn.send(msg),
        relay: (to, data) => this.conn.send({ type: 'relay', to, data }),
        pairwise: (p) => this.keys.pairwise(p),
        // A failed server connection is restarted by the media watch (checkMedia).
        failed: () => this.conn.checkMedia(),
      },
      opts.frames === undefined ? frameSupport() : opts.frames,
    );
    void this.session.setLocal('microphone', m.audio);
    void this.session.setLocal('camera', m.cameraOn ? m.video : null);
    this.conn = new Connection({
      joined: () => this.phase === 'joined',
      session: this.session,
      queue: this.incoming,
      handle: (msg) => this.handle(msg),
      join: () => this.sendJoin(),
      closed: (info: CloseInfo) => this.end(endingFromClose(info, this.conn.lastError, this.endedByUs)),
      changed: () => this.linkChanged(),
    });
    this.reconnect = this.conn.reconnect;
    this.secureChat = new SecureChat({
      chat: this.chat,
      state: () => this.store.state,
      canSend: () => this.phase === 'joined' && this.reconnect.state === 'up',
      send: (msg) => this.conn.send(msg),
      pairwise: (p) => this.keys.pairwise(p),
      chatKey: () => this.keys.chatKey(),
      notify: (n) => this.opts.notify(n),
    });
    this.controls = new MediaControls({
      media: m,
      store: this.store,
      session: this.session,
      joined: () => this.phase === 'joined',
      send: (msg) => this.conn.send(msg),
      notify: (n) => this.opts.notify(n),
    });
  }

  /** The banner listens through onPhase too. */
  private linkChanged(): void {
    for (const l of this.phaseListeners) l();
  }

  /** Seconds the server gave before its restart (`server.draining`), until we are back. */
  get draining(): number | null {
    return this.conn.draining;
  }

  /** The browser says it is offline. */
  get offline(): boolean {
    return this.conn.offline;
  }

  /** Whether the banner says "Reconnecting…": the socket or the media is being mended, or the browser is offline (not after giving up). */
  get reconnecting(): boolean {
    const r = this.reconnect.state;
    return this.phase === 'joined' && r !== 'failed' && (r === 'reconnecting' || this.conn.mediaWatch.broken || this.conn.offline);
  }

  /** "Rejoin" after reconnecting gave up: a new round of attempts. */
  reconnectNow(): void {
    this.reconnect.now();
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
      await this.conn.signal.open();
    } catch {
      return; // The close handler has already ended the call.
    }
    this.sendJoin();
    this.controls.watchLevel();
    this.conn.watch();
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
    this.conn.send(join);
  }

  private handle(msg: ServerMessage): Promise<void> | void {
    if (this.phase === 'ended') return;
    return (this.handlers[msg.type] as (m: ServerMessage) => Promise<void> | void)(msg);
  }

  private readonly handlers: Handlers = {
    joined: (msg) => {
      const store = this.store;
      const a = this.conn.attempting;
      // Back after a lost connection: the same session, or (fresh) a new one.
      const again = a !== null && this.phase === 'joined';
      const resumed = again && !a.fresh && this.session.engine !== null;
      const before = store.state.others;
      if (msg.resume) this.conn.resumeToken = msg.resume;
      store.dispatch({ type: 'joined', id: msg.id, room: msg.room, participants: msg.participants, role: msg.role, settings: msg.settings });
      if (again) this.catchUp(before, resumed);
      if (resumed) {
        this.session.resumed();
        this.conn.mediaWatch.restarted(performance.now());
        // What we switched while away never reached the server.
        this.controls.sendMedia();
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
    'lobby.waiting': (msg) => {
      this.waitReason = msg.reason ?? null;
      this.setPhase('lobby');
      this.conn.attempting?.settle('ok');
    },
    'lobby.knock': (msg) => {
      const known = this.store.state.knocks.some((k) => k.id === msg.participant.id);
      this.store.dispatch(msg);
      // One notice in a while: someone knocking again and again (a password
      // guesser out of attempts) must not bury the meeting in notices; the
      // panel and the toolbar count show every knock.
      const now = performance.now();
      if (!known && now - this.lastKnockNotice >= KNOCK_NOTICE_MS) {
        this.lastKnockNotice = now;
        const key = msg.participant.reason === 'password' ? 'lobby.knockNoticePassword' : 'lobby.knockNotice';
        this.opts.notify({ key, params: { name: msg.participant.name } });
      }
    },
    'lobby.gone': (msg) => this.store.dispatch(msg),
    'room.settings': (msg) => this.store.dispatch(msg),
    muted: (msg) => this.mutedBy(msg.kind),
    chat: (msg) => this.secureChat.receive(msg),
    relay: async (msg) => {
      const peer = this.store.state.others.find((p) => p.id === msg.from);
      if (peer && !this.session.handleRelay(peer, msg.data)) await this.keys.handleRelay(peer, msg.data);
    },
    forwarded: (msg) => this.stage.forwarded(msg),
    dominant: (msg) => this.stage.dominant(msg.id),
    quality: (msg) => this.stage.quality(msg.participants),
    'server.draining': (msg) => {
      this.conn.draining = msg.seconds;
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
    const a = this.conn.attempting;
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
    this.conn.lastError = code;
    if (code === 'e2ee_required' && this.session.e2ee) {
      // We asked to require it without being able to ourselves (the UI does not offer that).
      this.opts.notify({ key: 'error.e2ee_required' });
      return;
    }
    if (code in FATAL_ENDINGS) {
      // Fatal: the server closes with 4001 next; end now with the reason.
      this.end(endingFromClose({ code: CLOSE_REMOVED, reason: '', byUs: false, neverOpened: false }, code, this.endedByUs));
      this.conn.signal.close();
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
      this.conn.signal.close();
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

  /** Encrypts and sends a message to everyone, or to one participant. */
  sendChat(text: string, to: string | null): Promise<SendResult> {
    return this.secureChat.send(text, to);
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
    this.conn.send(msg);
  }

  setMic(on: boolean): void {
    this.controls.setMic(on);
  }

  setCamera(on: boolean): Promise<void> {
    return this.controls.setCamera(on);
  }

  switchCamera(deviceId: string): Promise<void> {
    return this.controls.switchCamera(deviceId);
  }

  switchMicrophone(deviceId: string): Promise<void> {
    return this.controls.switchMicrophone(deviceId);
  }

  get sharing(): boolean {
    return this.controls.sharing;
  }

  startScreen(): Promise<void> {
    return this.controls.startScreen();
  }

  stopScreen(): Promise<void> {
    return this.controls.stopScreen();
  }

  screenTrack(): MediaStreamTrack | null {
    return this.controls.screenTrack();
  }

  leave(): void {
    if (this.phase === 'ended') return;
    this.conn.signal.leave();
    this.end({ kind: 'left' });
  }

  private end(e: Ending): void {
    if (this.phase === 'ended') return;
    const wasJoined = this.phase === 'joined';
    this.setPhase('ended');
    this.conn.stop();
    this.stopMeasuring?.();
    this.view.close();
    this.controls.close();
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
