// Package room holds the meetings: who is in which room, their roles and
// state, the lobby and password, and which published tracks each participant
// receives. It has no networking of its own: participants are reached through
// a Sink, media through package sfu. Every rule about who may do what is
// enforced here.
package room

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/source"
)

// Info is what others see of a participant.
type Info struct {
	ID, Name             string
	Audio, Video, Screen bool
	Moderator            bool
	PublicKey            string
	HasKey               bool
	E2EE                 bool
	Reconnecting         bool
}

// Settings are the meeting's switches.
type Settings struct{ Password, Lobby, E2EERequired, P2P bool }

// Media modes: through the server, or directly between two browsers.
const (
	ModeSFU = "sfu"
	ModeP2P = "p2p"
)

// Welcome is what an admitted participant learns first.
type Welcome struct {
	Room      string
	Moderator bool
	Settings  Settings
	Others    []Info
}

// Reason says why a participant was made to leave.
type Reason int

// Reasons for Kicked.
const (
	Removed       Reason = iota // by a moderator
	Denied                      // at the lobby
	Ended                       // the meeting ended
	E2EERequired                // the meeting requires what the browser cannot do
	LobbyTimedOut               // nobody let them in within the lobby's time limit
)

// Sink delivers room events to one participant. Its methods are called with
// the room's lock held, so they must only queue and never call the room.
type Sink interface {
	Welcome(Welcome)    // admitted; comes before any other event
	Waiting(WaitReason) // in the lobby
	ParticipantJoined(Info)
	ParticipantUpdated(Info)
	ParticipantLeft(id string)
	Speaking(ids []string)
	Knock(id, name string, why WaitReason) // to moderators
	KnockGone(id string)                   // to moderators
	SettingsChanged(Settings)
	Muted(kind, by string)
	Chat(from, to, data string)
	Relay(from, data string)
	MediaMode(mode, peer string) // peer is the other one in P2P mode
	Draining(seconds int)        // the server shuts down soon
	Dominant(id string)          // the dominant speaker changed
	Quality([]Quality)           // everyone's connection figures, every 2 s
	Kicked(Reason)
}

// Participant is one person in a room, or waiting at its lobby.
type Participant struct {
	id        string
	name      string
	publicKey string
	e2ee      bool
	source    string // where it connects from; "" if unknown
	sink      Sink
	sub       *sfu.Subscriber
	room      *Room // set under the room's lock when it enters

	// Guarded by the room's mu.
	audio, video bool
	moderator    bool
	hasKey       bool
	reconnecting bool
	tracks       []*sfu.Track
	view         []Video // what p shows, once it said so
	viewSet      bool
	lastN        int
	wait         WaitReason // why it waits, while in the lobby
	waitingSince time.Time

	quality func() (up, down sfu.LinkQuality) // nil: not measured
}

// ParticipantParams describe a participant about to join.
type ParticipantParams struct {
	ID, Name     string
	PublicKey    string // passed on to the others untouched
	Audio, Video bool   // switched on at the start
	HasKey       bool   // holds the meeting key
	E2EE         bool   // encrypts media frames end to end
	// Source stands for where the participant connects from (package
	// source's Key); "" when unknown. The per-source rules use it.
	Source string
	Sink   Sink
	Sub    *sfu.Subscriber // receives the tracks of everyone else
	// Quality, if set, measures the participant's connection: what it
	// sends (up) and receives (down).
	Quality func() (up, down sfu.LinkQuality)
}

// NewParticipant makes a participant from p.
func NewParticipant(p ParticipantParams) *Participant {
	return &Participant{id: p.ID, name: p.Name, publicKey: p.PublicKey, e2ee: p.E2EE, audio: p.Audio, video: p.Video,
		hasKey: p.HasKey, source: p.Source, sink: p.Sink, sub: p.Sub, quality: p.Quality}
}

// Room is the meeting p entered. It is set before any Sink call, so code
// reacting to one may use it.
func (p *Participant) Room() *Room { return p.room }

func (p *Participant) infoLocked() Info {
	info := Info{ID: p.id, Name: p.name, Audio: p.audio, Video: p.video, Moderator: p.moderator,
		PublicKey: p.publicKey, HasKey: p.hasKey, E2EE: p.e2ee, Reconnecting: p.reconnecting}
	for _, t := range p.tracks {
		if t.Source() == "screen" {
			info.Screen = true
		}
	}
	return info
}

