// A direct (peer-to-peer) connection between the two participants of a
// meeting, signalled through sealed `relay` messages (p2psignal.ts). Only one
// side ever offers: the one with the smaller participant id. Its offer has
// six m-lines in a fixed order, the offerer's microphone, camera and screen
// and then the answerer's, so nothing is ever renegotiated: a track that
// starts or stops is a replaceTrack. Media frames are end-to-end encrypted
// by the same frame worker as on the server path.

import { SerialQueue } from './queue';
import { preferVP8, type FrameCrypto } from './framecrypto';
import { P2PAssembler, p2pAad, sealP2P, type Envelope, type P2PMessage } from './p2psignal';

export type LocalSource = 'microphone' | 'camera' | 'screen';
export const SOURCES: readonly LocalSource[] = ['microphone', 'camera', 'screen'];
const KIND = { microphone: 'audio', camera: 'video', screen: 'video' } as const;

/** Without a connection after this long, the direct path counts as failed. */
export const CONNECT_TIMEOUT_MS = 10000;
/** The answerer asks for an offer when none came this long after it started. */
const HELLO_AFTER_MS = 1500;

export interface DirectDeps {
  room: string;
  selfId: string;
  peerId: string;
  iceServers: RTCIceServer[];
  frames: FrameCrypto | null;
  pairwise(): Promise<CryptoKey | null>;
  relay(data: string): void;
  changed(): void;
}

export type DirectState = 'connecting' | 'connected' | 'failed' | 'closed';

/** Receive counters per source of the peer. */
export type Inbound = Record<LocalSource, { packets: number; frames: number }>;

