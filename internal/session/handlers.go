package session

import (
	"errors"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/names"
	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
)

// handlers has one function per client message type.
var handlers = map[string]func(*Session, signal.Message) error{
	"join":             handle((*Session).onJoin),
	"publish.offer":    handle((*Session).onPublishOffer),
	"subscribe.answer": handle((*Session).onSubscribeAnswer),
	"candidate":        handle((*Session).onCandidate),
	"media":            handle((*Session).onMedia),
	"leave":            handle((*Session).onLeave),
}

func handle[T signal.Message](f func(*Session, T) error) func(*Session, signal.Message) error {
	return func(s *Session, m signal.Message) error { return f(s, m.(T)) }
}

func (s *Session) onJoin(m *signal.Join) error {
	if s.part != nil {
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
	sub, err := s.cfg.Engine.NewSubscriber(sfu.SubscriberParams{
		SendOffer: s.sendSubscribeOffer,
		OnFailed:  func() { s.fail("media connection failed") },
	})
	if err != nil {
		return err
	}
	part := room.NewParticipant(s.id, name, m.Audio, m.Video, s, sub)
	pub, err := s.cfg.Engine.NewPublisher(sfu.PublisherParams{
		Label:        s.id,
		OnTrack:      func(t *sfu.Track) { s.room.TrackPublished(part, t) },
		OnTrackEnded: func(t *sfu.Track) { s.room.TrackEnded(part, t) },
		OnFailed:     func() { s.fail("media connection failed") },
	})
	if err != nil {
		_ = sub.Close()
		return err
	}
	r, err := s.cfg.Registry.Join(roomName, part)
	switch {
	case errors.Is(err, room.ErrRoomFull):
		err = &signal.Error{Code: signal.CodeRoomFull, Message: "this meeting is full", Fatal: true}
	case errors.Is(err, room.ErrServerFull):
		err = &signal.Error{Code: signal.CodeServerFull, Message: "this server cannot host another meeting now", Fatal: true}
	}
	if err != nil {
		_ = pub.Close()
		_ = sub.Close()
		return err
	}
	s.room, s.part, s.pub, s.sub = r, part, pub, sub
	s.joined.Store(true)
	s.log = s.log.With("room", r.Hash())
	s.log.Info("joined")
	return nil
}

func (s *Session) onPublishOffer(m *signal.PublishOffer) error {
	sources := make(map[string]string, len(m.Tracks))
	for _, t := range m.Tracks {
		sources[t.Mid] = t.Source
	}
	answer, err := s.pub.HandleOffer(m.SDP, sources)
	if err != nil {
		return mediaError(err)
	}
	s.send(signal.PublishAnswer{SDP: answer})
	return nil
}

func (s *Session) onSubscribeAnswer(m *signal.SubscribeAnswer) error {
	return mediaError(s.sub.HandleAnswer(m.SDP))
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
		return mediaError(s.pub.AddCandidate(c))
	}
	return mediaError(s.sub.AddCandidate(c))
}

func (s *Session) onMedia(m *signal.Media) error {
	s.room.SetMedia(s.part, m.Audio, m.Video)
	return nil
}

func (s *Session) onLeave(*signal.Leave) error {
	s.closeWith(websocket.StatusNormalClosure, "left the meeting")
	return nil
}

// mediaError maps the sfu's errors to what the client is told.
func mediaError(err error) error {
	switch {
	case err == nil:
		return nil
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

func (s *Session) sendSubscribeOffer(sdp string, tracks []sfu.OfferedTrack) {
	msg := signal.SubscribeOffer{SDP: sdp, Tracks: make([]signal.SubscribedTrack, len(tracks))}
	for i, t := range tracks {
		msg.Tracks[i] = signal.SubscribedTrack{Mid: t.Mid, Participant: t.Publisher, Source: t.Source, Kind: t.Kind}
	}
	s.send(msg)
}

// The room.Sink methods: called under the room's lock, they only queue.

// Welcome implements room.Sink.
func (s *Session) Welcome(roomName string, others []room.Info) {
	msg := signal.Joined{ID: s.id, Room: roomName, ICEServers: s.cfg.ICEServers, Participants: make([]signal.Participant, len(others))}
	if msg.ICEServers == nil {
		msg.ICEServers = []signal.ICEServer{}
	}
	for i, o := range others {
		msg.Participants[i] = participant(o)
	}
	s.send(msg)
}

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

func participant(i room.Info) signal.Participant {
	return signal.Participant{ID: i.ID, Name: i.Name, Audio: i.Audio, Video: i.Video, Screen: i.Screen}
}