// Room is one meeting. Lock order: Registry.mu, Room.mu, then the sfu's.
type Room struct {
	name   string
	hash   string
	cfg    Config // with defaults
	now    func() time.Time
	opener string // the source that started the meeting

	// Wrong passwords: for the meeting, and per source (nil: no limit).
	meetingAttempts *rate.Limiter
	sourceAttempts  *source.Limiters[string]
	// removed marks the sources of removed participants for a while:
	// their joins knock at the lobby (nil: not kept).
	removed *source.Marks[string]

	mu       sync.Mutex
	parts    []*Participant // admitted, in order of arrival
	waiting  []*Participant // in the lobby, in order of arrival
	password []byte         // HMAC of the password, nil if none
	salt     [16]byte
	lobby    bool
	e2ee     bool // end-to-end encrypted media required
	p2p      bool // direct media allowed while two are here
	mode     string
	draining func() int // seconds until the server shuts down, 0 if not
	speaking []string
	recent   []string // who spoke, latest first
	// audioLastN, when set, limits forwarded microphones to those of recent.
	audioLastN int
	dominant   string
	// candidate has been the loudest for candidateTicks speaker checks.
	candidate      string
	candidateTicks int
	stop           chan struct{}
	done           chan struct{}
}

// newRoom makes a meeting; cfg has its defaults.
func newRoom(name, hash string, cfg Config) *Room {
	r := &Room{
		name: name, hash: hash, cfg: cfg, now: cfg.Now, p2p: !cfg.DisableP2P, mode: ModeSFU, audioLastN: cfg.AudioLastN,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if n := cfg.PasswordAttemptsPerMeeting; n > 0 {
		r.meetingAttempts = rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), n)
	}
	if n := cfg.PasswordAttemptsPerSource; n > 0 {
		r.sourceAttempts = source.NewLimiters[string](time.Minute/time.Duration(n), n, cfg.Now)
	}
	if cfg.RemovalLockout > 0 {
		r.removed = source.NewMarks[string](cfg.RemovalLockout, cfg.Now)
	}
	go r.detectSpeakers(cfg.SpeakingEvery)
	return r
}

// Hash is a short salted hash of the name, for logs.
func (r *Room) Hash() string { return r.hash }

func (r *Room) settingsLocked() Settings {
	return Settings{Password: r.password != nil, Lobby: r.lobby, E2EERequired: r.e2ee, P2P: r.p2p}
}

// admitLocked adds p to the meeting and subscribes it to every track already
// published. TrackPublished runs under the same lock, so an admitted
// participant never misses a track whatever the interleaving.
func (r *Room) admitLocked(p *Participant) {
	p.moderator = len(r.parts) == 0
	// Welcome before any track: the subscribe offers that AddTrack starts
	// must reach the participant after it knows it has joined.
	r.welcomeLocked(p)
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
	r.applyAudioLocked(p)
	r.tellDrainingLocked(p)
	if !r.updateModeLocked() {
		p.sink.MediaMode(r.mode, r.peerLocked(p))
	}
}

// tellDrainingLocked tells a newcomer when the server is shutting down.
func (r *Room) tellDrainingLocked(p *Participant) {
	if r.draining != nil {
		if s := r.draining(); s > 0 {
			p.sink.Draining(s)
		}
	}
}

// welcomeLocked tells p who else is in the meeting, its role and settings.
func (r *Room) welcomeLocked(p *Participant) {
	others := make([]Info, 0, len(r.parts))
	for _, o := range r.parts {
		if o != p {
			others = append(others, o.infoLocked())
		}
	}
	p.sink.Welcome(Welcome{Room: r.name, Moderator: p.moderator, Settings: r.settingsLocked(), Others: others})
	if r.dominant != "" {
		p.sink.Dominant(r.dominant)
	}
}

// updateModeLocked switches between direct and server media as people come
// and go, telling everyone; it reports whether the mode changed.
func (r *Room) updateModeLocked() bool {
	mode := ModeSFU
	if r.p2p && len(r.parts) == 2 {
		mode = ModeP2P
	}
	if mode == r.mode {
		return false
	}
	r.mode = mode
	for _, o := range r.parts {
		o.sink.MediaMode(mode, r.peerLocked(o))
	}
	return true
}

// peerLocked is the other participant in P2P mode, else "".
func (r *Room) peerLocked(p *Participant) string {
	if r.mode != ModeP2P {
		return ""
	}
	for _, o := range r.parts {
		if o != p {
			return o.id
		}
	}
	return ""
}

// leave removes p, admitted or waiting. It reports whether the room is empty.
func (r *Room) leave(p *Participant) (empty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.Index(r.waiting, p); i >= 0 {
		r.waiting = slices.Delete(r.waiting, i, i+1)
		r.tellModeratorsLocked(func(m Sink) { m.KnockGone(p.id) })
	}
	r.dropLocked(p)
	if len(r.parts) == 0 {
		// Nobody is left to admit those waiting: the meeting is over.
		for _, w := range r.waiting {
			w.sink.Kicked(Ended)
		}
		r.waiting = nil
	}
	return len(r.parts) == 0
}

