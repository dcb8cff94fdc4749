// The two peer connections of docs/protocol.md. "publish" carries our
// microphone, camera and screen; we make every offer on it. "subscribe" carries
// everyone else; the server makes every offer on it. Only one side ever offers
// on each connection, so there is no glare to resolve.

import type { ClientMessage, PcName, PublishTrack, Source, SubscribeTrack } from '../protocol';
import { preferVP8, type FrameCrypto } from './framecrypto';
import { SerialQueue } from './queue';
import { cameraInit, dropUnusableSimulcast, fitSingleLayer, screenInit, setActive, tuneScreen } from './simulcast';

export interface EngineDeps {
  send(msg: ClientMessage): void;
  /** After each subscribe offer: its m-lines and the receiving track of each. */
  remote(tracks: SubscribeTrack[], byMid: Record<string, MediaStreamTrack>): void;
  /** A peer connection failed for good. */
  failed(pc: PcName): void;
}

/** Numbers for the status of a connection and for tests. */
export interface EngineStats {
  audio: { packetsReceived: number; totalSamplesReceived: number };
  video: { packetsReceived: number; framesDecoded: number };
  sent: { audioPackets: number; videoPackets: number; videoWidth: number };
  /** Addresses of the remote ICE candidates on every connection (the server's, or the peer's on a direct call). */
  remoteAddresses: string[];
}

export const emptyStats = (): EngineStats => ({
  audio: { packetsReceived: 0, totalSamplesReceived: 0 },
  video: { packetsReceived: 0, framesDecoded: 0 },
  sent: { audioPackets: 0, videoPackets: 0, videoWidth: 0 },
  remoteAddresses: [],
});

/** Adds one connection's counters to `out` (remote candidate addresses to `addresses`). */
export async function addStats(out: EngineStats, addresses: Set<string>, pc: RTCPeerConnection): Promise<void> {
  (await pc.getStats()).forEach((r: Record<string, unknown>) => {
    const n = (k: string): number => (typeof r[k] === 'number' ? (r[k] as number) : 0);
    if (r.type === 'remote-candidate') {
      const a = typeof r.address === 'string' ? r.address : typeof r.ip === 'string' ? r.ip : '';
      if (a) addresses.add(a);
    } else if (r.type === 'inbound-rtp') {
      if (r.kind === 'audio') {
        out.audio.packetsReceived += n('packetsReceived');
        out.audio.totalSamplesReceived += n('totalSamplesReceived');
      } else if (r.kind === 'video') {
        out.video.packetsReceived += n('packetsReceived');
        out.video.framesDecoded += n('framesDecoded');
      }
    } else if (r.type === 'outbound-rtp') {
      if (r.kind === 'audio') out.sent.audioPackets += n('packetsSent');
      else if (r.kind === 'video') {
        out.sent.videoPackets += n('packetsSent');
        out.sent.videoWidth = Math.max(out.sent.videoWidth, n('frameWidth'));
      }
    }
  });
}

/** Received packets and decoded frames of one m-line. */
export type Flow = Record<string, { packets: number; frames: number }>;

const ANSWER_TIMEOUT_MS = 15000;

export class Engine {
  private publish: RTCPeerConnection | null = null;
  private subscribe: RTCPeerConnection | null = null;
  /** Which source each of our sending transceivers carries. */
  private sources = new Map<RTCRtpTransceiver, Source>();
  private negotiation = new SerialQueue();
  /** The outstanding publish offer's answer; resolved with null when a restart offer replaces it. */
  private pendingAnswer: { resolve(sdp: string | null): void; reject(err: Error): void } | null = null;
  private offered = false;
  private earlyCandidates: RTCIceCandidateInit[] = [];
  private received: Record<string, MediaStreamTrack> = {};
  private closed = false;

  constructor(
    private readonly iceServers: RTCIceServer[],
    private readonly deps: EngineDeps,
    /** Encrypts what we send and decrypts what we receive; null when this browser cannot. */
    private readonly frames: FrameCrypto | null = null,
  ) {}

