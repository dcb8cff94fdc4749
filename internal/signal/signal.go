// Package signal is the wire protocol between a browser and the server: the
// JSON messages of docs/protocol.md, their decoding and validation, and the
// error codes a client sees. It knows nothing of rooms or media.
package signal

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of a single client message. The server enforces MaxMessageBytes with
// an error reply; HardMaxMessageBytes closes the socket outright. A
// subscribe.answer may be larger, up to MaxAnswerBytes: it answers the
// server's own offer, which grows with every track in the meeting (about
// half a kilobyte per m-line, so some 150 KiB with 100 people).
const (
	MaxMessageBytes     = 64 << 10
	MaxAnswerBytes      = 512 << 10
	HardMaxMessageBytes = 1 << 20
	maxSDPBytes         = MaxMessageBytes
	maxTracks           = 8
	maxFieldBytes       = 256
	maxCandidateBytes   = 1024
	maxChatBytes        = 16 << 10
	maxRelayBytes       = 4 << 10
	maxPasswordRunes    = 128
	maxIDBytes          = 32
)

// Code is a machine-readable error code sent to clients.
type Code string

// The error codes of docs/protocol.md.
const (
	CodeBadJSON     Code = "bad_json"
	CodeUnknownType Code = "unknown_type"
	CodeTooLarge    Code = "too_large"
	CodeRateLimited Code = "rate_limited"
	CodeInvalid     Code = "invalid"
	CodeOutOfOrder  Code = "out_of_order"
	CodeBadSDP      Code = "bad_sdp"
	CodeBadRoom     Code = "bad_room"
	CodeBadName     Code = "bad_name"
	CodeRoomFull    Code = "room_full"
	CodeServerFull  Code = "server_full"
	CodeInternal    Code = "internal"

	CodePasswordRequired Code = "password_required"
	CodeWrongPassword    Code = "wrong_password"
	CodeTooManyAttempts  Code = "too_many_attempts"
	CodeForbidden        Code = "forbidden"
	CodeNotFound         Code = "not_found"
	CodeDenied           Code = "denied"
	CodeRemoved          Code = "removed"
	CodeEnded            Code = "ended"
	CodeE2EERequired     Code = "e2ee_required"
	CodeServerDraining   Code = "server_draining"
	CodeResumeFailed     Code = "resume_failed"

	CodeLobbyTimeout       Code = "lobby_timeout"
	CodeTooManyConnections Code = "too_many_connections"
	CodeTooManyMeetings    Code = "too_many_meetings"
)

