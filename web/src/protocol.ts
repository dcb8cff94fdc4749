// Message types of the signalling protocol, exactly as docs/protocol.md defines
// them. Types only: sending, receiving and validation live in signal.ts.

/** What a publish m-line carries. */
export type Source = 'microphone' | 'camera' | 'screen' | 'screen-audio';

/** Which of a participant's two peer connections a candidate belongs to. */
export type PcName = 'publish' | 'subscribe';

/** A participant as the server describes it. */
export interface ParticipantInfo {
  id: string;
  name: string;
  audio: boolean;
  video: boolean;
  screen: boolean;
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
  | 'internal';

// Client to server.

export interface JoinMessage {
  type: 'join';
  room: string;
  name: string;
  audio: boolean;
  video: boolean;
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

export type ClientMessage =
  | JoinMessage
  | PublishOfferMessage
  | SubscribeAnswerMessage
  | CandidateMessage
  | MediaMessage
  | LeaveMessage;

// Server to client.

export interface JoinedMessage {
  type: 'joined';
  id: string;
  room: string;
  iceServers: RTCIceServer[];
  participants: ParticipantInfo[];
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

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode | string;
  message: string;
}

export type ServerMessage =
  | JoinedMessage
  | PublishAnswerMessage
  | SubscribeOfferMessage
  | ParticipantJoinedMessage
  | ParticipantUpdatedMessage
  | ParticipantLeftMessage
  | SpeakingMessage
  | ErrorMessage;

/** Close code the server uses for fatal errors and too many bad messages. */
export const CLOSE_ERROR = 4000;
/** Close code after `leave`. */
export const CLOSE_NORMAL = 1000;

/** Limits from docs/protocol.md the client keeps to. */
export const LIMITS = {
  maxMessageBytes: 64 * 1024,
  messagesPerSecond: 20,
  burst: 60,
} as const;
