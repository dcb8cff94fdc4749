package room

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"plausch.dev/plausch/internal/source"
)

// Errors of joining.
var (
	ErrRoomFull   = errors.New("room: the meeting is full")
	ErrServerFull = errors.New("room: the server has no room for another meeting")
	ErrDraining   = errors.New("room: the server is shutting down and starts no new meeting")
	// ErrTooManyMeetings: the source has started as many meetings as it
	// may, at once or lately.
	ErrTooManyMeetings = errors.New("room: too many meetings started from this address")
)

// Config limits what one server carries.
type Config struct {
	MaxRooms        int           // meetings at once; 0 means no limit
	MaxParticipants int           // per meeting; 0 means no limit
	SpeakingEvery   time.Duration // how often speakers are re-evaluated
	DisableP2P      bool          // new meetings start without direct media
	// AudioLastN, when set, forwards only the microphones of the N who
	// spoke last (for very large meetings); 0 forwards everyone's.
	AudioLastN int

	// Limits on what one source (one address; see ParticipantParams.
	// Source) can take, so that nobody fills the server, a meeting's
	// lobby or its password budget for everyone else. Unknown sources are
	// not held to them. The defaults leave room for a school class behind
	// one router. Zero picks the default; a negative value switches the
	// limit off.

	// MaxMeetingsPerSource is how many running meetings one source may
	// have started (20).
	MaxMeetingsPerSource int
	// NewMeetingsPerSource is how many meetings one source may start a
	// minute, all at once too (10).
	NewMeetingsPerSource int
	// MaxWaiting is how many may wait at one meeting's lobby (150), and
	// MaxWaitingPerSource how many of them from one source (60: a class
	// behind one router may all arrive at once).
	MaxWaiting          int
	MaxWaitingPerSource int
	// LobbyTimeout is how long someone may wait at the lobby before being
	// turned away (10 minutes).
	LobbyTimeout time.Duration
	// PasswordAttemptsPerSource is how many wrong passwords one source may
	// send to one meeting a minute, all at once too (5);
	// PasswordAttemptsPerMeeting is that for all sources together (20).
	// Beyond either, a join is not checked but knocks at the lobby.
	PasswordAttemptsPerSource  int
	PasswordAttemptsPerMeeting int
	// RemovalLockout is how long, after a moderator removed someone, joins
	// from their source to that meeting knock at the lobby (10 minutes).
	RemovalLockout time.Duration

	// Now is the clock of the rules above (tests); nil is time.Now.
	Now func() time.Time
}

