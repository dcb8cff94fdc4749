package session

import (
	"errors"
	"math"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/names"
	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
)

// handlers has one function per client message type.
var handlers = map[string]func(*Session, signal.Message) error{
	"join":               handle((*Session).onJoin),
	"publish.offer":      handle((*Session).onPublishOffer),
	"subscribe.answer":   handle((*Session).onSubscribeAnswer),
	"candidate":          handle((*Session).onCandidate),
	"media":              handle((*Session).onMedia),
	"leave":              handle((*Session).onLeave),
	"key.status":         handle((*Session).onKeyStatus),
	"chat":               handle((*Session).onChat),
	"relay":              handle((*Session).onRelay),
	"room.password":      handle((*Session).onRoomPassword),
	"room.lobby":         handle((*Session).onRoomLobby),
	"lobby.admit":        handle((*Session).onLobbyAdmit),
	"lobby.deny":         handle((*Session).onLobbyDeny),
	"participant.mute":   handle((*Session).onParticipantMute),
	"room.mute":          handle((*Session).onRoomMute),
	"participant.remove": handle((*Session).onParticipantRemove),
	"participant.grant":  handle((*Session).onParticipantGrant),
	"room.end":           handle((*Session).onRoomEnd),
	"room.e2ee":          handle((*Session).onRoomE2EE),
	"room.p2p":           handle((*Session).onRoomP2P),
	"resume":             handle((*Session).onResume),
	"restart":            handle((*Session).onRestart),
	"view":               handle((*Session).onView),
}

func handle[T signal.Message](f func(*Session, T) error) func(*Session, signal.Message) error {
	return func(s *Session, m signal.Message) error { return f(s, m.(T)) }
}

func (s *Session) onJoin(m *signal.Join) error {
	if s.m != nil {
		return signal.Errorf(signal.CodeOutOfOrder, "already joined")
	}
	roomName, err := names.Normalize(m.Room)
	if err != nil {
		return &signal.Error{Code: signal.CodeBadRoom, Message: err.Error(), Fatal: true}
	}
	name, err := names.NormalizeDisplayName(m.Name)
	if err != nil {
		return signal.Errorf(signal.CodeBadName, "%s", err.Error())
	}
	mem := &member{id: s.id, resumable: m.Resumable, cfg: s.cfg, log: s.log, conn: s}
	if mem.resumable {
		mem.token = newToken()
	}
	mem.sub, err = s.cfg.Engine.NewSubscriber(sfu.SubscriberParams{
		SendOffer:   mem.sendSubscribeOffer,
		OnFailed:    mem.mediaFailed,
		OnForwarded: mem.sendForwarded,
	})
	if err != nil {
		return err
	}
	mem.part = room.NewParticipant(room.ParticipantParams{
		ID: s.id, Name: name, PublicKey: m.PublicKey,
		Audio: m.Audio, Video: m.Video, HasKey: m.HasKey, E2EE: m.E2EE,
		Source: string(s.source), Sink: mem, Sub: mem.sub,
		Quality: func() (up, down sfu.LinkQuality) { return mem.pub.Quality(), mem.sub.Quality() },
	})
	mem.pub, err = s.cfg.Engine.NewPublisher(sfu.PublisherParams{
		Label:        s.id,
		OnTrack:      func(t *sfu.Track) { mem.part.Room().TrackPublished(mem.part, t) },
		OnTrackEnded: func(t *sfu.Track) { mem.part.Room().TrackEnded(mem.part, t) },
		OnFailed:     mem.mediaFailed,
	})
	if err != nil {
		_ = mem.sub.Close()
		return err
	}
	// All is set before joining: once in the room, a moderator may remove
	// this participant (finish) from another goroutine.
	mem.log = s.log.With("room", s.cfg.Registry.Hash(roomName))
	// The token is known before joined carries it: a client that loses
	// the connection right after can resume at once.
	if mem.resumable {
		s.cfg.Members.add(mem)
	}
	if _, err := s.cfg.Registry.Join(roomName, mem.part, m.Password, s.attempts); err != nil {
		s.cfg.Members.remove(mem)
		mem.closeMedia()
		return joinError(err)
	}
	s.log, s.m = mem.log, mem
	s.bound.Store(true)
	s.log.Info("joined", "admitted", mem.admitted.Load())
	return nil
}

