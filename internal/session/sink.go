package session

import (
	"math"
	"slices"
	"strconv"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
)

// The room.Sink methods: called under the room's lock, they only queue.

// Welcome implements room.Sink.
func (m *member) Welcome(w room.Welcome) {
	m.admitted.Store(true)
	msg := signal.Joined{
		ID: m.id, Room: w.Room, Role: role(w.Moderator), Resume: m.cfg.Members.tokenOf(m),
		Settings:     settings(w.Settings),
		ICEServers:   m.iceServers(),
		Participants: make([]signal.Participant, len(w.Others)),
	}
	if msg.ICEServers == nil {
		msg.ICEServers = []signal.ICEServer{}
	}
	for i, o := range w.Others {
		msg.Participants[i] = participant(o)
	}
	m.send(msg)
}

// Waiting implements room.Sink.
func (m *member) Waiting(why room.WaitReason) { m.send(signal.LobbyWaiting{Reason: waitReason(why)}) }

// ParticipantJoined implements room.Sink.
func (m *member) ParticipantJoined(i room.Info) {
	m.send(signal.ParticipantJoined{Participant: participant(i)})
}

// ParticipantUpdated implements room.Sink.
func (m *member) ParticipantUpdated(i room.Info) {
	m.send(signal.ParticipantUpdated{Participant: participant(i)})
}

// ParticipantLeft implements room.Sink.
func (m *member) ParticipantLeft(id string) { m.send(signal.ParticipantLeft{ID: id}) }

// Speaking implements room.Sink.
func (m *member) Speaking(ids []string) {
	if ids == nil {
		ids = []string{}
	}
	m.send(signal.Speaking{IDs: ids})
}

// Knock implements room.Sink.
func (m *member) Knock(id, name string, why room.WaitReason) {
	m.send(signal.LobbyKnock{Participant: signal.Knocker{ID: id, Name: name, Reason: waitReason(why)}})
}

func waitReason(why room.WaitReason) string {
	switch why {
	case room.WaitPassword:
		return signal.WaitPassword
	case room.WaitRemoved:
		return signal.WaitRemoved
	}
	return ""
}

// KnockGone implements room.Sink.
func (m *member) KnockGone(id string) { m.send(signal.LobbyGone{ID: id}) }

// SettingsChanged implements room.Sink.
func (m *member) SettingsChanged(st room.Settings) {
	m.send(signal.RoomSettings{Settings: settings(st)})
}

// Muted implements room.Sink.
func (m *member) Muted(kind, by string) { m.send(signal.Muted{Kind: kind, By: by}) }

// Chat implements room.Sink.
func (m *member) Chat(from, to, data string) {
	m.send(signal.ChatMessage{From: from, To: to, Data: data})
}

// Relay implements room.Sink.
func (m *member) Relay(from, data string) { m.send(signal.RelayMessage{From: from, Data: data}) }

// Draining implements room.Sink.
func (m *member) Draining(seconds int) { m.send(signal.ServerDraining{Seconds: seconds}) }

// Dominant implements room.Sink.
func (m *member) Dominant(id string) { m.send(signal.Dominant{ID: id}) }

// Quality implements room.Sink.
func (m *member) Quality(list []room.Quality) {
	msg := signal.Quality{Participants: make([]signal.ParticipantQuality, len(list))}
	for i, q := range list {
		msg.Participants[i] = participantQuality(q)
	}
	m.send(msg)
}

// participantQuality rates a connection: poor above 10 % loss or 400 ms
// round trip, fair above 3 % or 200 ms.
func participantQuality(q room.Quality) signal.ParticipantQuality {
	loss := max(q.Up.Loss, q.Down.Loss)
	rtt := float64(q.Down.RTT.Microseconds()) / 1000
	level := "good"
	switch {
	case loss > 0.10 || rtt > 400:
		level = "poor"
	case loss > 0.03 || rtt > 200:
		level = "fair"
	}
	return signal.ParticipantQuality{
		ID: q.ID, Level: level, SendKbps: int(q.Up.Bitrate / 1000), RecvKbps: int(q.Down.Bitrate / 1000),
		Loss: math.Round(loss*1000) / 1000, RTT: math.Round(rtt*10) / 10, BandwidthKbps: q.Down.Bandwidth / 1000,
	}
}

// sendForwarded tells the participant which videos it receives now.
func (m *member) sendForwarded(list []sfu.Forwarded) {
	msg := signal.Forwarded{Videos: make([]signal.ForwardedVideo, len(list))}
	for i, f := range list {
		msg.Videos[i] = signal.ForwardedVideo{Participant: f.Publisher, Source: f.Source, Layer: f.Layer, Width: f.Width, Height: f.Height}
	}
	m.send(msg)
}

// MediaMode implements room.Sink.
func (m *member) MediaMode(mode, peer string) { m.send(signal.MediaMode{Mode: mode, Peer: peer}) }

// Kicked implements room.Sink: the participant is told why, its media stops
// at once, and the connection closes.
func (m *member) Kicked(why room.Reason) {
	if m.kicked.Swap(true) {
		return
	}
	code, text := signal.CodeRemoved, "a moderator removed you from the meeting"
	switch why {
	case room.Denied:
		code, text = signal.CodeDenied, "the host did not let you in"
	case room.Ended:
		code, text = signal.CodeEnded, "the meeting has ended"
	case room.E2EERequired:
		code, text = signal.CodeE2EERequired, "this meeting requires end-to-end encrypted media, which this browser cannot do"
	case room.LobbyTimedOut:
		code, text = signal.CodeLobbyTimeout, "nobody let you into the meeting in time"
	}
	m.send(signal.ErrorMessage{Code: code, Message: text})
	m.closeConn(CloseRemoved, text)
	// Called under the room's lock: ending media and leaving call back
	// into the room.
	go m.finish()
}

func participant(i room.Info) signal.Participant {
	return signal.Participant{ID: i.ID, Name: i.Name, Audio: i.Audio, Video: i.Video, Screen: i.Screen,
		Role: role(i.Moderator), PublicKey: i.PublicKey, HasKey: i.HasKey, E2EE: i.E2EE, Reconnecting: i.Reconnecting}
}

func role(moderator bool) string {
	if moderator {
		return signal.RoleModerator
	}
	return signal.RoleParticipant
}

func settings(st room.Settings) signal.Settings {
	return signal.Settings{Password: st.Password, Lobby: st.Lobby, E2EERequired: st.E2EERequired, P2P: st.P2P}
}

func itoa(i int) string { return strconv.Itoa(i) }

// iceServers are the configured ICE servers and, with a relay, this
// participant's TURN credentials.
func (m *member) iceServers() []signal.ICEServer {
	if m.cfg.Relay == nil {
		return m.cfg.ICEServers
	}
	return append(slices.Clip(m.cfg.ICEServers), m.cfg.Relay.ICEServers(m.id)...)
}