// dropLocked takes p out of the meeting, tells the others, and makes sure a
// moderator remains.
func (r *Room) dropLocked(p *Participant) {
	i := slices.Index(r.parts, p)
	if i < 0 {
		return
	}
	r.parts = slices.Delete(r.parts, i, i+1)
	r.forgetSpeakerLocked(p.id)
	for _, o := range r.parts {
		o.sink.ParticipantLeft(p.id)
	}
	if p.moderator && len(r.parts) > 0 && !slices.ContainsFunc(r.parts, func(o *Participant) bool { return o.moderator }) {
		r.makeModeratorLocked(r.parts[0]) // the longest present
	}
	r.updateModeLocked()
}

func (r *Room) emptyLocked() bool { return len(r.parts) == 0 && len(r.waiting) == 0 }

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
	applyMedia(p)
	for _, o := range r.parts {
		if o != p {
			_ = o.sub.AddTrack(t)
		}
	}
	if t.Source() == "screen" {
		r.broadcastUpdateLocked(p)
	}
	r.applyViewsLocked()
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
	r.applyViewsLocked()
}

// SetMedia records that p switched its microphone or camera.
func (r *Room) SetMedia(p *Participant, audio, video bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.audio == audio && p.video == video {
		return
	}
	p.audio, p.video = audio, video
	applyMedia(p)
	r.broadcastUpdateLocked(p)
}

// SetReconnecting shows p as reconnecting (its connection was lost and may
// come back) or back again.
func (r *Room) SetReconnecting(p *Participant, on bool) { r.setFlag(p, &p.reconnecting, on) }

// Resync tells p, back on a new connection, everything it needs: who is
// there, the settings and media mode, and (to moderators) who waits.
func (r *Room) Resync(p *Participant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.waiting, p) {
		p.sink.Waiting(p.wait)
		r.tellDrainingLocked(p)
		return
	}
	if !slices.Contains(r.parts, p) {
		return
	}
	r.welcomeLocked(p)
	p.sink.MediaMode(r.mode, r.peerLocked(p))
	if p.moderator {
		for _, w := range r.waiting {
			p.sink.Knock(w.id, w.name, w.wait)
		}
	}
	r.tellDrainingLocked(p)
}

// SetHasKey records that p now holds (or lost) the meeting key.
func (r *Room) SetHasKey(p *Participant, has bool) { r.setFlag(p, &p.hasKey, has) }

// setFlag sets one of p's flags (a field guarded by r.mu) and tells the
// others if it changed.
func (r *Room) setFlag(p *Participant, flag *bool, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if *flag == on {
		return
	}
	*flag = on
	r.broadcastUpdateLocked(p)
}

// applyMedia forwards only what p has switched on: a muted microphone or a
// stopped camera is not forwarded, whatever p's client sends.
func applyMedia(p *Participant) {
	for _, t := range p.tracks {
		switch t.Source() {
		case "microphone":
			t.SetPaused(!p.audio)
		case "camera":
			t.SetPaused(!p.video)
		}
	}
}

// broadcastUpdateLocked tells the others that p changed. Only admitted
// participants are ever announced: someone at the lobby (even one whose
// connection dropped and may come back) is nobody's business but the
// moderators', who see its knock.
func (r *Room) broadcastUpdateLocked(p *Participant) {
	if !slices.Contains(r.parts, p) {
		return
	}
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
	quality := time.NewTicker(qualityEvery)
	defer quality.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.updateSpeaking()
		case <-quality.C:
			r.sendQuality()
			// The lobby's time limit is minutes: this tick is fine
			// enough for it.
			r.expireWaiting()
		}
	}
}

func (r *Room) updateSpeaking() {
	r.mu.Lock()
	defer r.mu.Unlock()
	var now []string
	loudest, loudestLevel := "", 0
	for _, p := range r.parts {
		if !p.audio {
			continue
		}
		for _, t := range p.tracks {
			if level := t.AudioLevel(); t.Source() == "microphone" && level >= speakingLevel {
				now = append(now, p.id)
				if level > loudestLevel {
					loudest, loudestLevel = p.id, level
				}
				break
			}
		}
	}
	r.updateDominantLocked(now, loudest)
	if slices.Equal(now, r.speaking) {
		return
	}
	r.speaking = now
	for _, p := range r.parts {
		p.sink.Speaking(now)
	}
}
