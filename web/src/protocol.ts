// Message types of the signalling protocol, exactly as docs/protocol.md defines
// them. Types only: sending, receiving and validation live in signal.ts.

/** What a publish m-line carries. */
export type Source = 'microphone' | 'camera' | 'screen' | 'screen-audio';

/** Which of a participant's two peer connections a candidate belongs to. */
export type PcName = 'publish' | 'subscribe';

export type Role = 'moderator' | 'participant';

/** A participant as the server describes it. */
export interface ParticipantInfo {
  id: string;
  name: string;
  audio: boolean;
  video: boolean;
  screen: boolean;
  /** Missing means `participant`. */
  role?: Role;
  /** Their ECDH P-256 public key (raw point, base64url), passed on by the server. */
  publicKey?: string;
  /** Whether their browser holds the meeting key. */
  hasKey?: boolean;
  /** Whether their browser encrypts its media frames end to end (missing: unknown, read as no). */
  e2ee?: boolean;
  /** Their connection was lost and may come back (`resume`); missing: no. */
  reconnecting?: boolean;
}

/** The meeting's settings (the password itself is never sent). */
export interface RoomSettings {
  password: boolean;
  lobby: boolean;
  /** End-to-end encrypted media required (missing: no). */
  e2eeRequired?: boolean;
  /** Direct media allowed while two are present (missing: yes, the server's default). */
  p2p?: boolean;
}

/** How media travels: through the server, or directly between the two present. */
export type MediaMode = 'sfu' | 'p2p';

/**
 * Why someone waits at the lobby although it may be off. password: out of
 * password attempts, so the server did not check the password; removed:
 * someone from the same network was removed from the meeting a short while ago.
 */
export type WaitReason = 'password' | 'removed';

/** Someone waiting in the lobby. */
export interface Knock {
  id: string;
  name: string;
  /** Missing: the lobby is on. */
  reason?: WaitReason;
}

/** One sending m-line of the publish offer. */
export interface PublishTrack {
  mid: string;
  source: Source;
}

/** One m-line of a subscribe offer that currently carries media. */
export interface SubscribeTrack {
  mid: string;
  participant: string;
  source: Source;
  kind: 'audio' | 'video';
}

export type ErrorCode =
  | 'bad_json'
  | 'unknown_type'
  | 'too_large'
  | 'rate_limited'
  | 'invalid'
  | 'out_of_order'
  | 'bad_sdp'
  | 'bad_room'
  | 'bad_name'
  | 'room_full'
  | 'server_full'
  | 'password_required'
  | 'wrong_password'
  | 'too_many_attempts'
  | 'forbidden'
  | 'not_found'
  | 'denied'
  | 'removed'
  | 'ended'
  | 'e2ee_required'
  | 'server_draining'
  | 'resume_failed'
  | 'internal';

// Client to server.

export interface JoinMessage {
  type: 'join';
  room: string;
  name: string;
  audio: boolean;
  video: boolean;
  /** Only when the meeting has a password (and we know one). */
  password?: string;
  publicKey: string;
  hasKey: boolean;
  /** Whether this browser encrypts its media frames end to end. */
  e2ee: boolean;
  /** Ask for a resume token (`joined.resume`), so a lost connection can continue. */
  resumable?: boolean;
}

/** Instead of `join` on a new connection: continue the session of this token. */
export interface ResumeMessage {
  type: 'resume';
  token: string;
}

/** Ask for an ICE-restarting subscribe offer (the publish side restarts with its own offer). */
export interface RestartMessage {
  type: 'restart';
  pc: 'subscribe';
}

export interface PublishOfferMessage {
  type: 'publish.offer';
  sdp: string;
  tracks: PublishTrack[];
}

export interface SubscribeAnswerMessage {
  type: 'subscribe.answer';
  sdp: string;
}

export interface CandidateMessage {
  type: 'candidate';
  pc: PcName;
  candidate: RTCIceCandidateInit;
}

export interface MediaMessage {
  type: 'media';
  audio: boolean;
  video: boolean;
}

export interface LeaveMessage {
  type: 'leave';
}

export interface KeyStatusMessage {
  type: 'key.status';
  hasKey: boolean;
}

/** A chat message; `data` is opaque to the server. */
export interface ChatOutMessage {
  type: 'chat';
  data: string;
  to?: string;
}

export interface RelayOutMessage {
  type: 'relay';
  to: string;
  data: string;
}

export type MediaKind = 'audio' | 'video';

/** A remote video on screen, with its size in device pixels (`view`). */
export interface ViewVideo {
  participant: string;
  source: 'camera' | 'screen';
  width: number;
  height: number;
}

/** What the client shows, so the server forwards only that (docs/protocol.md `view`). */
export interface ViewMessage {
  type: 'view';
  videos: ViewVideo[];
  /** Cap on forwarded camera videos (0 = no limit). */
  lastN?: number;
}

/** What only a moderator may send. */
export type ModeratorMessage =
  | { type: 'room.password'; password: string }
  | { type: 'room.lobby'; enabled: boolean }
  | { type: 'lobby.admit'; id: string }
  | { type: 'lobby.deny'; id: string }
  | { type: 'participant.mute'; id: string; kind: MediaKind }
  | { type: 'room.mute'; kind: MediaKind }
  | { type: 'participant.remove'; id: string }
  | { type: 'participant.grant'; id: string }
  | { type: 'room.end' }
  | { type: 'room.e2ee'; required: boolean }
  | { type: 'room.p2p'; enabled: boolean };