// Defaults of the per-source limits.
const (
	DefaultMaxMeetingsPerSource       = 20
	DefaultNewMeetingsPerSource       = 10
	DefaultMaxWaiting                 = 150
	DefaultMaxWaitingPerSource        = 60
	DefaultLobbyTimeout               = 10 * time.Minute
	DefaultPasswordAttemptsPerSource  = 5
	DefaultPasswordAttemptsPerMeeting = 20
	DefaultRemovalLockout             = 10 * time.Minute
)

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	if c.SpeakingEvery <= 0 {
		c.SpeakingEvery = 250 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	setDefault(&c.MaxMeetingsPerSource, DefaultMaxMeetingsPerSource)
	setDefault(&c.NewMeetingsPerSource, DefaultNewMeetingsPerSource)
	setDefault(&c.MaxWaiting, DefaultMaxWaiting)
	setDefault(&c.MaxWaitingPerSource, DefaultMaxWaitingPerSource)
	setDefault(&c.LobbyTimeout, DefaultLobbyTimeout)
	setDefault(&c.PasswordAttemptsPerSource, DefaultPasswordAttemptsPerSource)
	setDefault(&c.PasswordAttemptsPerMeeting, DefaultPasswordAttemptsPerMeeting)
	setDefault(&c.RemovalLockout, DefaultRemovalLockout)
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// Registry is every meeting on this server, in memory only.
type Registry struct {
	cfg  Config
	salt [16]byte

	draining atomic.Int32 // seconds announced; 0 while not draining

	// newMeetings paces the meetings each source starts (nil: no limit).
	newMeetings *source.Limiters[string]

	mu     sync.Mutex
	rooms  map[string]*Room
	opened map[string]int // running meetings by the source that started them
}

// NewRegistry creates an empty registry.
func NewRegistry(cfg Config) *Registry {
	cfg.Defaults()
	r := &Registry{cfg: cfg, rooms: map[string]*Room{}, opened: map[string]int{}}
	if n := cfg.NewMeetingsPerSource; n > 0 {
		r.newMeetings = source.NewLimiters[string](time.Minute/time.Duration(n), n, cfg.Now)
	}
	// A per-process salt: log lines of one run can be correlated, but a
	// meeting name cannot be recovered from them by guessing.
	_, _ = rand.Read(r.salt[:])
	return r
}

// Join puts p into the meeting called name (already canonical), creating the
// meeting if needed, or into its lobby. p's Sink is told which: Welcome or
// Waiting. password is checked against the meeting's, with attempts (may be
// nil) as the caller's own attempt budget.
func (g *Registry) Join(name string, p *Participant, password string, attempts *rate.Limiter) (*Room, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.rooms[name]
	if !ok {
		if g.draining.Load() > 0 {
			return nil, ErrDraining
		}
		if g.cfg.MaxRooms > 0 && len(g.rooms) >= g.cfg.MaxRooms {
			return nil, ErrServerFull
		}
		if !g.mayStartLocked(p.source) {
			return nil, ErrTooManyMeetings
		}
		r = newRoom(name, g.Hash(name), g.cfg)
		r.draining = g.drainingSeconds
		r.opener = p.source
		g.rooms[name] = r
		if r.opener != "" {
			g.opened[r.opener]++
		}
	}
	r.mu.Lock()
	err := r.enterLocked(p, password, attempts, g.cfg.MaxParticipants)
	empty := r.emptyLocked()
	r.mu.Unlock()
	if err != nil {
		if empty {
			g.forgetLocked(r)
		}
		return nil, err
	}
	return r, nil
}

// mayStartLocked reports whether src may start another meeting, and if so
// counts it against the source's pace.
func (g *Registry) mayStartLocked(src string) bool {
	if src == "" {
		return true
	}
	if max := g.cfg.MaxMeetingsPerSource; max > 0 && g.opened[src] >= max {
		return false
	}
	return g.newMeetings == nil || g.newMeetings.Allow(src)
}

// forgetLocked drops the meeting r, which has ended or emptied.
func (g *Registry) forgetLocked(r *Room) {
	if g.rooms[r.name] != r {
		return
	}
	delete(g.rooms, r.name)
	if r.opener != "" {
		if g.opened[r.opener]--; g.opened[r.opener] <= 0 {
			delete(g.opened, r.opener)
		}
	}
	r.close()
}

// End ends the meeting r for everyone. A new meeting of the same name can
// start at once.
func (g *Registry) End(r *Room, by *Participant) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := r.end(by); err != nil {
		return err
	}
	g.forgetLocked(r)
	return nil
}

// Leave takes p out of r and forgets r when it is empty.
func (g *Registry) Leave(r *Room, p *Participant) {
	if !r.leave(p) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	r.mu.Lock()
	empty := r.emptyLocked()
	r.mu.Unlock()
	if empty {
		g.forgetLocked(r)
	}
}

// Rooms is the number of meetings now.
func (g *Registry) Rooms() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.rooms)
}

// Drain stops new meetings and tells everyone that the server shuts down
// in the given time. Running meetings go on, and people may still join them.
func (g *Registry) Drain(seconds int) {
	seconds = max(seconds, 1)
	g.draining.Store(int32(seconds))
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.rooms {
		r.mu.Lock()
		for _, p := range append(r.parts, r.waiting...) {
			p.sink.Draining(seconds)
		}
		r.mu.Unlock()
	}
}

func (g *Registry) drainingSeconds() int { return int(g.draining.Load()) }

// Participants is the number of people in all meetings, waiting included.
func (g *Registry) Participants() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.rooms {
		r.mu.Lock()
		n += len(r.parts) + len(r.waiting)
		r.mu.Unlock()
	}
	return n
}

// Hash is the short salted hash that stands for a meeting name in logs.
func (g *Registry) Hash(name string) string {
	m := hmac.New(sha256.New, g.salt[:])
	m.Write([]byte(name))
	return hex.EncodeToString(m.Sum(nil)[:4])
}
