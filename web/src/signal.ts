// The WebSocket client of docs/protocol.md: sends typed messages, checks the
// shape of what arrives, and reports how the socket closed. It knows nothing of
// peer connections or the room.

import {
  LIMITS,
  type ClientMessage,
  type ForwardedVideo,
  type Knock,
  type ParticipantInfo,
  type ParticipantQuality,
  type RoomSettings,
  type ServerMessage,
  type SubscribeTrack,
  type WaitReason,
} from './protocol';

/** How a connection ended, for the "left" page. */
export interface CloseInfo {
  code: number;
  reason: string;
  /** True when we sent `leave` (or closed it ourselves) before it closed. */
  byUs: boolean;
  /** True when the socket never opened. */
  neverOpened: boolean;
}

/**
 * A token bucket with the server's limits. take() reserves one message and
 * returns how long to wait before sending it, so bursts of candidates are
 * spread out instead of earning `rate_limited` errors.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens / this.rate) * 1000);
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';

function participant(v: unknown): ParticipantInfo | null {
  if (!isObj(v) || !isStr(v.id) || !isStr(v.name)) return null;
  // Missing flags are read as "off" rather than rejecting the whole message.
  const p: ParticipantInfo = {
    id: v.id,
    name: v.name,
    audio: v.audio === true,
    video: v.video === true,
    screen: v.screen === true,
    role: v.role === 'moderator' ? 'moderator' : 'participant',
    hasKey: v.hasKey === true,
  };
  if (isStr(v.publicKey)) p.publicKey = v.publicKey;
  if (isBool(v.e2ee)) p.e2ee = v.e2ee;
  if (v.reconnecting === true) p.reconnecting = true;
  return p;
}

function settings(v: unknown): RoomSettings {
  const o = isObj(v) ? v : {};
  const s: RoomSettings = { password: o.password === true, lobby: o.lobby === true };
  // Newer settings only when the server sends them (their defaults differ).
  if (isBool(o.e2eeRequired)) s.e2eeRequired = o.e2eeRequired;
  if (isBool(o.p2p)) s.p2p = o.p2p;
  return s;
}

function waitReason(v: unknown): WaitReason | undefined {
  return v === 'password' || v === 'removed' ? v : undefined;
}

function knock(v: unknown): Knock | null {
  if (!isObj(v) || !isStr(v.id) || !isStr(v.name)) return null;
  const reason = waitReason(v.reason);
  return reason ? { id: v.id, name: v.name, reason } : { id: v.id, name: v.name };
}

function subscribeTrack(v: unknown): SubscribeTrack | null {
  if (!isObj(v) || !isStr(v.mid) || !isStr(v.participant) || !isStr(v.source)) return null;
  const kind = v.kind === 'audio' || v.kind === 'video' ? v.kind : v.source === 'microphone' || v.source === 'screen-audio' ? 'audio' : 'video';
  return { mid: v.mid, participant: v.participant, source: v.source as SubscribeTrack['source'], kind };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const num = (v: unknown): number => (isNum(v) && v >= 0 ? v : 0);

function forwardedVideo(v: unknown): ForwardedVideo | null {
  if (!isObj(v) || !isStr(v.participant) || (v.source !== 'camera' && v.source !== 'screen')) return null;
  const f: ForwardedVideo = { participant: v.participant, source: v.source, layer: num(v.layer) };
  if (isNum(v.width) && isNum(v.height)) {
    f.width = v.width;
    f.height = v.height;
  }
  return f;
}

function quality(v: unknown): ParticipantQuality | null {
  if (!isObj(v) || !isStr(v.id)) return null;
  const level = v.level === 'good' || v.level === 'fair' || v.level === 'poor' ? v.level : null;
  if (!level) return null;
  return {
    id: v.id,
    level,
    sendKbps: num(v.sendKbps),
    recvKbps: num(v.recvKbps),
    loss: Math.min(1, num(v.loss)),
    rtt: num(v.rtt),
    bandwidthKbps: num(v.bandwidthKbps),
  };
}

function list<T>(v: unknown, item: (x: unknown) => T | null): T[] | null {
  if (!Array.isArray(v)) return null;
  const out: T[] = [];
  for (const x of v) {
    const y = item(x);
    if (y === null) return null;
    out.push(y);
  }
  return out;
}

/** Parses one frame from the server; null when it is not a message we understand. */
export function parseServerMessage(text: string): ServerMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObj(v) || !isStr(v.type)) return null;
  switch (v.type) {
    case 'joined': {
      const participants = list(v.participants ?? [], participant);
      if (!isStr(v.id) || participants === null) return null;
      const iceServers = Array.isArray(v.iceServers) ? (v.iceServers.filter(isObj) as unknown as RTCIceServer[]) : [];
      const joined: ServerMessage = {
        type: 'joined',
        id: v.id,
        room: isStr(v.room) ? v.room : '',
        role: v.role === 'moderator' ? 'moderator' : 'participant',
        settings: settings(v.settings),
        iceServers,
        participants,
      };
      if (isStr(v.resume) && v.resume !== '') joined.resume = v.resume;
      return joined;
    }
    case 'publish.answer':
      return isStr(v.sdp) ? { type: 'publish.answer', sdp: v.sdp } : null;
    case 'subscribe.offer': {
      const tracks = list(v.tracks ?? [], subscribeTrack);
      return isStr(v.sdp) && tracks ? { type: 'subscribe.offer', sdp: v.sdp, tracks } : null;
    }
    case 'participant.joined':
    case 'participant.updated': {
      const p = participant(v.participant);
      return p ? { type: v.type, participant: p } : null;
    }
    case 'participant.left':
      return isStr(v.id) ? { type: 'participant.left', id: v.id } : null;
    case 'speaking': {
      const ids = list(v.ids ?? [], (x) => (isStr(x) ? x : null));
      return ids ? { type: 'speaking', ids } : null;
    }
    case 'lobby.waiting': {
      const reason = waitReason(v.reason);
      return reason ? { type: 'lobby.waiting', reason } : { type: 'lobby.waiting' };
    }
    case 'lobby.knock': {
      const k = knock(v.participant);
      return k ? { type: 'lobby.knock', participant: k } : null;
    }
    case 'lobby.gone':
      return isStr(v.id) ? { type: 'lobby.gone', id: v.id } : null;
    case 'room.settings':
      return isObj(v.settings) ? { type: 'room.settings', settings: settings(v.settings) } : null;
    case 'media.mode':
      if (v.mode === 'p2p') return isStr(v.peer) && v.peer !== '' ? { type: 'media.mode', mode: 'p2p', peer: v.peer } : null;
      return v.mode === 'sfu' ? { type: 'media.mode', mode: 'sfu' } : null;
    case 'muted':
      return v.kind === 'audio' || v.kind === 'video' ? { type: 'muted', kind: v.kind, by: isStr(v.by) ? v.by : '' } : null;
    case 'chat': {
      if (!isStr(v.from) || !isStr(v.data)) return null;
      return isStr(v.to) ? { type: 'chat', from: v.from, to: v.to, data: v.data } : { type: 'chat', from: v.from, data: v.data };
    }
    case 'relay':
      return isStr(v.from) && isStr(v.data) ? { type: 'relay', from: v.from, data: v.data } : null;
    case 'forwarded': {
      // A video of a kind we do not know (a newer server) is left out, not the whole message.
      const videos = Array.isArray(v.videos) ? v.videos.map(forwardedVideo).filter((x): x is ForwardedVideo => x !== null) : null;
      return videos ? { type: 'forwarded', videos } : null;
    }
    case 'dominant':
      return isStr(v.id) ? { type: 'dominant', id: v.id } : null;
    case 'quality': {
      const participants = Array.isArray(v.participants) ? v.participants.map(quality).filter((x): x is ParticipantQuality => x !== null) : null;
      return participants ? { type: 'quality', participants } : null;
    }
    case 'server.draining':
      return { type: 'server.draining', seconds: typeof v.seconds === 'number' && Number.isFinite(v.seconds) && v.seconds >= 0 ? v.seconds : 0 };
    case 'error': {
      const e: ServerMessage = { type: 'error', code: isStr(v.code) ? v.code : 'internal', message: isStr(v.message) ? v.message : '' };
      if (typeof v.retryAfter === 'number' && Number.isFinite(v.retryAfter) && v.retryAfter >= 0) e.retryAfter = v.retryAfter;
      return e;
    }
    default:
      return null;
  }
}

