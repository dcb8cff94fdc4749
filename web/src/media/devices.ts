// Local devices: camera and microphone tracks, the device lists and the
// microphone level. One LocalMedia lives from the prejoin screen through the
// meeting, so the person is asked for permission once.

import type { Key } from '../i18n';
import type { DevicePrefs } from '../storage';

export interface DeviceLists {
  camera: MediaDeviceInfo[];
  microphone: MediaDeviceInfo[];
  speaker: MediaDeviceInfo[];
}

/** Whether this browser can choose the audio output device. */
export const canChooseSpeaker = (): boolean =>
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

export async function listDevices(): Promise<DeviceLists> {
  const lists: DeviceLists = { camera: [], microphone: [], speaker: [] };
  if (!navigator.mediaDevices?.enumerateDevices) return lists;
  for (const d of await navigator.mediaDevices.enumerateDevices()) {
    // Without permission ids are empty; such entries cannot be chosen.
    if (!d.deviceId) continue;
    if (d.kind === 'videoinput') lists.camera.push(d);
    else if (d.kind === 'audioinput') lists.microphone.push(d);
    else if (d.kind === 'audiooutput') lists.speaker.push(d);
  }
  return lists;
}

/** The message to show for a getUserMedia failure. */
export function mediaErrorKey(err: unknown, kind: 'both' | 'camera' | 'microphone'): Key {
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'device.denied';
  if (name === 'NotFoundError' && kind === 'both') return 'device.notFound';
  if (kind === 'camera') return 'device.cameraFailed';
  if (kind === 'microphone') return 'device.micFailed';
  return 'device.failed';
}

// A remembered device is "ideal": if it was unplugged, another one is used
// instead of failing. A device picked in a select right now is "exact".
type Pick = 'ideal' | 'exact';

function videoConstraints(deviceId: string | undefined, pick: Pick = 'ideal'): MediaTrackConstraints {
  // 720p when the camera has it; the browser scales down under load.
  const c: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } };
  if (deviceId) c.deviceId = pick === 'exact' ? { exact: deviceId } : { ideal: deviceId };
  return c;
}

function audioConstraints(deviceId: string | undefined, pick: Pick = 'ideal'): MediaTrackConstraints {
  const c: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (deviceId) c.deviceId = pick === 'exact' ? { exact: deviceId } : { ideal: deviceId };
  return c;
}

type Listener = () => void;

/** The camera and microphone of this browser, with on/off state. */
export class LocalMedia {
  audio: MediaStreamTrack | null = null;
  video: MediaStreamTrack | null = null;
  micOn = true;
  cameraOn = true;
  /** A problem to show (permission denied, no device, ...). */
  problem: Key | null = null;
  problemDetail = '';
  private listeners = new Set<Listener>();
  private stopped = false;

  constructor(public prefs: DevicePrefs) {}

