// The room model: who is here, what they send, who speaks. A pure reducer over
// events from the signalling and media layers, plus a tiny store that tells
// listeners. It is generic over the track type so tests run without a browser.

import type { Knock, MediaMode, ParticipantInfo, Role, RoomSettings, SubscribeTrack } from './protocol';

/** The sources a direct connection carries. */
export type DirectSource = 'microphone' | 'camera' | 'screen';

/** What we show of the direct connection: the peer's tracks on it. */
export interface DirectView<T> {
  peer: string;
  tracks: Partial<Record<DirectSource, T>>;
  /** Whether the peer speaks (measured here: the server hears nothing on a direct call). */
  speaking: boolean;
  /** Whether the peer shares its screen on the direct connection (the server does not know). */
  screen: boolean;
}

export interface RoomState<T> {
  room: string;
  selfId: string | null;
  self: ParticipantInfo;
  /** Everyone else, in the order they arrived. */
  others: ParticipantInfo[];
  /** Ids the server last reported as speaking. */
  speaking: string[];
  /** Whether our own microphone currently hears speech (measured locally). */
  selfSpeaking: boolean;
  /** The latest subscribe offer's m-lines that carry media. */
  remote: SubscribeTrack[];
  /** The receiving track of each m-line, by mid. */
  tracks: Record<string, T>;
  /** Whether we share our screen ourselves. */
  selfScreen: boolean;
  /** Password and lobby switched on (as the server last said). */
  settings: RoomSettings;
  /** Who waits in the lobby (known to moderators only). */
  knocks: Knock[];
  /** How the server says media travels now (`media.mode`). */
  mode: MediaMode;
  modePeer: string | null;
  /** Set while the peer's media is shown from the direct connection. */
  direct: DirectView<T> | null;
}

export type RoomEvent<T> =
  | { type: 'joined'; id: string; room: string; participants: ParticipantInfo[]; role?: Role; settings?: RoomSettings }
  | { type: 'room.settings'; settings: RoomSettings }
  | { type: 'lobby.knock'; participant: Knock }
  | { type: 'lobby.gone'; id: string }
  | { type: 'participant.joined'; participant: ParticipantInfo }
  | { type: 'participant.updated'; participant: ParticipantInfo }
  | { type: 'participant.left'; id: string }
  | { type: 'speaking'; ids: string[] }
  | { type: 'remote'; remote: SubscribeTrack[]; tracks: Record<string, T> }
  | { type: 'self'; patch: Partial<Pick<ParticipantInfo, 'audio' | 'video' | 'name'>> }
  | { type: 'selfSpeaking'; speaking: boolean }
  | { type: 'selfScreen'; sharing: boolean }
  | { type: 'media.mode'; mode: MediaMode; peer?: string }
  | { type: 'direct'; direct: DirectView<T> | null };

export function initialState<T>(room: string, self: Omit<ParticipantInfo, 'id' | 'screen'>): RoomState<T> {
  return {
    room,
    selfId: null,
    self: { id: '', screen: false, ...self },
    others: [],
    speaking: [],
    selfSpeaking: false,
    remote: [],
    tracks: {},
    selfScreen: false,
    settings: { password: false, lobby: false },
    knocks: [],
    mode: 'sfu',
    modePeer: null,
    direct: null,
  };
}

export function isModerator<T>(s: RoomState<T>): boolean {
  return s.self.role === 'moderator';
}

function upsert(list: ParticipantInfo[], p: ParticipantInfo): ParticipantInfo[] {
  const i = list.findIndex((x) => x.id === p.id);
  if (i < 0) return [...list, p];
  const next = list.slice();
  next[i] = p;
  return next;
}

export function reduce<T>(s: RoomState<T>, e: RoomEvent<T>): RoomState<T> {
  switch (e.type) {
    case 'joined':
      return {
        ...s,
        room: e.room || s.room,
        selfId: e.id,
        self: { ...s.self, id: e.id, role: e.role ?? 'participant' },
        // The server lists the others; filter ourselves out in case it does not.
        others: e.participants.filter((p) => p.id !== e.id),
        settings: e.settings ?? s.settings,
        // Moderators get the current knocks again after joining.
        knocks: [],
      };
    case 'room.settings':
      return { ...s, settings: e.settings };
    case 'lobby.knock':
      return { ...s, knocks: [...s.knocks.filter((k) => k.id !== e.participant.id), e.participant] };
    case 'lobby.gone':
      return { ...s, knocks: s.knocks.filter((k) => k.id !== e.id) };
    case 'participant.joined':
    case 'participant.updated': {
      const p = e.participant;
      if (p.id === s.selfId) {
        const role = p.role ?? s.self.role;
        // A moderator who loses the role no longer sees the lobby.
        return { ...s, self: { ...s.self, name: p.name, audio: p.audio, video: p.video, role }, knocks: role === 'moderator' ? s.knocks : [] };
      }
      const next = { ...s, others: upsert(s.others, p) };
      // A screen switched off is gone at once, before the next offer confirms it.
      if (!p.screen) next.remote = s.remote.filter((r) => !(r.participant === p.id && r.source.startsWith('screen')));
      return next;
    }
    case 'participant.left':
      return {
        ...s,
        others: s.others.filter((p) => p.id !== e.id),
        speaking: s.speaking.filter((id) => id !== e.id),
        remote: s.remote.filter((r) => r.participant !== e.id),
        direct: s.direct?.peer === e.id ? null : s.direct,
      };
    case 'speaking':
      return { ...s, speaking: e.ids };
    case 'remote': {
      // Only m-lines of the offer that have a track; a mid missing from the
      // offer means its track is gone.
      const tracks: Record<string, T> = {};
      for (const r of e.remote) {
        const tr = e.tracks[r.mid];
        if (tr !== undefined) tracks[r.mid] = tr;
      }
      return { ...s, remote: e.remote, tracks };
    }
    case 'self':
      return { ...s, self: { ...s.self, ...e.patch } };
    case 'selfSpeaking':
      return s.selfSpeaking === e.speaking ? s : { ...s, selfSpeaking: e.speaking };
    case 'selfScreen':
      return { ...s, selfScreen: e.sharing, self: { ...s.self, screen: e.sharing } };
    case 'media.mode':
      return { ...s, mode: e.mode, modePeer: e.mode === 'p2p' ? (e.peer ?? null) : null };
    case 'direct':
      return { ...s, direct: e.direct };
  }
}

