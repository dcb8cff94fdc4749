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
)

// Errors of joining.
var (
	ErrRoomFull   = errors.New("room: the meeting is full")
	ErrServerFull = errors.New("room: the server has no room for another meeting")
	ErrDraining   = errors.New("room: the server is shutting down and starts no new meeting")
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
}

// Registry is every meeting on this server, in memory only.
type Registry struct {
	cfg  Config
	salt [16]byte

	draining atomic.Int32 // seconds announced; 0 while not draining

	mu    sync.Mutex
	rooms map[string]*Room
}

// NewRegistry creates an empty registry.
func NewRegistry(cfg Config) *Registry {
	if cfg.SpeakingEvery <= 0 {
		cfg.SpeakingEvery = 250 * time.Millisecond
	}
	r := &Registry{cfg: cfg, rooms: map[string]*Room{}}
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
		r = newRoom(name, g.Hash(name), g.cfg)
		r.draining = g.drainingSeconds
		g.rooms[name] = r
	}
	r.mu.Lock()
	err := r.enterLocked(p, password, attempts, g.cfg.MaxParticipants)
	empty := r.emptyLocked()
	r.mu.Unlock()
	if err != nil {
		if empty {
			delete(g.rooms, name)
			r.close()
		}
		return nil, err
	}
	return r, nil
}

// End ends the meeting r for everyone. A new meeting of the same name can
// start at once.
func (g *Registry) End(r *Room, by *Participant) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := r.end(by); err != nil {
		return err
	}
	if g.rooms[r.name] == r {
		delete(g.rooms, r.name)
		r.close()
	}
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
	if empty && g.rooms[r.name] == r {
		delete(g.rooms, r.name)
		r.close()
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