export type ClientMessage =
  | JoinMessage
  | PublishOfferMessage
  | SubscribeAnswerMessage
  | CandidateMessage
  | MediaMessage
  | LeaveMessage
  | KeyStatusMessage
  | ChatOutMessage
  | RelayOutMessage
  | ViewMessage
  | ResumeMessage
  | RestartMessage
  | ModeratorMessage;

// Server to client.

export interface JoinedMessage {
  type: 'joined';
  id: string;
  room: string;
  role: Role;
  settings: RoomSettings;
  iceServers: RTCIceServer[];
  participants: ParticipantInfo[];
  /** The resume token, when we joined with `resumable` (kept in memory only). */
  resume?: string;
}

export interface LobbyWaitingMessage {
  type: 'lobby.waiting';
  /** Missing: the lobby is on. */
  reason?: WaitReason;
}

export interface LobbyKnockMessage {
  type: 'lobby.knock';
  participant: Knock;
}

export interface LobbyGoneMessage {
  type: 'lobby.gone';
  id: string;
}

export interface RoomSettingsMessage {
  type: 'room.settings';
  settings: RoomSettings;
}

export interface MediaModeMessage {
  type: 'media.mode';
  mode: MediaMode;
  /** The other participant, in p2p mode. */
  peer?: string;
}

export interface MutedMessage {
  type: 'muted';
  kind: MediaKind;
  by: string;
}

export interface ChatInMessage {
  type: 'chat';
  from: string;
  to?: string;
  data: string;
}

export interface RelayInMessage {
  type: 'relay';
  from: string;
  data: string;
}

export interface PublishAnswerMessage {
  type: 'publish.answer';
  sdp: string;
}

export interface SubscribeOfferMessage {
  type: 'subscribe.offer';
  sdp: string;
  tracks: SubscribeTrack[];
}

export interface ParticipantJoinedMessage {
  type: 'participant.joined';
  participant: ParticipantInfo;
}

export interface ParticipantUpdatedMessage {
  type: 'participant.updated';
  participant: ParticipantInfo;
}

export interface ParticipantLeftMessage {
  type: 'participant.left';
  id: string;
}

export interface SpeakingMessage {
  type: 'speaking';
  ids: string[];
}

/** A video the server sends us now, and which simulcast layer (0 = smallest). */
export interface ForwardedVideo {
  participant: string;
  source: 'camera' | 'screen';
  layer: number;
  width?: number;
  height?: number;
}

export interface ForwardedMessage {
  type: 'forwarded';
  videos: ForwardedVideo[];
}

export interface DominantMessage {
  type: 'dominant';
  id: string;
}

export type QualityLevel = 'good' | 'fair' | 'poor';

/** Connection figures the server measured for one participant (`quality`). */
export interface ParticipantQuality {
  id: string;
  level: QualityLevel;
  /** What the server receives from them. */
  sendKbps: number;
  /** What the server sends them. */
  recvKbps: number;
  /** The larger of upstream and downstream loss, 0-1. */
  loss: number;
  /** Round trip server-participant in ms (0 = not known yet). */
  rtt: number;
  /** The server's estimate of their downlink (0 = not known). */
  bandwidthKbps: number;
}

export interface QualityMessage {
  type: 'quality';
  participants: ParticipantQuality[];
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode | string;
  message: string;
  /** Seconds, with `too_many_attempts`. */
  retryAfter?: number;
}

/** The server shuts down after `seconds`; then the socket closes with 4002 and we reconnect. */
export interface ServerDrainingMessage {
  type: 'server.draining';
  seconds: number;
}

export type ServerMessage =
  | JoinedMessage
  | PublishAnswerMessage
  | SubscribeOfferMessage
  | ParticipantJoinedMessage
  | ParticipantUpdatedMessage
  | ParticipantLeftMessage
  | SpeakingMessage
  | LobbyWaitingMessage
  | LobbyKnockMessage
  | LobbyGoneMessage
  | RoomSettingsMessage
  | MediaModeMessage
  | MutedMessage
  | ChatInMessage
  | RelayInMessage
  | ForwardedMessage
  | DominantMessage
  | QualityMessage
  | ServerDrainingMessage
  | ErrorMessage;

/** Close code the server uses for fatal errors and too many bad messages. */
export const CLOSE_ERROR = 4000;
/** Close code after `leave`. */
export const CLOSE_NORMAL = 1000;
/** Close code when removed, denied at the lobby, the meeting was ended or requires end-to-end encryption (the `error` before says which). */
export const CLOSE_REMOVED = 4001;
/** Close code when the server restarts (after `server.draining`): reconnect. */
export const CLOSE_RESTARTING = 4002;
/** Close code of a connection whose session continued on a newer one (`resume`). */
export const CLOSE_REPLACED = 4003;

/** Limits from docs/protocol.md the client keeps to. */
export const LIMITS = {
  maxMessageBytes: 64 * 1024,
  messagesPerSecond: 20,
  burst: 60,
  /** `data` of a chat message (base64url characters). */
  maxChatData: 16 * 1024,
  /** `data` of a relay. */
  maxRelayData: 4 * 1024,
} as const;