/** What one tile shows. */
export interface TileModel<T> {
  key: string;
  participant: string;
  name: string;
  self: boolean;
  kind: 'camera' | 'screen';
  audio: boolean;
  video: boolean;
  speaking: boolean;
  /** The remote video track; undefined for our own tiles (the UI has the local stream). */
  track: T | undefined;
}

function trackOf<T>(s: RoomState<T>, id: string, source: DirectSource): T | undefined {
  // The peer of a direct call: its tracks come from the direct connection.
  if (s.direct?.peer === id) {
    if (source === 'screen' && !s.direct.screen) return undefined;
    return s.direct.tracks[source];
  }
  const r = s.remote.find((x) => x.participant === id && x.source === source);
  return r ? s.tracks[r.mid] : undefined;
}

/** The tiles: screens (for the stage) and one camera tile per person, ourselves first. */
export function tiles<T>(s: RoomState<T>): { screens: TileModel<T>[]; cameras: TileModel<T>[] } {
  const speaking = new Set(s.speaking);
  if (s.direct?.speaking) speaking.add(s.direct.peer);
  const selfSpeaking = s.self.audio && (s.selfSpeaking || (s.selfId !== null && speaking.has(s.selfId)));
  const cameras: TileModel<T>[] = [
    {
      key: 'self',
      participant: s.selfId ?? '',
      name: s.self.name,
      self: true,
      kind: 'camera',
      audio: s.self.audio,
      video: s.self.video,
      speaking: selfSpeaking,
      track: undefined,
    },
  ];
  const screens: TileModel<T>[] = [];
  if (s.selfScreen) {
    screens.push({ ...cameras[0]!, key: 'self-screen', kind: 'screen', speaking: false });
  }
  for (const p of s.others) {
    const camera = trackOf(s, p.id, 'camera');
    cameras.push({
      key: p.id,
      participant: p.id,
      name: p.name,
      self: false,
      kind: 'camera',
      audio: p.audio,
      // Show video only when they say it is on and we actually receive it.
      video: p.video && camera !== undefined,
      speaking: p.audio && speaking.has(p.id),
      track: camera,
    });
    const screen = trackOf(s, p.id, 'screen');
    if (screen !== undefined) {
      screens.push({
        key: p.id + '-screen',
        participant: p.id,
        name: p.name,
        self: false,
        kind: 'screen',
        audio: p.audio,
        video: true,
        speaking: false,
        track: screen,
      });
    }
  }
  return { screens, cameras };
}

/** The remote audio tracks to play, by mid. */
export function audioTracks<T>(s: RoomState<T>): { mid: string; participant: string; track: T }[] {
  const out: { mid: string; participant: string; track: T }[] = [];
  const d = s.direct;
  for (const r of s.remote) {
    const tr = s.tracks[r.mid];
    // Never the same person twice: the direct peer is heard on the direct connection.
    if (r.kind === 'audio' && tr !== undefined && r.participant !== d?.peer) out.push({ mid: r.mid, participant: r.participant, track: tr });
  }
  if (d?.tracks.microphone !== undefined) out.push({ mid: 'direct-microphone', participant: d.peer, track: d.tracks.microphone });
  return out;
}

export function nameOf<T>(s: RoomState<T>, id: string): string | undefined {
  if (id === s.selfId) return s.self.name;
  return s.others.find((p) => p.id === id)?.name;
}

/** Holds the state and tells listeners after every change. */
export class RoomStore<T> {
  private listeners = new Set<(s: RoomState<T>) => void>();

  constructor(private current: RoomState<T>) {}

  get state(): RoomState<T> {
    return this.current;
  }

  dispatch(e: RoomEvent<T>): void {
    const next = reduce(this.current, e);
    if (next === this.current) return;
    this.current = next;
    for (const l of this.listeners) l(next);
  }

  subscribe(fn: (s: RoomState<T>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/**
 * Columns for a grid of n tiles of the given aspect ratio in a w x h box,
 * chosen to make each tile as large as possible.
 */
export function gridColumns(n: number, w: number, h: number, aspect = 16 / 9): number {
  if (n <= 1 || w <= 0 || h <= 0) return 1;
  let best = 1;
  let bestArea = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const tileW = Math.min(w / cols, (h / rows) * aspect);
    const area = tileW * (tileW / aspect);
    if (area > bestArea + 0.5) {
      bestArea = area;
      best = cols;
    }
  }
  return best;
}
