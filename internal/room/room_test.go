package room

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// recorder is a Sink that writes down what it is told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) Welcome(room string, others []Info) {
	var ids []string
	for _, o := range others {
		ids = append(ids, o.ID)
	}
	r.add("welcome %s %v", room, ids)
}
func (r *recorder) ParticipantJoined(i Info)  { r.add("joined %s", i.ID) }
func (r *recorder) ParticipantUpdated(i Info) { r.add("updated %s a=%v v=%v", i.ID, i.Audio, i.Video) }
func (r *recorder) ParticipantLeft(id string) { r.add("left %s", id) }
func (r *recorder) Speaking(ids []string)     { r.add("speaking %v", ids) }

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "; ")
}

func newTestParticipant(id string) (*Participant, *recorder) {
	rec := &recorder{}
	return NewParticipant(id, "Name "+id, true, true, rec, nil), rec
}

func TestJoinUpdateLeave(t *testing.T) {
	g := NewRegistry(Config{})
	a, ra := newTestParticipant("a")
	b, rb := newTestParticipant("b")
	r, err := g.Join("standup", a)
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := g.Join("standup", b); r2 != r {
		t.Fatal("second join made another room")
	}
	r.SetMedia(b, false, true)
	r.SetMedia(b, false, true) // no change, no event
	g.Leave(r, b)
	if got, want := ra.String(), "welcome standup []; joined b; updated b a=false v=true; left b"; got != want {
		t.Errorf("a saw %q, want %q", got, want)
	}
	if got, want := rb.String(), "welcome standup [a]"; got != want {
		t.Errorf("b saw %q, want %q", got, want)
	}
	if g.Rooms() != 1 {
		t.Errorf("%d rooms, want 1", g.Rooms())
	}
	g.Leave(r, a)
	if g.Rooms() != 0 {
		t.Errorf("empty room kept: %d rooms", g.Rooms())
	}
	g.Leave(r, a) // leaving twice is harmless
}

func TestLimits(t *testing.T) {
	g := NewRegistry(Config{MaxRooms: 1, MaxParticipants: 1})
	a, _ := newTestParticipant("a")
	if _, err := g.Join("one", a); err != nil {
		t.Fatal(err)
	}
	b, _ := newTestParticipant("b")
	if _, err := g.Join("one", b); !errors.Is(err, ErrRoomFull) {
		t.Errorf("full room: %v", err)
	}
	if _, err := g.Join("two", b); !errors.Is(err, ErrServerFull) {
		t.Errorf("full server: %v", err)
	}
	if g.Rooms() != 1 {
		t.Errorf("%d rooms", g.Rooms())
	}
}

func TestHashHidesName(t *testing.T) {
	g := NewRegistry(Config{})
	h := g.Hash("geheim")
	if len(h) != 8 || strings.Contains(h, "geheim") || h != g.Hash("geheim") || h == g.Hash("geheim2") {
		t.Errorf("hash %q", h)
	}
	if NewRegistry(Config{}).Hash("geheim") == h {
		t.Error("hash is not salted per server")
	}
}
