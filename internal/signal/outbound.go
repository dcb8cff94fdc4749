package signal

import "encoding/json"

// Outbound is a message from the server to a client.
type Outbound interface{ outboundType() string }

// Encode renders an outbound message as JSON with its "type" first.
func Encode(m Outbound) []byte {
	body, err := json.Marshal(m)
	if err != nil {
		// Every outbound type marshals; failing here is a programming error.
		panic("signal: encode " + m.outboundType() + ": " + err.Error())
	}
	head := `{"type":"` + m.outboundType() + `"`
	if len(body) == 2 { // "{}"
		return []byte(head + "}")
	}
	return append([]byte(head+","), body[1:]...)
}

// Participant is what others know of a participant.
type Participant struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Audio     bool   `json:"audio"`
	Video     bool   `json:"video"`
	Screen    bool   `json:"screen"`
	Role      string `json:"role"`
	PublicKey string `json:"publicKey"`
	HasKey    bool   `json:"hasKey"`
	E2EE      bool   `json:"e2ee"`
	// Reconnecting: the connection was lost and may come back.
	Reconnecting bool `json:"reconnecting"`
}

// Roles.
const (
	RoleModerator   = "moderator"
	RoleParticipant = "participant"
)

// Settings are the meeting's switches; the password itself is never sent.
type Settings struct {
	Password     bool `json:"password"`
	Lobby        bool `json:"lobby"`
	E2EERequired bool `json:"e2eeRequired"`
	P2P          bool `json:"p2p"`
}

// ServerDraining tells that the server shuts down after Seconds.
type ServerDraining struct {
	Seconds int `json:"seconds"`
}

// Media modes.
const (
	ModeSFU = "sfu"
	ModeP2P = "p2p"
)

// MediaMode says how media travels now; Peer is the other one in P2P.
type MediaMode struct {
	Mode string `json:"mode"`
	Peer string `json:"peer,omitempty"`
}

// ICEServer is an operator-configured STUN or TURN server.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Joined answers a join.
type Joined struct {
	ID           string        `json:"id"`
	Room         string        `json:"room"`
	Role         string        `json:"role"`
	Resume       string        `json:"resume,omitempty"` // token for resume, if asked for
	Settings     Settings      `json:"settings"`
	ICEServers   []ICEServer   `json:"iceServers"`
	Participants []Participant `json:"participants"`
}

// PublishAnswer answers a publish offer.
type PublishAnswer struct {
	SDP string `json:"sdp"`
}

// SubscribeOffer is the server's offer for the subscribe connection.
type SubscribeOffer struct {
	SDP    string            `json:"sdp"`
	Tracks []SubscribedTrack `json:"tracks"`
}

// SubscribedTrack says whose media an m-line of a subscribe offer carries.
type SubscribedTrack struct {
	Mid         string `json:"mid"`
	Participant string `json:"participant"`
	Source      string `json:"source"`
	Kind        string `json:"kind"`
}

// ParticipantJoined announces a newcomer.
type ParticipantJoined struct {
	Participant Participant `json:"participant"`
}

// ParticipantUpdated announces a changed participant state.
type ParticipantUpdated struct {
	Participant Participant `json:"participant"`
}

// ParticipantLeft announces that a participant is gone.
type ParticipantLeft struct {
	ID string `json:"id"`
}

// Speaking lists who is speaking now.
type Speaking struct {
	IDs []string `json:"ids"`
}

// ErrorMessage reports a problem with the client's last message.
type ErrorMessage struct {
	Code       Code   `json:"code"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retryAfter,omitempty"`
}

// LobbyWaiting tells a newcomer to wait for a moderator.
type LobbyWaiting struct {
	Reason string `json:"reason,omitempty"` // a WaitReason; none: the lobby is on
}

// Why someone waits at the lobby, besides the lobby being on.
const (
	// WaitPassword: out of password attempts, the password was not
	// checked.
	WaitPassword = "password"
	// WaitRemoved: someone from the same network was removed from the
	// meeting a short while ago.
	WaitRemoved = "removed"
)

// Knocker is someone waiting in the lobby.
type Knocker struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"` // as in LobbyWaiting
}

// LobbyKnock tells moderators that someone waits.
type LobbyKnock struct {
	Participant Knocker `json:"participant"`
}

// LobbyGone tells moderators that someone no longer waits.
type LobbyGone struct {
	ID string `json:"id"`
}

// RoomSettings announces changed settings.
type RoomSettings struct {
	Settings Settings `json:"settings"`
}

// Muted tells a participant that a moderator muted it.
type Muted struct {
	Kind string `json:"kind"`
	By   string `json:"by"`
}

// ChatMessage relays an end-to-end encrypted chat message.
type ChatMessage struct {
	From string `json:"from"`
	To   string `json:"to,omitempty"`
	Data string `json:"data"`
}

// RelayMessage relays opaque data from another participant.
type RelayMessage struct {
	From string `json:"from"`
	Data string `json:"data"`
}

// Forwarded lists the videos the server sends the client now.
type Forwarded struct {
	Videos []ForwardedVideo `json:"videos"`
}

// ForwardedVideo is one video sent, and its simulcast layer.
type ForwardedVideo struct {
	Participant string `json:"participant"`
	Source      string `json:"source"`
	Layer       int    `json:"layer"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// Dominant names the dominant speaker.
type Dominant struct {
	ID string `json:"id"`
}

// Quality carries the connection figures of everyone in the meeting.
type Quality struct {
	Participants []ParticipantQuality `json:"participants"`
}

// ParticipantQuality is what the server measured of one participant's
// connection.
type ParticipantQuality struct {
	ID            string  `json:"id"`
	Level         string  `json:"level"` // good, fair or poor
	SendKbps      int     `json:"sendKbps"`
	RecvKbps      int     `json:"recvKbps"`
	Loss          float64 `json:"loss"`
	RTT           float64 `json:"rtt"` // ms, to 0.1`
	BandwidthKbps int     `json:"bandwidthKbps"`
}

func (Forwarded) outboundType() string          { return "forwarded" }
func (Dominant) outboundType() string           { return "dominant" }
func (Quality) outboundType() string            { return "quality" }
func (Joined) outboundType() string             { return "joined" }
func (PublishAnswer) outboundType() string      { return "publish.answer" }
func (SubscribeOffer) outboundType() string     { return "subscribe.offer" }
func (ParticipantJoined) outboundType() string  { return "participant.joined" }
func (ParticipantUpdated) outboundType() string { return "participant.updated" }
func (ParticipantLeft) outboundType() string    { return "participant.left" }
func (Speaking) outboundType() string           { return "speaking" }
func (ErrorMessage) outboundType() string       { return "error" }
func (LobbyWaiting) outboundType() string       { return "lobby.waiting" }
func (LobbyKnock) outboundType() string         { return "lobby.knock" }
func (LobbyGone) outboundType() string          { return "lobby.gone" }
func (RoomSettings) outboundType() string       { return "room.settings" }
func (Muted) outboundType() string              { return "muted" }
func (ChatMessage) outboundType() string        { return "chat" }
func (RelayMessage) outboundType() string       { return "relay" }
func (MediaMode) outboundType() string          { return "media.mode" }
func (ServerDraining) outboundType() string     { return "server.draining" }