// Error is a problem to report to the client. Fatal errors end the connection.
type Error struct {
	Code       Code
	Message    string
	Fatal      bool
	RetryAfter int // seconds, for CodeTooManyAttempts
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds a non-fatal protocol error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as a protocol error, mapping anything unknown to
// CodeInternal so that internal details never reach a client.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// Sources a participant can publish.
const (
	SourceMicrophone  = "microphone"
	SourceCamera      = "camera"
	SourceScreen      = "screen"
	SourceScreenAudio = "screen-audio"
)

// Peer connection names.
const (
	PCPublish   = "publish"
	PCSubscribe = "subscribe"
)

// Message is a decoded, validated client message.
type Message interface{ Type() string }

// Join is the first message of every connection.
type Join struct {
	Room     string
	Name     string
	Audio    bool
	Video    bool
	Password string
	// PublicKey is the participant's raw P-256 ECDH public key, checked to
	// be a valid point; the server only passes it on.
	PublicKey string
	HasKey    bool
	E2EE      bool // the browser encrypts media frames end to end
	// Resumable asks for a resume token: a lost connection may then come
	// back within the grace time as the same participant.
	Resumable bool
}

// Resume continues a participant's session on a new connection.
type Resume struct{ Token string }

// Restart asks for an ICE restart of the subscribe connection.
type Restart struct{ PC string }

// PublishOffer carries an SDP offer for the publish connection.
type PublishOffer struct {
	SDP    string
	Tracks []PublishedTrack
}

// PublishedTrack says which source an m-line of a publish offer carries.
type PublishedTrack struct {
	Mid    string `json:"mid"`
	Source string `json:"source"`
}

// SubscribeAnswer answers the server's latest subscribe offer.
type SubscribeAnswer struct{ SDP string }

// Candidate is a trickled ICE candidate of the client.
type Candidate struct {
	PC        string
	Candidate ICECandidate
}

// ICECandidate mirrors the browser's RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Media reports that the client switched its microphone or camera.
type Media struct{ Audio, Video bool }

// Leave ends the participant's session.
type Leave struct{}

// KeyStatus says the participant now holds the meeting key.
type KeyStatus struct{ HasKey bool }

// Chat is an end-to-end encrypted message, opaque to the server; To is
// empty for everyone.
type Chat struct{ To, Data string }

// Relay is opaque data for one participant (the key exchange).
type Relay struct{ To, Data string }

// RoomPassword sets the meeting password; empty removes it.
type RoomPassword struct{ Password string }

// RoomLobby switches the lobby on or off.
type RoomLobby struct{ Enabled bool }

// LobbyAdmit lets a waiting person in.
type LobbyAdmit struct{ ID string }

// LobbyDeny turns a waiting person away.
type LobbyDeny struct{ ID string }

// ParticipantMute mutes someone's microphone (Kind "audio") or stops their
// camera ("video").
type ParticipantMute struct{ ID, Kind string }

// RoomMute mutes everyone else.
type RoomMute struct{ Kind string }

// ParticipantRemove removes someone from the meeting.
type ParticipantRemove struct{ ID string }

// ParticipantGrant makes someone a moderator.
type ParticipantGrant struct{ ID string }

// RoomEnd ends the meeting for everyone.
type RoomEnd struct{}

// RoomE2EE requires (or stops requiring) end-to-end encrypted media.
type RoomE2EE struct{ Required bool }

// RoomP2P allows or forbids direct media between two participants.
type RoomP2P struct{ Enabled bool }

// Type implements Message.
func (*Join) Type() string { return "join" }

// Type implements Message.
func (*PublishOffer) Type() string { return "publish.offer" }

// Type implements Message.
func (*SubscribeAnswer) Type() string { return "subscribe.answer" }

// Type implements Message.
func (*Candidate) Type() string { return "candidate" }

// Type implements Message.
func (*Media) Type() string { return "media" }

// Type implements Message.
func (*Leave) Type() string { return "leave" }

// Type implements Message.
func (*KeyStatus) Type() string { return "key.status" }

// Type implements Message.
func (*Chat) Type() string { return "chat" }

// Type implements Message.
func (*Relay) Type() string { return "relay" }

// Type implements Message.
func (*RoomPassword) Type() string { return "room.password" }

// Type implements Message.
func (*RoomLobby) Type() string { return "room.lobby" }

// Type implements Message.
func (*LobbyAdmit) Type() string { return "lobby.admit" }

// Type implements Message.
func (*LobbyDeny) Type() string { return "lobby.deny" }

// Type implements Message.
func (*ParticipantMute) Type() string { return "participant.mute" }

// Type implements Message.
func (*RoomMute) Type() string { return "room.mute" }

// Type implements Message.
func (*ParticipantRemove) Type() string { return "participant.remove" }

// Type implements Message.
func (*ParticipantGrant) Type() string { return "participant.grant" }

// Type implements Message.
func (*RoomEnd) Type() string { return "room.end" }

// Type implements Message.
func (*RoomE2EE) Type() string { return "room.e2ee" }

// Type implements Message.
func (*Resume) Type() string { return "resume" }

// Type implements Message.
func (*Restart) Type() string { return "restart" }

// Type implements Message.
func (*RoomP2P) Type() string { return "room.p2p" }

// View says which remote videos the client shows, and how large.
type View struct {
	Videos []ViewedVideo
	LastN  int // at most this many camera videos, 0 for no limit
}

// ViewedVideo is one video on the client's screen, in device pixels.
type ViewedVideo struct {
	Participant string `json:"participant"`
	Source      string `json:"source"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// Limits of a view message.
const (
	MaxViewVideos = 64
	MaxViewPixels = 8192
)

// Type implements Message.
func (*View) Type() string { return "view" }

// inbound is the union of all client message fields, so a message is parsed
// once and then checked by the function for its type.
type inbound struct {
	Type      string           `json:"type"`
	Room      string           `json:"room"`
	Name      string           `json:"name"`
	Audio     *bool            `json:"audio"`
	Video     *bool            `json:"video"`
	SDP       string           `json:"sdp"`
	Tracks    []PublishedTrack `json:"tracks"`
	PC        string           `json:"pc"`
	Candidate *ICECandidate    `json:"candidate"`
	Password  *string          `json:"password"`
	PublicKey string           `json:"publicKey"`
	HasKey    *bool            `json:"hasKey"`
	To        string           `json:"to"`
	Data      string           `json:"data"`
	Enabled   *bool            `json:"enabled"`
	ID        string           `json:"id"`
	Kind      string           `json:"kind"`
	E2EE      *bool            `json:"e2ee"`
	Required  *bool            `json:"required"`
	Resumable *bool            `json:"resumable"`
	Token     string           `json:"token"`
	Videos    []ViewedVideo    `json:"videos"`
	LastN     *int             `json:"lastN"`
}

var decoders = map[string]func(*inbound) (Message, error){
	"join":               decodeJoin,
	"publish.offer":      decodePublishOffer,
	"subscribe.answer":   decodeSubscribeAnswer,
	"candidate":          decodeCandidate,
	"media":              decodeMedia,
	"leave":              func(*inbound) (Message, error) { return &Leave{}, nil },
	"key.status":         decodeKeyStatus,
	"chat":               decodeChat,
	"relay":              decodeRelay,
	"room.password":      decodeRoomPassword,
	"room.lobby":         decodeRoomLobby,
	"lobby.admit":        withID(func(id string) Message { return &LobbyAdmit{ID: id} }),
	"lobby.deny":         withID(func(id string) Message { return &LobbyDeny{ID: id} }),
	"participant.mute":   decodeParticipantMute,
	"room.mute":          decodeRoomMute,
	"participant.remove": withID(func(id string) Message { return &ParticipantRemove{ID: id} }),
	"participant.grant":  withID(func(id string) Message { return &ParticipantGrant{ID: id} }),
	"room.end":           func(*inbound) (Message, error) { return &RoomEnd{}, nil },
	"room.e2ee":          decodeRoomE2EE,
	"resume":             decodeResume,
	"restart":            decodeRestart,
	"room.p2p":           decodeRoomP2P,
	"view":               decodeView,
}

// Decode parses and validates one client message. Errors are *Error.
func Decode(data []byte) (Message, error) {
	if len(data) > MaxAnswerBytes {
		return nil, Errorf(CodeTooLarge, "message of %d bytes exceeds the limit of %d", len(data), MaxAnswerBytes)
	}
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, Errorf(CodeBadJSON, "message is not a valid JSON object")
	}
	if in.Type == "" {
		return nil, Errorf(CodeInvalid, "message has no type")
	}
	dec, ok := decoders[in.Type]
	if !ok {
		return nil, Errorf(CodeUnknownType, "unknown message type %.40q", in.Type)
	}
	if len(data) > MaxMessageBytes && in.Type != "subscribe.answer" {
		return nil, Errorf(CodeTooLarge, "message of %d bytes exceeds the limit of %d", len(data), MaxMessageBytes)
	}
	return dec(&in)
}

func decodeJoin(in *inbound) (Message, error) {
	if in.Room == "" || len(in.Room) > maxFieldBytes {
		return nil, Errorf(CodeInvalid, "join needs a room of 1 to %d bytes", maxFieldBytes)
	}
	if in.Name == "" || len(in.Name) > maxFieldBytes {
		return nil, Errorf(CodeInvalid, "join needs a name of 1 to %d bytes", maxFieldBytes)
	}
	j := &Join{Room: in.Room, Name: in.Name, Audio: deref(in.Audio), Video: deref(in.Video), HasKey: deref(in.HasKey),
		E2EE: deref(in.E2EE), Resumable: deref(in.Resumable)}
	if in.Password != nil {
		if utf8.RuneCountInString(*in.Password) > maxPasswordRunes {
			return nil, Errorf(CodeInvalid, "password longer than %d characters", maxPasswordRunes)
		}
		j.Password = *in.Password
	}
	if in.PublicKey != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PublicKey)
		if err == nil {
			_, err = ecdh.P256().NewPublicKey(raw)
		}
		if err != nil {
			return nil, Errorf(CodeInvalid, "publicKey is not a base64url P-256 point")
		}
		j.PublicKey = in.PublicKey
	}
	return j, nil
}

func decodeKeyStatus(in *inbound) (Message, error) {
	if in.HasKey == nil {
		return nil, Errorf(CodeInvalid, "key.status needs hasKey")
	}
	return &KeyStatus{HasKey: *in.HasKey}, nil
}

func decodeChat(in *inbound) (Message, error) {
	if in.Data == "" || len(in.Data) > maxChatBytes || !isBase64URL(in.Data) {
		return nil, Errorf(CodeInvalid, "chat needs data: base64url, at most %d bytes", maxChatBytes)
	}
	if len(in.To) > maxIDBytes {
		return nil, Errorf(CodeInvalid, "chat to: not a participant id")
	}
	return &Chat{To: in.To, Data: in.Data}, nil
}

func decodeRelay(in *inbound) (Message, error) {
	if in.To == "" || len(in.To) > maxIDBytes {
		return nil, Errorf(CodeInvalid, "relay needs a participant id in to")
	}
	if in.Data == "" || len(in.Data) > maxRelayBytes {
		return nil, Errorf(CodeInvalid, "relay needs data of at most %d bytes", maxRelayBytes)
	}
	return &Relay{To: in.To, Data: in.Data}, nil
}

func decodeRoomPassword(in *inbound) (Message, error) {
	if in.Password == nil || utf8.RuneCountInString(*in.Password) > maxPasswordRunes {
		return nil, Errorf(CodeInvalid, "room.password needs a password of at most %d characters (empty removes it)", maxPasswordRunes)
	}
	return &RoomPassword{Password: *in.Password}, nil
}

func decodeRoomLobby(in *inbound) (Message, error) {
	if in.Enabled == nil {
		return nil, Errorf(CodeInvalid, "room.lobby needs enabled")
	}
	return &RoomLobby{Enabled: *in.Enabled}, nil
}

func decodeResume(in *inbound) (Message, error) {
	if len(in.Token) < 16 || len(in.Token) > 64 || !isBase64URL(strings.ToLower(in.Token)) {
		return nil, Errorf(CodeInvalid, "resume needs a token")
	}
	return &Resume{Token: in.Token}, nil
}

func decodeRestart(in *inbound) (Message, error) {
	if in.PC != PCSubscribe {
		return nil, Errorf(CodeInvalid, "restart is for pc %q (the publish connection restarts with an offer)", PCSubscribe)
	}
	return &Restart{PC: in.PC}, nil
}

func decodeRoomE2EE(in *inbound) (Message, error) {
	if in.Required == nil {
		return nil, Errorf(CodeInvalid, "room.e2ee needs required")
	}
	return &RoomE2EE{Required: *in.Required}, nil
}

func decodeRoomP2P(in *inbound) (Message, error) {
	if in.Enabled == nil {
		return nil, Errorf(CodeInvalid, "room.p2p needs enabled")
	}
	return &RoomP2P{Enabled: *in.Enabled}, nil
}

func decodeView(in *inbound) (Message, error) {
	if len(in.Videos) > MaxViewVideos {
		return nil, Errorf(CodeInvalid, "view lists at most %d videos", MaxViewVideos)
	}
	v := &View{Videos: in.Videos}
	if in.LastN != nil {
		if *in.LastN < 0 || *in.LastN > MaxViewVideos {
			return nil, Errorf(CodeInvalid, "lastN must be 0 to %d", MaxViewVideos)
		}
		v.LastN = *in.LastN
	}
	for _, w := range in.Videos {
		if w.Participant == "" || len(w.Participant) > maxIDBytes {
			return nil, Errorf(CodeInvalid, "view videos need a participant id")
		}
		if w.Source != SourceCamera && w.Source != SourceScreen {
			return nil, Errorf(CodeInvalid, "view video source must be camera or screen")
		}
		if w.Width < 0 || w.Height < 0 || w.Width > MaxViewPixels || w.Height > MaxViewPixels {
			return nil, Errorf(CodeInvalid, "view video size must be 0 to %d pixels", MaxViewPixels)
		}
	}
	return v, nil
}

func decodeParticipantMute(in *inbound) (Message, error) {
	if in.ID == "" || len(in.ID) > maxIDBytes {
		return nil, Errorf(CodeInvalid, "participant.mute needs an id")
	}
	if in.Kind != "audio" && in.Kind != "video" {
		return nil, Errorf(CodeInvalid, "kind must be audio or video")
	}
	return &ParticipantMute{ID: in.ID, Kind: in.Kind}, nil
}

func decodeRoomMute(in *inbound) (Message, error) {
	if in.Kind != "audio" && in.Kind != "video" {
		return nil, Errorf(CodeInvalid, "kind must be audio or video")
	}
	return &RoomMute{Kind: in.Kind}, nil
}

// withID decodes the messages that carry only a participant id.
func withID(build func(string) Message) func(*inbound) (Message, error) {
	return func(in *inbound) (Message, error) {
		if in.ID == "" || len(in.ID) > maxIDBytes {
			return nil, Errorf(CodeInvalid, "%s needs a participant id", in.Type)
		}
		return build(in.ID), nil
	}
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func decodePublishOffer(in *inbound) (Message, error) {
	if in.SDP == "" || len(in.SDP) > maxSDPBytes {
		return nil, Errorf(CodeInvalid, "publish.offer needs an sdp")
	}
	if len(in.Tracks) > maxTracks {
		return nil, Errorf(CodeInvalid, "publish.offer lists %d tracks, at most %d allowed", len(in.Tracks), maxTracks)
	}
	mids := make(map[string]bool, len(in.Tracks))
	sources := make(map[string]bool, len(in.Tracks))
	for _, t := range in.Tracks {
		if t.Mid == "" || len(t.Mid) > 32 {
			return nil, Errorf(CodeInvalid, "publish.offer track needs a mid of 1 to 32 bytes")
		}
		switch t.Source {
		case SourceMicrophone, SourceCamera, SourceScreen, SourceScreenAudio:
		default:
			return nil, Errorf(CodeInvalid, "unknown track source %.40q", t.Source)
		}
		if mids[t.Mid] || sources[t.Source] {
			return nil, Errorf(CodeInvalid, "publish.offer lists mid %.40q or source %q twice", t.Mid, t.Source)
		}
		mids[t.Mid], sources[t.Source] = true, true
	}
	return &PublishOffer{SDP: in.SDP, Tracks: in.Tracks}, nil
}

func decodeSubscribeAnswer(in *inbound) (Message, error) {
	if in.SDP == "" {
		return nil, Errorf(CodeInvalid, "subscribe.answer needs an sdp")
	}
	return &SubscribeAnswer{SDP: in.SDP}, nil
}

func decodeCandidate(in *inbound) (Message, error) {
	if in.PC != PCPublish && in.PC != PCSubscribe {
		return nil, Errorf(CodeInvalid, "candidate needs pc %q or %q", PCPublish, PCSubscribe)
	}
	if in.Candidate == nil {
		return nil, Errorf(CodeInvalid, "candidate message without a candidate")
	}
	c := in.Candidate
	if len(c.Candidate) > maxCandidateBytes || (c.SDPMid != nil && len(*c.SDPMid) > 32) ||
		(c.UsernameFragment != nil && len(*c.UsernameFragment) > maxFieldBytes) {
		return nil, Errorf(CodeInvalid, "candidate fields too long")
	}
	return &Candidate{PC: in.PC, Candidate: *c}, nil
}

func decodeMedia(in *inbound) (Message, error) {
	if in.Audio == nil || in.Video == nil {
		return nil, Errorf(CodeInvalid, "media needs audio and video")
	}
	return &Media{Audio: *in.Audio, Video: *in.Video}, nil
}

func deref(b *bool) bool { return b != nil && *b }
