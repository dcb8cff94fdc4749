// How our media travels, and its end-to-end encryption. One MediaSession per
// call owns the server connections (Engine), the direct connection of a call
// for two (Direct), the frame worker (FrameCrypto) and our media keys
// (MediaKeys), and decides from one place (evaluate) what is sent where and
// which path each of the peer's tracks is shown from.
//
// Switches are make-before-break. To direct: the direct connection comes up
// while the server path still carries media; each side shows the peer's
// direct media once frames arrive, says so (`direct-ok`), and stops sending
// to the server once both have said it. To the server: both send to the
// server again at once, keep the direct connection, show the server's media
// once it arrives (`sfu-ok`), and close the direct connection once both have.

import { MediaKeys } from '../crypto/mediakeys';
import type { WorkerStats } from '../crypto/frames-protocol';
import type { ClientMessage, ParticipantInfo, SubscribeTrack } from '../protocol';
import type { DirectSource, RoomStore } from '../room';
import { Direct, SOURCES, type Inbound, type LocalSource } from './direct';
import { addStats, emptyStats, Engine, type EngineStats, type Flow } from './engine';
import { emptyWorkerStats, FrameCrypto, type FrameSupport } from './framecrypto';
import { parseEnvelope } from './p2psignal';

export interface SessionDeps {
  store: RoomStore<MediaStreamTrack>;
  send(msg: ClientMessage): void;
  relay(to: string, data: string): void;
  pairwise(peer: ParticipantInfo): Promise<CryptoKey | null>;
  /** A server connection failed for good. */
  failed(): void;
}

/** What the tile and the indicator show about one participant's media. */
export type PeerMedia =
  /** Their browser cannot encrypt: what they send is not end-to-end encrypted. */
  | 'plain'
  /** Ours cannot decrypt (this browser cannot do frame encryption). */
  | 'unsupported'
  /** We do not have their key yet. */
  | 'waiting'
  /** Their frames do not decrypt with the keys we hold. */
  | 'failing'
  | 'ok';

/** How long SFU sending waits before it starts (a `media.mode` may follow a join at once). */
const SEND_DELAY_MS = 150;
/** The direct connection is closed at the latest this long after the switch to the server. */
const CLOSE_AFTER_MS = 8000;
const POLL_MS = 250;
/** A receiver that failed within this time and decrypted nothing since counts as failing. */
const FAILING_MS = 1500;
const SPEAKING_LEVEL = 0.03;

function flowing(before: { packets: number; frames: number } | undefined, now: { packets: number; frames: number }, video: boolean): boolean {
  if (!before) return false;
  return video ? now.frames > before.frames : now.packets > before.packets;
}

