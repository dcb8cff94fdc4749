// Package room holds the meetings: who is in which room, their state, and
// which published tracks each participant receives. It has no networking of
// its own: participants are reached through a Sink, media through package sfu.
package room

import (
	"slices"
	"sync"
	"time"

	"plausch.dev/plausch/internal/sfu"
)

// Info is what others see of a participant.
type Info struct {
	ID, Name             string
	Audio, Video, Screen bool
}

// Sink delivers room events to one participant. Its methods are called with
// the room's lock held, so they must only queue and never call the room.
type Sink interface {
	// Welcome comes first, with everyone who was already in the meeting.
	Welcome(room string, others []Info)
	ParticipantJoined(Info)
	ParticipantUpdated(Info)
	ParticipantLeft(id string)
	Speaking(ids []string)
}

// Participant is one person in a room.
type Participant struct {
	id   string
	name string
	sink Sink
	sub  *sfu.Subscriber

	// Guarded by the room's mu.
	audio, video bool
	tracks       []*sfu.Track
}

// NewParticipant describes a participant about to join. sub receives the
// tracks of everyone else.
func NewParticipant(id, name string, audio, video bool, sink Sink, sub *sfu.Subscriber) *Participant {
	return &Participant{id: id, name: name, audio: audio, video: video, sink: sink, sub: sub}
}

// ID is the participant's id, unique in its room.
func (p *Participant) ID() string { return p.id }

func (p *Participant) infoLocked() Info {
	info := Info{ID: p.id, Name: p.name, Audio: p.audio, Video: p.video}
	for _, t := range p.tracks {
		if t.Source() == "screen" {
			info.Screen = true
		}
	}
	return info
}

// Room is one meeting. Lock order: Room.mu, then the sfu's own locks.
type Room struct {
	name string
	hash string

	mu       sync.Mutex
	parts    []*Participant // in order of arrival
	speaking []string
	stop     chan struct{}
	done     chan struct{}
}

func newRoom(name, hash string, speakingEvery time.Duration) *Room {
	r := &Room{name: name, hash: hash, stop: make(chan struct{}), done: make(chan struct{})}
	go r.detectSpeakers(speakingEvery)
	return r
}

// Name is the canonical meeting name.
func (r *Room) Name() string { return r.name }

// Hash is a short salted hash of the name, for logs.
func (r *Room) Hash() string { return r.hash }

// join adds p and subscribes it to every track already published, under one
// lock with TrackPublished, so a joiner never misses a track whatever the
// interleaving.
func (r *Room) join(p *Participant, max int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if max > 0 && len(r.parts) >= max {
		return ErrRoomFull
	}
	others := make([]Info, 0, len(r.parts))
	for _, o := range r.parts {
		others = append(others, o.infoLocked())
	}
	// Welcome before any track: the subscribe offers that AddTrack starts
	// must reach the participant after it knows it has joined.
	p.sink.Welcome(r.name, others)
	for _, o := range r.parts {
		for _, t := range o.tracks {
			// Fails only when p's connection is already closing.
			_ = p.sub.AddTrack(t)
		}
	}
	info := p.infoLocked()
	for _, o := range r.parts {
		o.sink.ParticipantJoined(info)
	}
	r.parts = append(r.parts, p)
	return nil
}

// leave removes p and tells the others. It reports whether the room is empty.
func (r *Room) leave(p *Participant) (empty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(r.parts, p)
	if i < 0 {
		return len(r.parts) == 0
	}
	r.parts = slices.Delete(r.parts, i, i+1)
	for _, o := range r.parts {
		o.sink.ParticipantLeft(p.id)
	}
	return len(r.parts) == 0
}

func (r *Room) emptyLocked() bool { return len(r.parts) == 0 }

func (r *Room) close() {
	close(r.stop)
	<-r.done
}

// TrackPublished gives p's new track to everyone else in the room.
func (r *Room) TrackPublished(p *Participant, t *sfu.Track) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.parts, p) {
		return
	}
	p.tracks = append(p.tracks, t)
	for _, o := range r.parts {
		if o != p {
			_ = o.sub.AddTrack(t)
		}
	}
	if t.Source() == "screen" {
		r.broadcastUpdateLocked(p)
	}
}

// TrackEnded forgets p's ended track. Subscribers have already dropped it.
func (r *Room) TrackEnded(p *Participant, t *sfu.Track) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(p.tracks, t)
	if i < 0 {
		return
	}
	p.tracks = slices.Delete(p.tracks, i, i+1)
	if t.Source() == "screen" && slices.Contains(r.parts, p) {
		r.broadcastUpdateLocked(p)
	}
}

// SetMedia records that p switched its microphone or camera.
func (r *Room) SetMedia(p *Participant, audio, video bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.audio == audio && p.video == video {
		return
	}
	p.audio, p.video = audio, video
	r.broadcastUpdateLocked(p)
}

func (r *Room) broadcastUpdateLocked(p *Participant) {
	info := p.infoLocked()
	for _, o := range r.parts {
		if o != p {
			o.sink.ParticipantUpdated(info)
		}
	}
}

// speakingLevel is the smoothed RFC 6464 loudness (127 minus -dBov) above
// which a participant counts as speaking: louder than about -50 dBov.
const speakingLevel = 77

func (r *Room) detectSpeakers(every time.Duration) {
	defer close(r.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.updateSpeaking()
		}
	}
}

func (r *Room) updateSpeaking() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var now []string
	for _, p := range r.parts {
		if !p.audio {
			continue
		}
		for _, t := range p.tracks {
			if t.Source() == "microphone" && t.AudioLevel() >= speakingLevel {
				now = append(now, p.id)
				break
			}
		}
	}
	if slices.Equal(now, r.speaking) {
		return
	}
	r.speaking = now
	for _, p := range r.parts {
		p.sink.Speaking(now)
	}
}