  private newPC(name: PcName): RTCPeerConnection {
    // Only the servers from `joined`: never a third party's STUN by default.
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      ...(this.frames?.pcConfig() ?? {}),
    });
    pc.onicecandidate = (ev) => {
      const c = ev.candidate;
      // The end-of-candidates marker may be omitted (protocol.md).
      if (!c || c.candidate === '') return;
      const init = c.toJSON();
      if (name === 'publish' && !this.offered) this.earlyCandidates.push(init);
      else this.deps.send({ type: 'candidate', pc: name, candidate: init });
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && !this.closed) this.deps.failed(name);
    };
    return pc;
  }

  /** A sending m-line, encrypted end to end when this browser can. */
  private addSender(pc: RTCPeerConnection, kind: 'audio' | 'video', track: MediaStreamTrack | null, source: Source): RTCRtpTransceiver {
    // The camera as simulcast, a screen sharp and slow (media/simulcast.ts).
    const init = source === 'camera' ? cameraInit() : source === 'screen' ? screenInit() : {};
    const tr = pc.addTransceiver(kind, { direction: 'sendonly', ...init });
    if (source === 'screen') void tuneScreen(tr.sender);
    if (kind === 'video') preferVP8(tr);
    this.frames?.encryptSender(tr.sender, kind);
    if (track) void tr.sender.replaceTrack(track).catch(() => undefined);
    this.sources.set(tr, source);
    return tr;
  }

  /**
   * Creates the publish connection with a microphone and a camera m-line and
   * offers it. Both start empty or not as given: what is sent when is the
   * caller's choice (replace), so a switch needs no new offer.
   */
  startPublish(audio: MediaStreamTrack | null = null, video: MediaStreamTrack | null = null): Promise<void> {
    const pc = this.newPC('publish');
    this.publish = pc;
    this.addSender(pc, 'audio', audio, 'microphone');
    this.addSender(pc, 'video', video, 'camera');
    return this.negotiate();
  }

  /** Puts a new track (or none) on the microphone, camera or screen m-line without renegotiating. */
  async replace(source: 'microphone' | 'camera' | 'screen', track: MediaStreamTrack | null): Promise<void> {
    for (const [tr, s] of this.sources) {
      if (s !== source) continue;
      if (tr.sender.track !== track) await tr.sender.replaceTrack(track);
      if (source !== 'microphone') await setActive(tr.sender, track !== null);
    }
  }

  /** Adds a screen m-line (with the track, or empty for now) and offers again. */
  async startScreen(track: MediaStreamTrack | null): Promise<void> {
    const pc = this.publish;
    if (!pc) throw new Error('not publishing');
    this.addSender(pc, 'video', track, 'screen');
    await this.negotiate();
  }

  /** Removes the screen m-line and offers again. */
  async stopScreen(): Promise<void> {
    const pc = this.publish;
    if (!pc) return;
    let removed = false;
    for (const [tr, s] of this.sources) {
      if (s !== 'screen') continue;
      this.sources.delete(tr);
      if (pc.signalingState !== 'closed') pc.removeTrack(tr.sender);
      removed = true;
    }
    if (removed) await this.negotiate();
  }

  /** One offer/answer round on the publish connection, never two at once. */
  private negotiate(iceRestart = false): Promise<void> {
    return this.negotiation.run(async () => {
      const pc = this.publish;
      if (!pc || this.closed) return;
      const offer = await pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
      await pc.setLocalDescription(offer);
      const tracks: PublishTrack[] = [];
      for (const [tr, source] of this.sources) {
        if (tr.mid !== null) tracks.push({ mid: tr.mid, source });
      }
      const answered = new Promise<string | null>((resolve, reject) => {
        this.pendingAnswer = { resolve, reject };
        setTimeout(() => reject(new Error('no publish.answer in time')), ANSWER_TIMEOUT_MS);
      });
      this.deps.send({ type: 'publish.offer', sdp: pc.localDescription?.sdp ?? offer.sdp ?? '', tracks });
      if (!this.offered) {
        this.offered = true;
        for (const c of this.earlyCandidates) this.deps.send({ type: 'candidate', pc: 'publish', candidate: c });
        this.earlyCandidates = [];
      }
      const sdp = await answered;
      if (this.closed || sdp === null) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: dropUnusableSimulcast(sdp) });
      for (const [tr, source] of this.sources) {
        if (source === 'camera') await fitSingleLayer(tr.sender);
        // Encodings follow the track; a change refused during the negotiation is made now.
        if (source !== 'microphone') await setActive(tr.sender, tr.sender.track !== null);
      }
    });
  }

  /**
   * Restarts ICE on both server connections (a network change, or back on a
   * new signalling connection): `restart` makes the server send an
   * ICE-restarting subscribe offer; the publish side offers with iceRestart.
   * With `lostOffer`, an offer still waiting for its answer went with the old
   * connection: the restart offer replaces it instead of waiting 15 s.
   */
  restartIce(lostOffer = false): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.subscribe) this.deps.send({ type: 'restart', pc: 'subscribe' });
    if (lostOffer) {
      this.pendingAnswer?.resolve(null);
      this.pendingAnswer = null;
    }
    return this.negotiate(true);
  }

  /** The states of the server connections that exist. */
  connectionStates(): RTCPeerConnectionState[] {
    const out: RTCPeerConnectionState[] = [];
    if (this.publish) out.push(this.publish.connectionState);
    if (this.subscribe) out.push(this.subscribe.connectionState);
    return out;
  }

  /** The server's answer to our latest publish offer. */
  handlePublishAnswer(sdp: string): void {
    const p = this.pendingAnswer;
    this.pendingAnswer = null;
    if (p) p.resolve(sdp);
    else console.warn('plausch: publish.answer without an offer');
  }

  /** The server rejected our offer (bad_sdp): stop waiting for its answer. */
  rejectPendingOffer(reason: string): void {
    const p = this.pendingAnswer;
    this.pendingAnswer = null;
    p?.reject(new Error(reason));
  }

  /** Answers a subscribe offer, creating the connection on the first one. */
  async handleSubscribeOffer(sdp: string, tracks: SubscribeTrack[]): Promise<void> {
    if (this.closed) return;
    let pc = this.subscribe;
    if (!pc) {
      pc = this.newPC('subscribe');
      this.subscribe = pc;
      pc.ontrack = (ev) => {
        const mid = ev.transceiver.mid;
        if (mid !== null) this.received[mid] = ev.track;
        this.decrypt(ev.transceiver);
      };
    }
    await pc.setRemoteDescription({ type: 'offer', sdp });
    for (const tr of pc.getTransceivers()) this.decrypt(tr);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.deps.send({ type: 'subscribe.answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
    // Map each listed mid to its receiver's track. A reused m-line keeps its
    // receiver, so this also covers m-lines that fire no new `track` event.
    const byMid: Record<string, MediaStreamTrack> = {};
    const listed = new Set(tracks.map((t) => t.mid));
    for (const tr of pc.getTransceivers()) {
      if (tr.mid !== null && listed.has(tr.mid)) byMid[tr.mid] = this.received[tr.mid] ?? tr.receiver.track;
    }
    this.deps.remote(tracks, byMid);
  }

  /** Receivers decrypt from the start; each is named by its mid. */
  private decrypt(tr: RTCRtpTransceiver): void {
    const kind = tr.receiver.track.kind;
    if (this.frames && tr.mid !== null && (kind === 'audio' || kind === 'video')) this.frames.decryptReceiver(tr.receiver, kind, `sub:${tr.mid}`);
  }

  /** Received packets and decoded frames per subscribe m-line. */
  async flow(): Promise<Flow> {
    const out: Flow = {};
    if (!this.subscribe) return out;
    (await this.subscribe.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type !== 'inbound-rtp' || typeof r.mid !== 'string') return;
      out[r.mid] = {
        packets: typeof r.packetsReceived === 'number' ? r.packetsReceived : 0,
        frames: typeof r.framesDecoded === 'number' ? r.framesDecoded : 0,
      };
    });
    return out;
  }

  /** Adds a candidate we were given (the server normally puts its own in the SDP). */
  async addCandidate(pcName: PcName, c: RTCIceCandidateInit): Promise<void> {
    const pc = pcName === 'publish' ? this.publish : this.subscribe;
    if (pc?.remoteDescription) await pc.addIceCandidate(c);
  }

  /** Counters of both connections (remote addresses into `addresses`). */
  async stats(out: EngineStats, addresses: Set<string>): Promise<void> {
    if (this.subscribe) await addStats(out, addresses, this.subscribe);
    if (this.publish) await addStats(out, addresses, this.publish);
  }

  /** The publish and subscribe connections that exist. */
  connections(): RTCPeerConnection[] {
    return [this.publish, this.subscribe].filter((pc): pc is RTCPeerConnection => pc !== null);
  }

  close(): void {
    this.closed = true;
    this.rejectPendingOffer('closed');
    this.publish?.close();
    this.subscribe?.close();
    this.publish = null;
    this.subscribe = null;
  }
}