export class MediaSession {
  readonly frames: FrameCrypto | null;
  readonly keys: MediaKeys | null;
  engine: Engine | null = null;
  direct: Direct | null = null;
  private iceServers: RTCIceServer[] = [];
  private local: Record<LocalSource, MediaStreamTrack | null> = { microphone: null, camera: null, screen: null };
  private sfuSending = false;
  private sendTimer = 0;
  private showDirect = false;
  private directFlowing = false;
  private sfuFlowing = false;
  private sfuSince = 0;
  private lastDirect: Inbound | null = null;
  private lastSfu: Flow = {};
  private pollTimer = 0;
  private polling = false;
  private speakingUntil = 0;
  private lastSig = '';
  private listeners = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly deps: SessionDeps,
    support: FrameSupport,
  ) {
    this.frames = support ? new FrameCrypto(support) : null;
    const frames = this.frames;
    this.keys = frames
      ? new MediaKeys({
          room: () => this.state.room,
          selfId: () => this.state.selfId,
          peers: () => this.state.others,
          relay: deps.relay,
          pairwise: (p) => deps.pairwise(p as ParticipantInfo),
          useSendKey: (kid, m) => frames.setSendKey(kid, m),
          receiveKey: (id, kid, m) => frames.addReceiveKey(id, kid, m),
          changed: () => this.changed(),
        })
      : null;
    frames?.onStats(() => this.changed());
  }

  private get state() {
    return this.deps.store.state;
  }

  /** Whether this browser encrypts its media end to end. */
  get e2ee(): boolean {
    return this.frames !== null;
  }

  onChange = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** After `joined`: the publish connection (sending nothing yet) and our key to everyone. */
  joined(iceServers: RTCIceServer[]): void {
    this.iceServers = iceServers;
    this.engine = new Engine(
      iceServers,
      {
        send: (m) => this.deps.send(m),
        remote: (tracks, byMid) => this.deps.store.dispatch({ type: 'remote', remote: tracks, tracks: byMid }),
        failed: () => this.deps.failed(),
      },
      this.frames,
    );
    // Not awaited: the answer comes through the same message queue.
    this.engine.startPublish().catch((err: unknown) => console.error('plausch: publish', err));
    // Joined again after a lost session while sharing: the screen goes on.
    if (this.local.screen) this.engine.startScreen(null).catch((err: unknown) => console.error('plausch: screen', err));
    void this.keys?.joined();
    this.evaluate();
  }

  // Reconnecting (reconnect.ts)

  /** Back on a new signalling connection, same session: ICE restarts, and our key again to everyone (relays were lost meanwhile). */
  resumed(): void {
    this.engine?.restartIce(true).catch((err: unknown) => console.error('plausch: ICE restart', err));
    // A direct connection that failed while we were away gets another chance.
    if (this.direct?.state === 'failed') {
      this.direct.close(false);
      this.direct = null;
    }
    void this.keys?.joined();
    this.evaluate();
  }

  /** The network changed or media broke: ICE restarts on the server connections. */
  restartIce(): void {
    this.engine?.restartIce().catch((err: unknown) => console.error('plausch: ICE restart', err));
  }

  /** States of the server connections (the direct connection heals itself or falls back). */
  connectionStates(): RTCPeerConnectionState[] {
    return this.engine?.connectionStates() ?? [];
  }

  /** Someone is back after a lost connection: what we sent meanwhile (a new key) may be lost. */
  peerBack(p: ParticipantInfo): void {
    void this.keys?.peerBack(p);
  }

  /** Before joining afresh (the session could not be resumed): no server or direct connection is kept. */
  reset(): void {
    window.clearTimeout(this.sendTimer);
    this.sendTimer = 0;
    this.direct?.close(false);
    this.direct = null;
    this.engine?.close();
    this.engine = null;
    this.sfuSending = false;
    this.showDirect = this.directFlowing = this.sfuFlowing = false;
    this.lastDirect = null;
    this.lastSfu = {};
    this.schedulePoll();
    const store = this.deps.store;
    store.dispatch({ type: 'remote', remote: [], tracks: {} });
    store.dispatch({ type: 'direct', direct: null });
    store.dispatch({ type: 'media.mode', mode: 'sfu' });
  }

  setMode(mode: 'sfu' | 'p2p', peer?: string): void {
    const was = this.state.mode;
    this.deps.store.dispatch({ type: 'media.mode', mode, peer });
    if (mode === 'sfu' && was !== 'sfu') {
      this.sfuFlowing = false;
      this.sfuSince = performance.now();
    }
    this.evaluate();
  }

  peerJoined(p: ParticipantInfo): void {
    void this.keys?.peerJoined(p);
    this.evaluate();
  }

  peerLeft(id: string): void {
    this.frames?.forget(id);
    void this.keys?.peerLeft(id);
    if (this.direct?.peerId === id) {
      this.direct.close(false);
      this.direct = null;
    }
    this.evaluate();
  }

  /** Someone's state changed (e.g. e2ee): receivers learn whether to decrypt. */
  peersChanged(): void {
    this.updateModes();
    this.evaluate();
  }

  private updateModes(remote: SubscribeTrack[] = this.state.remote): void {
    const f = this.frames;
    if (!f) return;
    const s = this.state;
    const e2ee = (id: string): boolean => s.others.find((p) => p.id === id)?.e2ee === true;
    for (const r of remote) f.setMode(`sub:${r.mid}`, e2ee(r.participant) ? 'decrypt' : 'plain');
    const peer = this.direct?.peerId;
    if (peer) for (const src of SOURCES) f.setMode(`p2p:${src}`, e2ee(peer) ? 'decrypt' : 'plain');
  }

  async subscribeOffer(sdp: string, tracks: SubscribeTrack[]): Promise<void> {
    // The worker knows each receiver's sender before its first frame.
    this.updateModes(tracks);
    await this.engine?.handleSubscribeOffer(sdp, tracks);
  }

  /** A `relay` for media: keys or direct-call signalling. False when it is neither. */
  handleRelay(from: ParticipantInfo, data: string): boolean {
    if (this.keys?.handleRelay(from, data)) return true;
    const env = parseEnvelope(data);
    if (!env) return false;
    // An offer may come before we have seen `media.mode` ourselves.
    if (!this.direct && this.state.mode === 'p2p' && this.state.modePeer === from.id) this.evaluate();
    if (this.direct?.peerId === from.id) this.direct.handleEnvelope(env);
    return true;
  }

  // Our own tracks

  /** Our microphone, camera or screen is now this track (null: none). */
  async setLocal(source: LocalSource, track: MediaStreamTrack | null): Promise<void> {
    this.local[source] = track;
    this.direct?.setTrack(source, track);
    if (source === 'screen' && this.engine) {
      if (track) await this.engine.startScreen(this.sfuSending ? track : null);
      else await this.engine.stopScreen();
      return;
    }
    await this.engine?.replace(source, this.sfuSending ? track : null);
  }

  private applySending(on: boolean): void {
    this.sfuSending = on;
    const e = this.engine;
    if (!e) return;
    for (const src of SOURCES) void e.replace(src, on ? this.local[src] : null).catch(() => undefined);
  }

  // The decision

  private evaluate(): void {
    if (this.closed || !this.engine) return;
    const s = this.state;
    const peer = s.mode === 'p2p' ? s.others.find((p) => p.id === s.modePeer) : undefined;
    const self = s.selfId;

    // The direct connection: one while the server says p2p; gone with its peer.
    let d = this.direct;
    if (d && (!s.others.some((p) => p.id === d!.peerId) || d.state === 'closed' || (peer && peer.id !== d.peerId))) {
      d.close(d.state !== 'closed');
      d = this.direct = null;
    }
    if (!d && peer && self) {
      d = this.direct = new Direct(
        {
          room: s.room,
          selfId: self,
          peerId: peer.id,
          iceServers: this.iceServers,
          frames: this.frames,
          pairwise: () => this.deps.pairwise(peer),
          relay: (data) => this.deps.relay(peer.id, data),
          changed: () => this.evaluate(),
        },
        { ...this.local },
      );
      this.directFlowing = false;
      this.lastDirect = null;
      this.updateModes();
      d.start();
    }

    const connected = d?.state === 'connected';
    if (d && connected && this.directFlowing && !d.sentDirectOk) d.send({ t: 'direct-ok' });
    if (d && s.mode === 'sfu' && this.sfuFlowing && !d.sentSfuOk) d.send({ t: 'sfu-ok' });

    // Which path the peer's media is shown from.
    let show: boolean;
    if (!d || !connected || !this.directFlowing) show = false;
    else if (s.mode === 'p2p') show = true;
    else show = this.showDirect && !this.sfuFlowing;
    this.showDirect = show;

    // What we send to the server.
    let want = this.sfuSending;
    if (s.others.length === 0) want = false;
    else if (s.mode === 'sfu' || !d || d.state === 'failed') want = true;
    else if (connected && this.directFlowing && d.peerDirectOk) want = false;
    if (!want) {
      window.clearTimeout(this.sendTimer);
      this.sendTimer = 0;
      if (this.sfuSending) this.applySending(false);
    } else if (!this.sfuSending && !this.sendTimer) {
      this.sendTimer = window.setTimeout(() => {
        this.sendTimer = 0;
        if (!this.closed) this.applySending(true);
        this.evaluate();
      }, SEND_DELAY_MS);
    }

    // Back on the server: close the direct connection once both receive there.
    if (d && s.mode === 'sfu') {
      const done = (d.sentSfuOk && d.peerSfuOk) || performance.now() - this.sfuSince > CLOSE_AFTER_MS || d.state === 'failed';
      if (done) {
        d.close(d.state !== 'failed');
        this.direct = null;
        this.showDirect = false;
      }
    }

    this.publishView();
    this.schedulePoll();
    const sig = `${this.showDirect}|${this.sfuSending}|${d?.state ?? '-'}|${s.mode}`;
    if (sig !== this.lastSig) {
      this.lastSig = sig;
      this.changed();
    }
  }

  private publishView(): void {
    const s = this.state;
    const d = this.direct;
    const next =
      this.showDirect && d
        ? { peer: d.peerId, tracks: { ...d.remote } as Partial<Record<DirectSource, MediaStreamTrack>>, speaking: performance.now() < this.speakingUntil, screen: d.peerScreen }
        : null;
    const cur = s.direct;
    const same =
      cur === next ||
      (cur !== null &&
        next !== null &&
        cur.peer === next.peer &&
        cur.speaking === next.speaking &&
        cur.screen === next.screen &&
        SOURCES.every((k) => cur.tracks[k] === next.tracks[k]));
    if (!same) this.deps.store.dispatch({ type: 'direct', direct: next });
  }

  private schedulePoll(): void {
    if (this.direct && !this.pollTimer) this.pollTimer = window.setInterval(() => void this.poll(), POLL_MS);
    if (!this.direct && this.pollTimer) {
      window.clearInterval(this.pollTimer);
      this.pollTimer = 0;
    }
  }

  /** Measures what arrives on each path, for the switches and the peer's speaking. */
  private async poll(): Promise<void> {
    const d = this.direct;
    if (!d || this.polling || !this.engine) return;
    this.polling = true;
    try {
      const peer = this.state.others.find((p) => p.id === d.peerId);
      const video = peer?.video === true;
      const direct = await d.inbound();
      if (d.state === 'connected' && this.lastDirect && !this.directFlowing) {
        const expectNothing = !peer?.audio && !video;
        this.directFlowing = expectNothing || flowing(this.lastDirect.camera, direct.camera, true) || (!video && flowing(this.lastDirect.microphone, direct.microphone, false));
      }
      this.lastDirect = direct;
      const sfu = await this.engine.flow();
      if (this.state.mode === 'sfu' && !this.sfuFlowing) {
        const mids = this.state.remote.filter((r) => r.participant === d.peerId && (video ? r.source === 'camera' : r.source === 'microphone'));
        this.sfuFlowing = mids.some((r) => flowing(this.lastSfu[r.mid], sfu[r.mid] ?? { packets: 0, frames: 0 }, video));
        if (!peer?.audio && !video) this.sfuFlowing = true;
      }
      this.lastSfu = sfu;
      if (this.showDirect) {
        const level = d.audioLevel();
        if (level !== null && level > SPEAKING_LEVEL) this.speakingUntil = performance.now() + 600;
      }
    } finally {
      this.polling = false;
    }
    this.evaluate();
  }

  // What the UI shows

  /** The state of one participant's media here. */
  peerMedia(p: ParticipantInfo, now = Date.now()): PeerMedia {
    if (p.e2ee !== true) return 'plain';
    if (!this.frames || !this.keys) return 'unsupported';
    if (!this.keys.hasKeyOf(p.id)) return 'waiting';
    const s = this.state;
    const ids = s.remote.filter((r) => r.participant === p.id).map((r) => `sub:${r.mid}`);
    if (this.direct?.peerId === p.id) ids.push(...SOURCES.map((x) => `p2p:${x}`));
    const ts = this.frames.latest.transforms;
    const failing = ids.some((id) => {
      const t = ts[id];
      return t !== undefined && now - t.lastFail < FAILING_MS && now - t.lastOk > FAILING_MS;
    });
    return failing ? 'failing' : 'ok';
  }

  /** Whether media with this participant is end-to-end encrypted both ways with keys in place. */
  keysExchanged(p: ParticipantInfo): boolean {
    return !!this.keys && p.e2ee === true && this.keys.hasKeyOf(p.id) && this.keys.theyHaveOurs(p.id);
  }

  /** The path the peer's media takes now: `direct` only while we show it from the direct connection. */
  get path(): 'direct' | 'server' {
    return this.state.direct ? 'direct' : 'server';
  }

  /** For the browser tests: key ids and counters; never key material. */
  async e2eeInfo(): Promise<{
    supported: boolean;
    sendKeyId: number | null;
    receivers: Record<string, number[]>;
    inUse: Record<string, number | null>;
    decryptFailures: number;
    worker: WorkerStats;
    path: 'direct' | 'server';
    sfuSending: boolean;
  }> {
    const w = this.frames ? await this.frames.stats() : emptyWorkerStats();
    const receivers: Record<string, number[]> = {};
    const inUse: Record<string, number | null> = {};
    for (const [id, r] of Object.entries(w.receivers)) {
      receivers[id] = r.kids;
      inUse[id] = r.inUse;
    }
    return {
      supported: this.frames !== null,
      sendKeyId: this.keys?.sendKid ?? null,
      receivers,
      inUse,
      decryptFailures: w.decryptFailures,
      worker: w,
      path: this.path,
      sfuSending: this.sfuSending,
    };
  }

  /** Every connection that carries our media now (for measuring). */
  connections(): RTCPeerConnection[] {
    const out = this.engine?.connections() ?? [];
    const d = this.direct?.connection();
    return d ? [...out, d] : out;
  }

  async stats(): Promise<EngineStats> {
    const out = emptyStats();
    const addresses = new Set<string>();
    await this.engine?.stats(out, addresses);
    const pc = this.direct?.connection();
    if (pc) await addStats(out, addresses, pc);
    out.remoteAddresses = [...addresses].sort();
    return out;
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.sendTimer);
    window.clearInterval(this.pollTimer);
    this.direct?.close();
    this.direct = null;
    this.engine?.close();
    this.keys?.close();
    this.frames?.close();
    this.listeners.clear();
  }
}
