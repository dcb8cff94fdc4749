// One meeting from "Join" to leaving: wires the signalling socket, the media
// engine, the local devices and the room model together. The UI calls its
// methods and listens to its store; it never talks to the socket itself.

import type { Key, Params } from './i18n';
import { Engine, type EngineStats } from './media/engine';
import { LevelMeter, LocalMedia, SPEAKING_LEVEL } from './media/devices';
import { SerialQueue } from './media/queue';
import { CLOSE_ERROR, type ServerMessage } from './protocol';
import { initialState, nameOf, RoomStore } from './room';
import { Signal, socketURL, type CloseInfo } from './signal';

export type Phase = 'connecting' | 'joined' | 'ended';

/** Why a call ended, for the "you left" page. */
export interface Ending {
  kind: 'left' | 'error' | 'lost' | 'unreachable';
  /** Whether we had got into the meeting before it ended. */
  wasJoined?: boolean;
  /** A translated explanation, when we know one. */
  message?: Key;
  /** The server's own close reason, shown as it is. */
  reason?: string;
}

export interface Notice {
  key: Key;
  params?: Params;
}

export interface CallOptions {
  room: string;
  name: string;
  media: LocalMedia;
  notify(n: Notice): void;
  ended(e: Ending): void;
}

/** Maps the server's close reason (or error code) to a translated message. */
export function endingFromClose(info: CloseInfo, lastError: string | null): Ending {
  if (info.neverOpened) return { kind: 'unreachable', message: 'left.unreachable' };
  if (info.byUs && (info.code === 1000 || info.code === 1005)) return { kind: 'left' };
  if (info.code === CLOSE_ERROR || lastError) {
    const text = `${info.reason} ${lastError ?? ''}`;
    const code = (['room_full', 'server_full', 'bad_room', 'bad_name', 'internal'] as const).find((c) => text.includes(c));
    return { kind: 'error', message: code ? `error.${code}` : 'error.other', reason: info.reason || undefined };
  }
  if (info.byUs) return { kind: 'left' };
  return { kind: 'lost', message: 'left.lost', reason: info.reason || undefined };
}

export class Call {
  readonly store: RoomStore<MediaStreamTrack>;
  phase: Phase = 'connecting';
  /** When "Join meeting" was pressed, for the join-to-first-frame figure. */
  readonly startedAt = performance.now();
  private signal: Signal;
  private engine: Engine | null = null;
  private incoming = new SerialQueue();
  private meter: LevelMeter | null = null;
  private meterTimer = 0;
  private screen: MediaStreamTrack | null = null;
  private lastError: string | null = null;
  private phaseListeners = new Set<() => void>();

  constructor(private readonly opts: CallOptions) {
    const m = opts.media;
    this.store = new RoomStore(initialState(opts.room, { name: opts.name, audio: m.micOn, video: m.cameraOn }));
    this.signal = new Signal(socketURL(location), {
      message: (msg) => {
        void this.incoming.run(() => this.handle(msg)).catch((err: unknown) => console.error('plausch:', msg.type, err));
      },
      close: (info) => this.end(endingFromClose(info, this.lastError)),
    });
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
    try {
      await this.signal.open();
    } catch {
      return; // The close handler has already ended the call.
    }
    const m = this.opts.media;
    this.signal.send({ type: 'join', room: this.opts.room, name: this.opts.name, audio: m.micOn, video: m.cameraOn });
    this.watchLevel();
  }

  private async handle(msg: ServerMessage): Promise<void> {
    if (this.phase === 'ended') return;
    const store = this.store;
    switch (msg.type) {
      case 'joined': {
        store.dispatch({ type: 'joined', id: msg.id, room: msg.room, participants: msg.participants });
        this.engine = new Engine(msg.iceServers, {
          send: (m) => this.signal.send(m),
          remote: (tracks, byMid) => store.dispatch({ type: 'remote', remote: tracks, tracks: byMid }),
          failed: () => this.opts.notify({ key: 'meeting.mediaFailed' }),
        });
        this.setPhase('joined');
        const m = this.opts.media;
        // Not awaited: the answer comes through this same queue.
        this.engine.startPublish(m.audio, m.cameraOn ? m.video : null).catch((err: unknown) => console.error('plausch: publish', err));
        return;
      }
      case 'publish.answer':
        this.engine?.handlePublishAnswer(msg.sdp);
        return;
      case 'subscribe.offer':
        await this.engine?.handleSubscribeOffer(msg.sdp, msg.tracks);
        return;
      case 'participant.joined':
        store.dispatch(msg);
        if (msg.participant.id !== store.state.selfId) this.opts.notify({ key: 'meeting.joined', params: { name: msg.participant.name } });
        return;
      case 'participant.updated': {
        const before = store.state.others.find((p) => p.id === msg.participant.id);
        store.dispatch(msg);
        if (before && !before.screen && msg.participant.screen) {
          this.opts.notify({ key: 'meeting.sharing', params: { name: msg.participant.name } });
        }
        return;
      }
      case 'participant.left': {
        const name = nameOf(store.state, msg.id);
        store.dispatch(msg);
        if (name !== undefined) this.opts.notify({ key: 'meeting.left', params: { name } });
        return;
      }
      case 'speaking':
        store.dispatch(msg);
        return;
      case 'error':
        console.warn('plausch: server error', msg.code, msg.message);
        this.lastError = msg.code;
        if (msg.code === 'bad_sdp') this.engine?.rejectPendingOffer(msg.message);
        // Before `joined` nothing can go on: end with the server's reason.
        if (this.phase === 'connecting') {
          this.end(endingFromClose({ code: CLOSE_ERROR, reason: msg.message || msg.code, byUs: false, neverOpened: false }, msg.code));
          this.signal.close();
        }
        return;
    }
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
      await this.engine?.replace('camera', track);
    } else {
      await this.engine?.replace('camera', null);
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
    await this.engine?.replace('camera', track);
    if (!track) {
      // The new camera did not start and the old one is stopped: say so.
      this.opts.notify({ key: 'device.cameraFailed' });
      this.store.dispatch({ type: 'self', patch: { video: false } });
      if (this.phase === 'joined') this.sendMedia();
    }
  }

  async switchMicrophone(deviceId: string): Promise<void> {
    const track = await this.opts.media.switchMicrophone(deviceId);
    await this.engine?.replace('microphone', track);
    this.watchLevel();
  }

  get sharing(): boolean {
    return this.screen !== null;
  }

  async startScreen(): Promise<void> {
    if (this.screen || !this.engine) return;
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
      await this.engine.startScreen(track);
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
    await this.engine?.stopScreen();
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
    window.clearInterval(this.meterTimer);
    this.meter?.close();
    this.screen?.stop();
    this.screen = null;
    this.engine?.close();
    this.opts.media.stop();
    this.opts.ended({ ...e, wasJoined });
  }

  /** For the status readout and the browser tests. */
  async stats(): Promise<EngineStats | null> {
    return this.engine ? this.engine.stats() : null;
  }
}