// onResume continues a participant's session on this connection: same id,
// role, media connections and keys; it gets a fresh picture of the meeting.
func (s *Session) onResume(m *signal.Resume) error {
	if s.m != nil {
		return signal.Errorf(signal.CodeOutOfOrder, "already joined")
	}
	// A token works once: whoever resumes gets a new one in the joined
	// that follows, and the old one is dead from now on, so a stolen
	// token cannot take the session back and forth.
	mem := s.cfg.Members.take(m.Token)
	if mem == nil {
		return &signal.Error{Code: signal.CodeResumeFailed, Fatal: true, Message: "this session is over; join again"}
	}
	old, ok := mem.attach(s)
	if !ok {
		return &signal.Error{Code: signal.CodeResumeFailed, Fatal: true, Message: "this session is over; join again"}
	}
	s.cfg.Members.issue(mem)
	if old != nil {
		old.closeWith(CloseReplaced, "continued on a new connection")
	}
	s.m, s.log = mem, mem.log
	s.bound.Store(true)
	mem.showReconnecting()
	mem.part.Room().Resync(mem.part)
	mem.sub.ResendOffer()
	s.log.Info("resumed")
	return nil
}

func (s *Session) onRestart(*signal.Restart) error {
	s.m.sub.RestartICE()
	return nil
}

func joinError(err error) error {
	var tooMany *room.TooManyAttemptsError
	switch {
	case errors.Is(err, room.ErrRoomFull):
		return &signal.Error{Code: signal.CodeRoomFull, Message: "this meeting is full", Fatal: true}
	case errors.Is(err, room.ErrLobbyFull):
		return &signal.Error{Code: signal.CodeRoomFull, Message: "too many people are waiting to get into this meeting", Fatal: true}
	case errors.Is(err, room.ErrDraining):
		return &signal.Error{Code: signal.CodeServerDraining, Message: "this server is restarting and starts no new meeting; try again in a moment", Fatal: true}
	case errors.Is(err, room.ErrServerFull):
		return &signal.Error{Code: signal.CodeServerFull, Message: "this server cannot host another meeting now", Fatal: true}
	case errors.Is(err, room.ErrTooManyMeetings):
		return &signal.Error{Code: signal.CodeTooManyMeetings, Fatal: true,
			Message: "too many meetings were started from your network; join a running one or try again later"}
	case errors.Is(err, room.ErrE2EERequired):
		return &signal.Error{Code: signal.CodeE2EERequired, Fatal: true,
			Message: "this meeting requires end-to-end encrypted media, which this browser cannot do"}
	case errors.Is(err, room.ErrPasswordRequired):
		return signal.Errorf(signal.CodePasswordRequired, "this meeting has a password")
	case errors.Is(err, room.ErrWrongPassword):
		return signal.Errorf(signal.CodeWrongPassword, "wrong password")
	case errors.As(err, &tooMany):
		secs := int(math.Ceil(tooMany.RetryAfter.Seconds()))
		return &signal.Error{Code: signal.CodeTooManyAttempts, RetryAfter: secs,
			Message: "too many password attempts, try again in " + itoa(secs) + " s"}
	}
	return err
}

func (s *Session) onPublishOffer(m *signal.PublishOffer) error {
	sources := make(map[string]string, len(m.Tracks))
	for _, t := range m.Tracks {
		sources[t.Mid] = t.Source
	}
	answer, err := s.m.pub.HandleOffer(m.SDP, sources)
	if err != nil {
		return mediaError(err)
	}
	s.send(signal.PublishAnswer{SDP: answer})
	return nil
}

func (s *Session) onSubscribeAnswer(m *signal.SubscribeAnswer) error {
	return mediaError(s.m.sub.HandleAnswer(m.SDP))
}

func (s *Session) onCandidate(m *signal.Candidate) error {
	c := webrtc.ICECandidateInit{
		Candidate:        m.Candidate.Candidate,
		SDPMid:           m.Candidate.SDPMid,
		SDPMLineIndex:    m.Candidate.SDPMLineIndex,
		UsernameFragment: m.Candidate.UsernameFragment,
	}
	if c.Candidate == "" {
		return nil // end of candidates: nothing to do for the server
	}
	if m.PC == signal.PCPublish {
		return mediaError(s.m.pub.AddCandidate(c))
	}
	return mediaError(s.m.sub.AddCandidate(c))
}

func (s *Session) onMedia(m *signal.Media) error {
	s.m.part.Room().SetMedia(s.m.part, m.Audio, m.Video)
	return nil
}

func (s *Session) onLeave(*signal.Leave) error {
	s.meantToLeave = true
	s.closeWith(websocket.StatusNormalClosure, "left the meeting")
	return nil
}

func (s *Session) onKeyStatus(m *signal.KeyStatus) error {
	s.m.part.Room().SetHasKey(s.m.part, m.HasKey)
	return nil
}

func (s *Session) onView(m *signal.View) error {
	videos := make([]room.Video, len(m.Videos))
	for i, v := range m.Videos {
		videos[i] = room.Video{Participant: v.Participant, Source: v.Source, Width: v.Width, Height: v.Height}
	}
	s.m.part.Room().SetView(s.m.part, videos, m.LastN)
	return nil
}

