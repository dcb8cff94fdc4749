// What we send of ourselves: microphone and camera on and off, another
// device, screen sharing, and our own speaking highlight. Each change reaches
// the media session, the room model and (in the meeting) the server.

import type { Key } from '../i18n';
import type { ClientMessage } from '../protocol';
import type { RoomStore } from '../room';
import { LevelMeter, SPEAKING_LEVEL, type LocalMedia } from './devices';
import type { MediaSession } from './session';

export interface ControlsDeps {
  media: LocalMedia;
  store: RoomStore<MediaStreamTrack>;
  session: MediaSession;
  /** Whether we are in the meeting (phase `joined`). */
  joined(): boolean;
  send(msg: ClientMessage): void;
  notify(n: { key: Key }): void;
}

export class MediaControls {
  private meter: LevelMeter | null = null;
  private meterTimer = 0;
  private screen: MediaStreamTrack | null = null;

  constructor(private readonly deps: ControlsDeps) {}

  /** Our own speaking highlight, from our microphone's level. */
  watchLevel(): void {
    const m = this.deps.media;
    this.meter?.close();
    this.meter = m.audio ? new LevelMeter(m.audio) : null;
    if (this.meterTimer) return;
    let loud = 0;
    this.meterTimer = window.setInterval(() => {
      const level = this.meter && this.deps.media.micOn ? this.meter.level() : 0;
      // A short hangover keeps the highlight from flickering between syllables.
      loud = level > SPEAKING_LEVEL ? 4 : Math.max(0, loud - 1);
      this.deps.store.dispatch({ type: 'selfSpeaking', speaking: loud > 0 });
    }, 100);
  }

  /** Tells the server whether our microphone and camera are on. */
  sendMedia(): void {
    const s = this.deps.store.state.self;
    this.deps.send({ type: 'media', audio: s.audio, video: s.video });
  }

  setMic(on: boolean): void {
    const m = this.deps.media;
    m.setMicOn(on);
    this.deps.store.dispatch({ type: 'self', patch: { audio: m.micOn } });
    if (this.deps.joined()) this.sendMedia();
  }

  async setCamera(on: boolean): Promise<void> {
    const m = this.deps.media;
    if (on) {
      const track = await m.startCamera();
      if (!track) this.deps.notify({ key: 'device.cameraFailed' });
      await this.deps.session.setLocal('camera', track);
    } else {
      await this.deps.session.setLocal('camera', null);
      m.stopCamera();
    }
    this.deps.store.dispatch({ type: 'self', patch: { video: m.cameraOn } });
    if (this.deps.joined()) this.sendMedia();
  }

  async switchCamera(deviceId: string): Promise<void> {
    const m = this.deps.media;
    const wasOn = m.cameraOn;
    const track = await m.switchCamera(deviceId);
    if (!wasOn) return;
    await this.deps.session.setLocal('camera', track);
    if (!track) {
      // The new camera did not start and the old one is stopped: say so.
      this.deps.notify({ key: 'device.cameraFailed' });
      this.deps.store.dispatch({ type: 'self', patch: { video: false } });
      if (this.deps.joined()) this.sendMedia();
    }
  }

  async switchMicrophone(deviceId: string): Promise<void> {
    const track = await this.deps.media.switchMicrophone(deviceId);
    await this.deps.session.setLocal('microphone', track);
    this.watchLevel();
  }

  get sharing(): boolean {
    return this.screen !== null;
  }

  async startScreen(): Promise<void> {
    if (this.screen || !this.deps.joined()) return;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (err) {
      // Cancelling the browser's picker is not worth a message.
      if (!(err instanceof DOMException && err.name === 'NotAllowedError')) this.deps.notify({ key: 'meeting.shareFailed' });
      return;
    }
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    // Text on screens stays sharp rather than smooth.
    track.contentHint = 'detail';
    this.screen = track;
    // The browser's own "Stop sharing" button ends the track.
    track.addEventListener('ended', () => void this.stopScreen());
    this.deps.store.dispatch({ type: 'selfScreen', sharing: true });
    try {
      await this.deps.session.setLocal('screen', track);
    } catch (err) {
      console.error('plausch: screen', err);
      this.deps.notify({ key: 'meeting.shareFailed' });
      await this.stopScreen();
    }
  }

  async stopScreen(): Promise<void> {
    const track = this.screen;
    if (!track) return;
    this.screen = null;
    track.stop();
    this.deps.store.dispatch({ type: 'selfScreen', sharing: false });
    await this.deps.session.setLocal('screen', null);
  }

  screenTrack(): MediaStreamTrack | null {
    return this.screen;
  }

  /** The call is over. */
  close(): void {
    window.clearInterval(this.meterTimer);
    this.meter?.close();
    this.screen?.stop();
    this.screen = null;
  }
}