/** The server's own URL for the signalling socket. */
export function socketURL(loc: { protocol: string; host: string }): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export interface SignalHandlers {
  message(msg: ServerMessage): void;
  close(info: CloseInfo): void;
}

/** One signalling connection. Create it, await open(), then send. */
export class Signal {
  private ws: WebSocket | null = null;
  private opened = false;
  private byUs = false;
  private closed = false;
  private readonly limiter = new RateLimiter(LIMITS.messagesPerSecond, LIMITS.burst, performance.now());
  // Sends wait here in order when the rate limit says so.
  private sendChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly handlers: SignalHandlers,
  ) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      ws.onopen = () => {
        this.opened = true;
        resolve();
      };
      ws.onmessage = (ev: MessageEvent) => {
        if (typeof ev.data !== 'string' || this.closed) return;
        const msg = parseServerMessage(ev.data);
        if (msg) this.handlers.message(msg);
        else console.warn('plausch: ignoring a message the client does not understand', ev.data.slice(0, 200));
      };
      ws.onclose = (ev: CloseEvent) => {
        if (!this.opened) reject(new Error('websocket did not open'));
        this.finish({ code: ev.code, reason: ev.reason, byUs: this.byUs, neverOpened: !this.opened });
      };
    });
  }

  send(msg: ClientMessage): void {
    const wait = this.limiter.take(performance.now());
    const text = JSON.stringify(msg);
    if (text.length > LIMITS.maxMessageBytes) console.warn('plausch: message larger than the protocol allows', msg.type);
    if (wait === 0) {
      this.sendChain = this.sendChain.then(() => this.raw(text));
    } else {
      this.sendChain = this.sendChain.then(() => new Promise<void>((r) => setTimeout(r, wait))).then(() => this.raw(text));
    }
  }

  /** Sends `leave`; the server answers by closing the socket. */
  leave(): void {
    this.byUs = true;
    this.raw(JSON.stringify({ type: 'leave' }));
    // If the server does not close within a moment, close from our side.
    setTimeout(() => this.close(), 1500);
  }

  close(): void {
    this.byUs = true;
    this.ws?.close(1000);
  }

  /**
   * Lets go of a connection that seems dead (a reconnect replaces it): no
   * message or close is reported from now on. The close code is not 1000,
   * so a server that still hears it keeps the session for a `resume`.
   */
  drop(): void {
    this.closed = true;
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED && ws.readyState !== WebSocket.CLOSING) ws.close(3000, 'reconnecting');
  }

  /** Stops reporting messages and the close, but leaves the socket open: the server closes it when a `resume` takes over (4003). */
  detach(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private raw(text: string): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  private finish(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.close(info);
  }
}