func (s *Session) onChat(m *signal.Chat) error {
	return roomError(s.m.part.Room().Chat(s.m.part, m.To, m.Data))
}

func (s *Session) onRelay(m *signal.Relay) error {
	return roomError(s.m.part.Room().Relay(s.m.part, m.To, m.Data))
}

func (s *Session) onRoomPassword(m *signal.RoomPassword) error {
	return roomError(s.m.part.Room().SetPassword(s.m.part, m.Password))
}

func (s *Session) onRoomLobby(m *signal.RoomLobby) error {
	return roomError(s.m.part.Room().SetLobby(s.m.part, m.Enabled))
}

func (s *Session) onLobbyAdmit(m *signal.LobbyAdmit) error {
	return roomError(s.m.part.Room().Admit(s.m.part, m.ID))
}

func (s *Session) onLobbyDeny(m *signal.LobbyDeny) error {
	return roomError(s.m.part.Room().Deny(s.m.part, m.ID))
}

func (s *Session) onParticipantMute(m *signal.ParticipantMute) error {
	return roomError(s.m.part.Room().Mute(s.m.part, m.ID, m.Kind))
}

func (s *Session) onRoomMute(m *signal.RoomMute) error {
	return roomError(s.m.part.Room().MuteAll(s.m.part, m.Kind))
}

func (s *Session) onParticipantRemove(m *signal.ParticipantRemove) error {
	return roomError(s.m.part.Room().Remove(s.m.part, m.ID))
}

func (s *Session) onParticipantGrant(m *signal.ParticipantGrant) error {
	return roomError(s.m.part.Room().Grant(s.m.part, m.ID))
}

func (s *Session) onRoomEnd(*signal.RoomEnd) error {
	return roomError(s.cfg.Registry.End(s.m.part.Room(), s.m.part))
}

func (s *Session) onRoomE2EE(m *signal.RoomE2EE) error {
	return roomError(s.m.part.Room().RequireE2EE(s.m.part, m.Required))
}

func (s *Session) onRoomP2P(m *signal.RoomP2P) error {
	return roomError(s.m.part.Room().AllowP2P(s.m.part, m.Enabled))
}

// roomError maps the room's refusals to what the client is told.
func roomError(err error) error {
	switch {
	case errors.Is(err, room.ErrForbidden):
		return signal.Errorf(signal.CodeForbidden, "only a moderator may do this")
	case errors.Is(err, room.ErrNotFound):
		return signal.Errorf(signal.CodeNotFound, "no such participant in this meeting")
	case errors.Is(err, room.ErrE2EERequired):
		return signal.Errorf(signal.CodeE2EERequired, "your own browser cannot encrypt media end to end")
	}
	return err
}

// mediaError maps the sfu's errors to what the client is told.
func mediaError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sfu.ErrTooManyLayers):
		return signal.Errorf(signal.CodeBadSDP, "an m-line offers more than %d simulcast layers", sfu.MaxLayers)
	case errors.Is(err, sfu.ErrBadLayers):
		return signal.Errorf(signal.CodeBadSDP, "simulcast layers (rids) must be on video, well formed and named once")
	case errors.Is(err, sfu.ErrTooManyMLines):
		return signal.Errorf(signal.CodeBadSDP, "the offer has more than %d m-lines", sfu.MaxMLines)
	case errors.Is(err, sfu.ErrUnannounced):
		return signal.Errorf(signal.CodeBadSDP, "every m-line that sends must be audio or video and listed in tracks, as a source of its kind")
	case errors.Is(err, sfu.ErrBadSDP):
		return signal.Errorf(signal.CodeBadSDP, "the session description was rejected")
	case errors.Is(err, sfu.ErrNoOffer):
		return signal.Errorf(signal.CodeOutOfOrder, "subscribe.answer without a pending offer")
	case errors.Is(err, sfu.ErrBadCandidate):
		return signal.Errorf(signal.CodeInvalid, "the ICE candidate was rejected")
	case errors.Is(err, sfu.ErrTooManyCandidates):
		return signal.Errorf(signal.CodeInvalid, "too many candidates before the offer")
	}
	return err
}

func (m *member) sendSubscribeOffer(sdp string, tracks []sfu.OfferedTrack) {
	msg := signal.SubscribeOffer{SDP: sdp, Tracks: make([]signal.SubscribedTrack, len(tracks))}
	for i, t := range tracks {
		msg.Tracks[i] = signal.SubscribedTrack{Mid: t.Mid, Participant: t.Publisher, Source: t.Source, Kind: t.Kind}
	}
	m.send(msg)
}
