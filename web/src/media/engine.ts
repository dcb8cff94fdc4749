// The two peer connections of docs/protocol.md. "publish" carries our
// microphone, camera and screen; we make every offer on it. "subscribe" carries
// everyone else; the server makes every offer on it. Only one side ever offers
// on each connection, so there is no glare to resolve.

import type { ClientMessage, PcName, PublishTrack, Source, SubscribeTrack } from '../protocol';
import { SerialQueue } from './queue';

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
  sent: { audioPackets: number; videoPackets: number };
  /** Addresses of the server's ICE candidates (remote candidates) on both connections. */
  remoteAddresses: string[];
}

const ANSWER_TIMEOUT_MS = 15000;

export class Engine {
  private publish: RTCPeerConnection | null = null;
  private subscribe: RTCPeerConnection | null = null;
  /** Which source each of our sending transceivers carries. */
  private sources = new Map<RTCRtpTransceiver, Source>();
  private negotiation = new SerialQueue();
  private pendingAnswer: { resolve(sdp: string): void; reject(err: Error): void } | null = null;
  private offered = false;
  private earlyCandidates: RTCIceCandidateInit[] = [];
  private received: Record<string, MediaStreamTrack> = {};
  private closed = false;

  constructor(
    private readonly iceServers: RTCIceServer[],
    private readonly deps: EngineDeps,
  ) {}

  private newPC(name: PcName): RTCPeerConnection {
    // Only the servers from `joined`: never a third party's STUN by default.
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
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

  /** Creates the publish connection with a microphone and a camera m-line (either may start empty) and offers it. */
  startPublish(audio: MediaStreamTrack | null, video: MediaStreamTrack | null): Promise<void> {
    const pc = this.newPC('publish');
    this.publish = pc;
    // Always both m-lines, even without a track, so switching the camera on
    // later is a replaceTrack and needs no new offer.
    const a = pc.addTransceiver(audio ?? 'audio', { direction: 'sendonly' });
    const v = pc.addTransceiver(video ?? 'video', { direction: 'sendonly' });
    this.sources.set(a, 'microphone');
    this.sources.set(v, 'camera');
    return this.negotiate();
  }

  /** Puts a new track (or none) on the microphone or camera m-line without renegotiating. */
  async replace(source: 'microphone' | 'camera', track: MediaStreamTrack | null): Promise<void> {
    for (const [tr, s] of this.sources) {
      if (s === source) await tr.sender.replaceTrack(track);
    }
  }

  /** Adds a screen m-line and offers again. */
  async startScreen(track: MediaStreamTrack): Promise<void> {
    const pc = this.publish;
    if (!pc) throw new Error('not publishing');
    const tr = pc.addTransceiver(track, { direction: 'sendonly' });
    this.sources.set(tr, 'screen');
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
  private negotiate(): Promise<void> {
    return this.negotiation.run(async () => {
      const pc = this.publish;
      if (!pc || this.closed) return;
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      const tracks: PublishTrack[] = [];
      for (const [tr, source] of this.sources) {
        if (tr.mid !== null) tracks.push({ mid: tr.mid, source });
      }
      const answered = new Promise<string>((resolve, reject) => {
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
      if (this.closed) return;
      await pc.setRemoteDescription({ type: 'answer', sdp });
    });
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
      };
    }
    await pc.setRemoteDescription({ type: 'offer', sdp });
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

  /** Adds a candidate we were given (the server normally puts its own in the SDP). */
  async addCandidate(pcName: PcName, c: RTCIceCandidateInit): Promise<void> {
    const pc = pcName === 'publish' ? this.publish : this.subscribe;
    if (pc?.remoteDescription) await pc.addIceCandidate(c);
  }

  async stats(): Promise<EngineStats> {
    const out: EngineStats = {
      audio: { packetsReceived: 0, totalSamplesReceived: 0 },
      video: { packetsReceived: 0, framesDecoded: 0 },
      sent: { audioPackets: 0, videoPackets: 0 },
      remoteAddresses: [],
    };
    const addresses = new Set<string>();
    const remote = (r: Record<string, unknown>): void => {
      if (r.type !== 'remote-candidate') return;
      const a = typeof r.address === 'string' ? r.address : typeof r.ip === 'string' ? r.ip : '';
      if (a) addresses.add(a);
    };
    if (this.subscribe) {
      (await this.subscribe.getStats()).forEach((r: Record<string, unknown>) => {
        remote(r);
        if (r.type !== 'inbound-rtp') return;
        const n = (k: string): number => (typeof r[k] === 'number' ? (r[k] as number) : 0);
        if (r.kind === 'audio') {
          out.audio.packetsReceived += n('packetsReceived');
          out.audio.totalSamplesReceived += n('totalSamplesReceived');
        } else if (r.kind === 'video') {
          out.video.packetsReceived += n('packetsReceived');
          out.video.framesDecoded += n('framesDecoded');
        }
      });
    }
    if (this.publish) {
      (await this.publish.getStats()).forEach((r: Record<string, unknown>) => {
        remote(r);
        if (r.type !== 'outbound-rtp') return;
        const p = typeof r.packetsSent === 'number' ? r.packetsSent : 0;
        if (r.kind === 'audio') out.sent.audioPackets += p;
        else if (r.kind === 'video') out.sent.videoPackets += p;
      });
    }
    out.remoteAddresses = [...addresses].sort();
    return out;
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