export class Direct {
  readonly offerer: boolean;
  readonly session = 1 + Math.floor(Math.random() * 0x7ffffffe);
  state: DirectState = 'connecting';
  /** The peer says our media reaches it directly / through the server. */
  peerDirectOk = false;
  peerSfuOk = false;
  /** We told the peer so. */
  sentDirectOk = false;
  sentSfuOk = false;
  /** The peer shares its screen here (the server does not know: it carries nothing). */
  peerScreen = false;
  readonly remote: Partial<Record<LocalSource, MediaStreamTrack>> = {};
  private pc: RTCPeerConnection | null = null;
  private remoteSession: number | null = null;
  private n = 0;
  private readonly sends = new SerialQueue();
  private readonly steps = new SerialQueue();
  private readonly assembler = new P2PAssembler();
  private early: RTCIceCandidateInit[] = [];
  private senders: Partial<Record<LocalSource, RTCRtpSender>> = {};
  private micReceiver: RTCRtpReceiver | null = null;
  private mids: Record<string, LocalSource> = {};
  private timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    private readonly deps: DirectDeps,
    private readonly local: Record<LocalSource, MediaStreamTrack | null>,
  ) {
    this.offerer = deps.selfId < deps.peerId;
  }

  get peerId(): string {
    return this.deps.peerId;
  }

  get open(): boolean {
    return this.state === 'connecting' || this.state === 'connected';
  }

  start(): void {
    this.timers.push(
      setTimeout(() => {
        if (this.state === 'connecting') this.fail();
      }, CONNECT_TIMEOUT_MS),
    );
    if (this.offerer) void this.steps.run(() => this.offer());
    else {
      this.timers.push(
        setTimeout(() => {
          if (!this.pc && this.open) this.send({ t: 'hello' });
        }, HELLO_AFTER_MS),
      );
    }
  }

  private fail(): void {
    if (!this.open) return;
    this.state = 'failed';
    this.pc?.close();
    this.deps.changed();
  }

  /** Sends one message, in order, sealed for the peer. */
  send(msg: P2PMessage): void {
    if (msg.t === 'direct-ok') this.sentDirectOk = true;
    if (msg.t === 'sfu-ok') this.sentSfuOk = true;
    void this.sends.run(async () => {
      const key = await this.deps.pairwise();
      if (!key) return;
      const n = ++this.n;
      const d = this.deps;
      for (const part of await sealP2P(key, p2pAad(d.room, d.selfId, d.peerId, this.session, n), this.session, n, msg)) d.relay(part);
    });
  }

  private newPC(): RTCPeerConnection {
    this.pc?.close();
    const pc = new RTCPeerConnection({
      iceServers: this.deps.iceServers,
      bundlePolicy: 'max-bundle',
      rtcpMuxPolicy: 'require',
      ...(this.deps.frames?.pcConfig() ?? {}),
    });
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate) this.send({ t: 'candidate', c: ev.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc || !this.open) return;
      if (pc.connectionState === 'connected') this.state = 'connected';
      else if (pc.connectionState === 'failed') this.fail();
      this.deps.changed();
    };
    this.pc = pc;
    this.mids = {};
    this.senders = {};
    return pc;
  }

  /** Wires transceiver i of the fixed six: ours to send, or the peer's to receive. */
  private wire(tr: RTCRtpTransceiver, i: number): void {
    const source = SOURCES[i % 3]!;
    const kind = KIND[source];
    const mine = this.offerer ? i < 3 : i >= 3;
    tr.direction = mine ? 'sendonly' : 'recvonly';
    if (kind === 'video') preferVP8(tr);
    const f = this.deps.frames;
    if (mine) {
      this.senders[source] = tr.sender;
      f?.encryptSender(tr.sender, kind);
      void tr.sender.replaceTrack(this.local[source]).catch(() => undefined);
    } else {
      f?.decryptReceiver(tr.receiver, kind, `p2p:${source}`);
      this.remote[source] = tr.receiver.track;
      if (source === 'microphone') this.micReceiver = tr.receiver;
    }
  }

  private async offer(): Promise<void> {
    if (!this.open) return;
    const pc = this.newPC();
    this.remoteSession = null;
    for (let i = 0; i < 6; i++) this.wire(pc.addTransceiver(KIND[SOURCES[i % 3]!]), i);
    await pc.setLocalDescription(await pc.createOffer());
    this.learnMids(pc);
    this.send({ t: 'offer', sdp: pc.localDescription?.sdp ?? '' });
    if (this.local.screen) this.send({ t: 'screen', on: true });
    this.deps.changed();
  }

  private learnMids(pc: RTCPeerConnection): void {
    pc.getTransceivers().forEach((tr, i) => {
      if (tr.mid !== null && i < 6) this.mids[tr.mid] = SOURCES[i % 3]!;
    });
  }

  private async answer(sdp: string, from: number): Promise<void> {
    if (!this.open) return;
    if (this.pc && this.remoteSession === from) {
      // The offer again (the peer asked for it twice): the same answer again.
      if (this.pc.localDescription) this.send({ t: 'answer', sdp: this.pc.localDescription.sdp });
      return;
    }
    const pc = this.newPC();
    this.remoteSession = from;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const trs = pc.getTransceivers();
    if (trs.length < 6) {
      this.fail();
      return;
    }
    trs.slice(0, 6).forEach((tr, i) => this.wire(tr, i));
    await pc.setLocalDescription(await pc.createAnswer());
    this.learnMids(pc);
    this.send({ t: 'answer', sdp: pc.localDescription?.sdp ?? '' });
    if (this.local.screen) this.send({ t: 'screen', on: true });
    await this.flush();
    this.deps.changed();
  }

  private async flush(): Promise<void> {
    const pc = this.pc;
    if (!pc?.remoteDescription) return;
    const early = this.early;
    this.early = [];
    for (const c of early) await pc.addIceCandidate(c).catch(() => undefined);
  }

  /** A `relay` part from the peer. */
  handleEnvelope(env: Envelope): void {
    void this.steps.run(async () => {
      const key = await this.deps.pairwise();
      if (!key || this.state === 'closed') return;
      const d = this.deps;
      const msg = await this.assembler.add(env, key, p2pAad(d.room, d.peerId, d.selfId, env.s, env.n));
      if (msg) await this.handle(msg, env.s);
    });
  }

  private async handle(msg: P2PMessage, from: number): Promise<void> {
    switch (msg.t) {
      case 'hello':
        // The answerer (re)started: offer again unless we already talk to that very session.
        if (this.offerer && this.open && this.remoteSession !== from) {
          if (this.remoteSession === null && this.pc?.localDescription) this.send({ t: 'offer', sdp: this.pc.localDescription.sdp });
          else await this.offer();
        }
        return;
      case 'offer':
        if (!this.offerer) await this.answer(msg.sdp, from);
        return;
      case 'answer': {
        const pc = this.pc;
        if (!this.offerer || !pc || pc.signalingState !== 'have-local-offer') return;
        this.remoteSession = from;
        await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
        await this.flush();
        return;
      }
      case 'candidate':
        if (this.remoteSession !== null && from !== this.remoteSession) return;
        if (this.pc?.remoteDescription) await this.pc.addIceCandidate(msg.c).catch(() => undefined);
        else this.early.push(msg.c);
        return;
      case 'screen':
        this.peerScreen = msg.on;
        this.deps.changed();
        return;
      case 'direct-ok':
        this.peerDirectOk = true;
        this.deps.changed();
        return;
      case 'sfu-ok':
        this.peerSfuOk = true;
        this.deps.changed();
        return;
      case 'bye':
        this.close(false);
        this.deps.changed();
        return;
    }
  }

  /** Our microphone, camera or screen changed (null: nothing). */
  setTrack(source: LocalSource, track: MediaStreamTrack | null): void {
    const was = this.local[source];
    this.local[source] = track;
    const s = this.senders[source];
    if (s) void s.replaceTrack(track).catch(() => undefined);
    if (source === 'screen' && !was !== !track && this.pc?.localDescription) this.send({ t: 'screen', on: track !== null });
  }

  /** Packets and decoded frames received per source of the peer. */
  async inbound(): Promise<Inbound> {
    const out: Inbound = { microphone: { packets: 0, frames: 0 }, camera: { packets: 0, frames: 0 }, screen: { packets: 0, frames: 0 } };
    const pc = this.pc;
    if (!pc || !this.open) return out;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type !== 'inbound-rtp' || typeof r.mid !== 'string') return;
      const src = this.mids[r.mid];
      if (!src) return;
      out[src].packets += typeof r.packetsReceived === 'number' ? r.packetsReceived : 0;
      out[src].frames += typeof r.framesDecoded === 'number' ? r.framesDecoded : 0;
    });
    return out;
  }

  /** The peer's audio level (0..1) from the RFC 6464 header extension, when known. */
  audioLevel(): number | null {
    const r = this.micReceiver;
    if (!r || !this.open || typeof r.getSynchronizationSources !== 'function') return null;
    return r.getSynchronizationSources()[0]?.audioLevel ?? null;
  }

  /** The raw connection, for the statistics. */
  connection(): RTCPeerConnection | null {
    return this.open ? this.pc : null;
  }

  close(sayBye = true): void {
    if (this.state === 'closed') return;
    if (sayBye) this.send({ t: 'bye' });
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.pc?.close();
    this.pc = null;
  }
}