  // An arrow property, so it can be handed around unbound (useChanges).
  onChange = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Asks for camera and microphone at once (one permission prompt), then each alone if that fails. */
  async open(want: { audio: boolean; video: boolean }): Promise<void> {
    this.micOn = want.audio;
    this.cameraOn = want.video;
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) {
      this.problem = 'device.insecure';
      this.micOn = false;
      this.cameraOn = false;
      this.changed();
      return;
    }
    // The microphone is opened even when it starts muted, so unmuting is
    // instant and the level meter can show it works; the camera only when on.
    try {
      const s = await md.getUserMedia({
        audio: audioConstraints(this.prefs.microphone),
        video: want.video ? videoConstraints(this.prefs.camera) : false,
      });
      this.adopt(s);
    } catch (err) {
      const key = mediaErrorKey(err, 'both');
      if (key === 'device.denied') {
        this.fail(key, err);
      } else {
        // One device may still work on its own (no camera, camera busy, ...).
        const audioErr = await this.tryAlone('audio');
        const videoErr = want.video ? await this.tryAlone('video') : null;
        if (audioErr && (videoErr || !want.video)) this.fail(want.video ? key : mediaErrorKey(audioErr, 'microphone'), err);
        else if (audioErr) this.fail(mediaErrorKey(audioErr, 'microphone'), audioErr);
        else if (videoErr) this.fail(mediaErrorKey(videoErr, 'camera'), videoErr);
      }
    }
    if (!this.audio) this.micOn = false;
    if (!this.video) this.cameraOn = false;
    if (this.audio) this.audio.enabled = this.micOn;
    this.changed();
  }

  private async tryAlone(kind: 'audio' | 'video'): Promise<unknown> {
    try {
      const s = await navigator.mediaDevices.getUserMedia(
        kind === 'audio' ? { audio: audioConstraints(this.prefs.microphone) } : { video: videoConstraints(this.prefs.camera) },
      );
      this.adopt(s);
      return null;
    } catch (err) {
      return err;
    }
  }

  private fail(key: Key, err: unknown): void {
    this.problem = key;
    this.problemDetail = err instanceof Error || err instanceof DOMException ? err.name : String(err);
  }

  private adopt(s: MediaStream): void {
    if (this.stopped) {
      for (const tr of s.getTracks()) tr.stop();
      return;
    }
    const a = s.getAudioTracks()[0];
    const v = s.getVideoTracks()[0];
    if (a) {
      this.audio?.stop();
      this.audio = a;
    }
    if (v) {
      this.video?.stop();
      this.video = v;
    }
  }

  setMicOn(on: boolean): void {
    this.micOn = on && this.audio !== null;
    if (this.audio) this.audio.enabled = this.micOn;
    this.changed();
  }

  /** Starts the camera (again); returns the new track, or null when it failed. */
  async startCamera(deviceId = this.prefs.camera, pick: Pick = 'ideal'): Promise<MediaStreamTrack | null> {
    try {
      // The old camera track goes first: some cameras cannot be opened twice.
      this.video?.stop();
      const s = await navigator.mediaDevices.getUserMedia({ video: videoConstraints(deviceId, pick) });
      this.adopt(s);
      this.cameraOn = this.video !== null;
      if (this.problem === 'device.cameraFailed' || this.problem === 'device.notFound') this.problem = null;
    } catch (err) {
      this.fail(mediaErrorKey(err, 'camera'), err);
      this.cameraOn = false;
    }
    this.changed();
    return this.cameraOn ? this.video : null;
  }

  /** Stops the camera track, so the camera light goes off. */
  stopCamera(): void {
    this.video?.stop();
    this.video = null;
    this.cameraOn = false;
    this.changed();
  }

  /** Opens another microphone, keeping the muted state; returns the new track. */
  async switchMicrophone(deviceId: string): Promise<MediaStreamTrack | null> {
    this.prefs = { ...this.prefs, microphone: deviceId };
    try {
      const s = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(deviceId, 'exact') });
      this.adopt(s);
      if (this.audio) this.audio.enabled = this.micOn;
    } catch (err) {
      this.fail(mediaErrorKey(err, 'microphone'), err);
    }
    this.changed();
    return this.audio;
  }

  /** Switches the camera; when it is off, only remembers the choice. */
  async switchCamera(deviceId: string): Promise<MediaStreamTrack | null> {
    this.prefs = { ...this.prefs, camera: deviceId };
    if (!this.cameraOn) return null;
    return this.startCamera(deviceId, 'exact');
  }

  /** Remembers the chosen speaker; the UI routes audio elements to it. */
  setSpeaker(deviceId: string): void {
    this.prefs = { ...this.prefs, speaker: deviceId };
    this.changed();
  }

  /** The device id a track actually uses (for the selects). */
  static deviceOf(track: MediaStreamTrack | null): string {
    return track?.getSettings().deviceId ?? '';
  }

  stop(): void {
    this.stopped = true;
    this.audio?.stop();
    this.video?.stop();
    this.audio = null;
    this.video = null;
    this.changed();
  }
}

let sharedContext: AudioContext | null = null;

/** One AudioContext for all meters; resumed on the first click or key where autoplay rules demand it. */
function audioContext(): AudioContext {
  if (!sharedContext) {
    sharedContext = new AudioContext();
    const resume = (): void => {
      void sharedContext?.resume();
    };
    if (sharedContext.state === 'suspended') {
      window.addEventListener('pointerdown', resume, { once: true });
      window.addEventListener('keydown', resume, { once: true });
    }
  }
  return sharedContext;
}

/** Measures the loudness of a microphone track, 0 (silent) to 1 (loud). */
export class LevelMeter {
  private source: MediaStreamAudioSourceNode;
  private analyser: AnalyserNode;
  private buf: Float32Array<ArrayBuffer>;

  constructor(track: MediaStreamTrack) {
    const ctx = audioContext();
    this.source = ctx.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 1024;
    this.buf = new Float32Array(this.analyser.fftSize);
    // Not connected to the destination: we only measure, we never play ourselves.
    this.source.connect(this.analyser);
  }

  level(): number {
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const x of this.buf) sum += x * x;
    const rms = Math.sqrt(sum / this.buf.length);
    // -60 dBFS (quiet room) .. 0 dBFS mapped to 0..1: closer to how loud it feels.
    const db = 20 * Math.log10(rms || 1e-9);
    return Math.min(1, Math.max(0, (db + 60) / 60));
  }

  close(): void {
    this.source.disconnect();
  }
}

/** A level at which we call it speech, for the local speaking highlight. */
export const SPEAKING_LEVEL = 0.4;
