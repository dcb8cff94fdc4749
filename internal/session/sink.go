package session

import (
	"strconv"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/signal"
)

// The room.Sink methods: called under the room's lock, they only queue.

// Welcome implements room.Sink.
func (s *Session) Welcome(w room.Welcome) {
	s.admitted.Store(true)
	msg := signal.Joined{
		ID: s.id, Room: w.Room, Role: role(w.Moderator),
		Settings:     settings(w.Settings),
		ICEServers:   s.cfg.ICEServers,
		Participants: make([]signal.Participant, len(w.Others)),
	}
	if msg.ICEServers == nil {
		msg.ICEServers = []signal.ICEServer{}
	}
	for i, o := range w.Others {
		msg.Participants[i] = participant(o)
	}
	s.send(msg)
}

// Waiting implements room.Sink.
func (s *Session) Waiting() { s.send(signal.LobbyWaiting{}) }

// ParticipantJoined implements room.Sink.
func (s *Session) ParticipantJoined(i room.Info) {
	s.send(signal.ParticipantJoined{Participant: participant(i)})
}

// ParticipantUpdated implements room.Sink.
func (s *Session) ParticipantUpdated(i room.Info) {
	s.send(signal.ParticipantUpdated{Participant: participant(i)})
}

// ParticipantLeft implements room.Sink.
func (s *Session) ParticipantLeft(id string) { s.send(signal.ParticipantLeft{ID: id}) }

// Speaking implements room.Sink.
func (s *Session) Speaking(ids []string) {
	if ids == nil {
		ids = []string{}
	}
	s.send(signal.Speaking{IDs: ids})
}

// Knock implements room.Sink.
func (s *Session) Knock(id, name string) {
	s.send(signal.LobbyKnock{Participant: signal.Knocker{ID: id, Name: name}})
}

// KnockGone implements room.Sink.
func (s *Session) KnockGone(id string) { s.send(signal.LobbyGone{ID: id}) }

// SettingsChanged implements room.Sink.
func (s *Session) SettingsChanged(st room.Settings) {
	s.send(signal.RoomSettings{Settings: settings(st)})
}

// Muted implements room.Sink.
func (s *Session) Muted(kind, by string) { s.send(signal.Muted{Kind: kind, By: by}) }

// Chat implements room.Sink.
func (s *Session) Chat(from, to, data string) {
	s.send(signal.ChatMessage{From: from, To: to, Data: data})
}

// Relay implements room.Sink.
func (s *Session) Relay(from, data string) { s.send(signal.RelayMessage{From: from, Data: data}) }

// Draining implements room.Sink.
func (s *Session) Draining(seconds int) { s.send(signal.ServerDraining{Seconds: seconds}) }

// MediaMode implements room.Sink.
func (s *Session) MediaMode(mode, peer string) { s.send(signal.MediaMode{Mode: mode, Peer: peer}) }

// Kicked implements room.Sink: the participant is told why, its media stops
// at once, and the connection closes.
func (s *Session) Kicked(why room.Reason) {
	if s.kicked.Swap(true) {
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
	}
	s.send(signal.ErrorMessage{Code: code, Message: text})
	s.closeWith(CloseRemoved, text)
	// Called under the room's lock: closing media calls back into the room.
	go s.closeMedia()
}

func participant(i room.Info) signal.Participant {
	return signal.Participant{ID: i.ID, Name: i.Name, Audio: i.Audio, Video: i.Video, Screen: i.Screen,
		Role: role(i.Moderator), PublicKey: i.PublicKey, HasKey: i.HasKey, E2EE: i.E2EE}
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
