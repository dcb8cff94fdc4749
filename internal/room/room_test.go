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
	mode   string // the latest media mode, "p2p:<peer>" or "sfu"
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) Welcome(w Welcome) {
	var ids []string
	for _, o := range w.Others {
		ids = append(ids, o.ID)
	}
	r.add("welcome mod=%v %v", w.Moderator, ids)
}
func (r *recorder) Waiting(why WaitReason)   { r.add("waiting%s", whyText(why)) }
func (r *recorder) ParticipantJoined(i Info) { r.add("joined %s", i.ID) }
func (r *recorder) ParticipantUpdated(i Info) {
	r.add("updated %s a=%v v=%v mod=%v", i.ID, i.Audio, i.Video, i.Moderator)
}
func (r *recorder) ParticipantLeft(id string) { r.add("left %s", id) }
func (r *recorder) Speaking(ids []string)     { r.add("speaking %v", ids) }
func (r *recorder) Knock(id, name string, why WaitReason) {
	r.add("knock %s%s", id, whyText(why))
}
func (r *recorder) KnockGone(id string) { r.add("knockgone %s", id) }
func (r *recorder) SettingsChanged(s Settings) {
	r.add("settings pw=%v lobby=%v", s.Password, s.Lobby)
}
func (r *recorder) Muted(kind, by string)      { r.add("muted %s by %s", kind, by) }
func (r *recorder) Chat(from, to, data string) { r.add("chat %s>%s %s", from, to, data) }
func (r *recorder) Relay(from, data string)    { r.add("relay %s %s", from, data) }
func (r *recorder) Kicked(why Reason)          { r.add("kicked %d", why) }
func (r *recorder) Draining(seconds int)       { r.add("draining %d", seconds) }
func (r *recorder) Dominant(id string)         { r.add("dominant %s", id) }
func (r *recorder) Quality([]Quality)          {}
func (r *recorder) MediaMode(mode, peer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = mode
	if peer != "" {
		r.mode += ":" + peer
	}
}

func (r *recorder) lastMode() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mode
}

func whyText(why WaitReason) string {
	switch why {
	case WaitPassword:
		return " (password)"
	case WaitRemoved:
		return " (removed)"
	}
	return ""
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "; ")
}

// take returns the events so far and forgets them.
func (r *recorder) take() string {
	s := r.String()
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
	return s
}

func person(id string) (*Participant, *recorder) {
	rec := &recorder{}
	return NewParticipant(ParticipantParams{ID: id, Name: "Name " + id, Audio: true, Video: true, Sink: rec}), rec
}

// meeting puts people a, b, c (a first, so moderator) into one room.
func meeting(t *testing.T, g *Registry, ids ...string) (*Room, map[string]*Participant, map[string]*recorder) {
	t.Helper()
	ps, rs := map[string]*Participant{}, map[string]*recorder{}
	var r *Room
	for _, id := range ids {
		p, rec := person(id)
		room, err := g.Join("standup", p, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		r = room
		ps[id], rs[id] = p, rec
	}
	for _, rec := range rs {
		rec.take()
	}
	return r, ps, rs
}

func expect(t *testing.T, who string, rec *recorder, want string) {
	t.Helper()
	if got := rec.take(); got != want {
		t.Errorf("%s saw %q, want %q", who, got, want)
	}
}

func TestJoinUpdateLeave(t *testing.T) {
	g := NewRegistry(Config{})
	a, ra := person("a")
	b, rb := person("b")
	r, err := g.Join("standup", a, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := g.Join("standup", b, "", nil); r2 != r {
		t.Fatal("second join made another room")
	}
	r.SetMedia(b, false, true)
	r.SetMedia(b, false, true) // no change, no event
	g.Leave(r, b)
	expect(t, "a", ra, "welcome mod=true []; joined b; updated b a=false v=true mod=false; left b")
	expect(t, "b", rb, "welcome mod=false [a]")
	if g.Rooms() != 1 {
		t.Errorf("%d rooms, want 1", g.Rooms())
	}
	g.Leave(r, a)
	if g.Rooms() != 0 {
		t.Errorf("empty room kept: %d rooms", g.Rooms())
	}
	g.Leave(r, a) // leaving twice is harmless
}

func TestLongestPresentBecomesModerator(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a", "b", "c")
	g.Leave(r, ps["a"])
	expect(t, "b", rs["b"], "left a; updated b a=true v=true mod=true")
	expect(t, "c", rs["c"], "left a; updated b a=true v=true mod=true")
	if err := r.Mute(ps["b"], "c", "audio"); err != nil {
		t.Errorf("new moderator cannot mute: %v", err)
	}
}

// Nobody without the role can do what moderators do.
func TestModeratorActionsRefusedForOthers(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a", "b", "c")
	b := ps["b"]
	actions := map[string]func() error{
		"password":  func() error { return r.SetPassword(b, "x") },
		"lobby":     func() error { return r.SetLobby(b, true) },
		"admit":     func() error { return r.Admit(b, "z") },
		"deny":      func() error { return r.Deny(b, "z") },
		"mute":      func() error { return r.Mute(b, "c", "audio") },
		"stop cam":  func() error { return r.Mute(b, "c", "video") },
		"mute all":  func() error { return r.MuteAll(b, "audio") },
		"remove":    func() error { return r.Remove(b, "c") },
		"grant":     func() error { return r.Grant(b, "b") },
		"end":       func() error { return g.End(r, b) },
		"mute self": func() error { return r.Mute(b, "b", "audio") },
	}
	for name, act := range actions {
		if err := act(); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s by a participant: %v, want ErrForbidden", name, err)
		}
	}
	for id, rec := range rs {
		expect(t, id, rec, "")
	}
}

func TestMuteRemoveGrantEnd(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a", "b", "c")
	a := ps["a"]
	if err := r.Mute(a, "b", "audio"); err != nil {
		t.Fatal(err)
	}
	expect(t, "b", rs["b"], "muted audio by a")
	expect(t, "c", rs["c"], "updated b a=false v=true mod=false")
	if err := r.Mute(a, "nobody", "audio"); !errors.Is(err, ErrNotFound) {
		t.Errorf("mute unknown: %v", err)
	}
	if err := r.MuteAll(a, "video"); err != nil {
		t.Fatal(err)
	}
	expect(t, "b", rs["b"], "muted video by a; updated c a=true v=false mod=false")
	expect(t, "a", rs["a"], "updated b a=false v=true mod=false; updated b a=false v=false mod=false; updated c a=true v=false mod=false")
	rs["c"].take()
	if err := r.Grant(a, "b"); err != nil {
		t.Fatal(err)
	}
	expect(t, "b", rs["b"], "updated b a=false v=false mod=true") // b learns its role
	rs["a"].take()
	rs["c"].take()
	if err := r.Remove(ps["b"], "c"); err != nil {
		t.Fatal(err)
	}
	expect(t, "c", rs["c"], "kicked 0")
	expect(t, "a", rs["a"], "left c")
	if err := g.End(r, a); err != nil {
		t.Fatal(err)
	}
	expect(t, "a", rs["a"], "kicked 2")
	expect(t, "b", rs["b"], "left c; kicked 2")
	if g.Rooms() != 0 {
		t.Error("ended meeting still listed")
	}
	// The same name starts a fresh meeting at once.
	d, _ := person("d")
	if r2, err := g.Join("standup", d, "", nil); err != nil || r2 == r {
		t.Errorf("new meeting after end: %v", err)
	}
}

func TestPasswordRequiredAndWrong(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a")
	if err := r.SetPassword(ps["a"], "correct horse"); err != nil {
		t.Fatal(err)
	}
	expect(t, "a", rs["a"], "settings pw=true lobby=false")
	p, _ := person("b")
	if _, err := g.Join("standup", p, "", nil); !errors.Is(err, ErrPasswordRequired) {
		t.Errorf("no password: %v", err)
	}
	if _, err := g.Join("standup", p, "guess", NewAttemptLimiter()); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if err := r.SetPassword(ps["a"], ""); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Join("standup", p, "", nil); err != nil {
		t.Errorf("after removing the password: %v", err)
	}
}

func TestCorrectPasswordJoins(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, _ := meeting(t, g, "a")
	_ = r.SetPassword(ps["a"], "pw")
	p, rec := person("b")
	if _, err := g.Join("standup", p, "pw", NewAttemptLimiter()); err != nil {
		t.Fatal(err)
	}
	expect(t, "b", rec, "welcome mod=false [a]")
}

func TestLobby(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a", "b")
	if err := r.SetLobby(ps["a"], true); err != nil {
		t.Fatal(err)
	}
	rs["a"].take()
	rs["b"].take()
	e, re := person("e")
	f, rf := person("f")
	h, _ := person("h")
	for _, p := range []*Participant{e, f, h} {
		if _, err := g.Join("standup", p, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, "e", re, "waiting")
	expect(t, "a (moderator)", rs["a"], "knock e; knock f; knock h")
	expect(t, "b (not moderator)", rs["b"], "")
	if err := r.Chat(e, "", "x"); !errors.Is(err, ErrForbidden) {
		t.Errorf("chat from the lobby: %v", err)
	}
	if err := r.Admit(ps["a"], "e"); err != nil {
		t.Fatal(err)
	}
	expect(t, "e", re, "welcome mod=false [a b]")
	expect(t, "a", rs["a"], "knockgone e; joined e")
	if err := r.Deny(ps["a"], "f"); err != nil {
		t.Fatal(err)
	}
	expect(t, "f", rf, "waiting; kicked 1")
	// A new moderator learns who waits.
	_ = r.Grant(ps["a"], "b")
	expect(t, "b", rs["b"], "joined e; updated b a=true v=true mod=true; knock h")
	g.Leave(r, h)
	expect(t, "b", rs["b"], "knockgone h")
	i, ri := person("i")
	_, _ = g.Join("standup", i, "", nil)
	rs["a"].take()
	_ = r.SetLobby(ps["a"], false)
	expect(t, "i", ri, "waiting; welcome mod=false [a b e]")
	// When everyone admitted has gone, those still waiting are told.
	_ = r.SetLobby(ps["a"], true)
	j, rj := person("j")
	_, _ = g.Join("standup", j, "", nil)
	for _, id := range []string{"a", "b"} {
		g.Leave(r, ps[id])
	}
	g.Leave(r, e)
	g.Leave(r, i)
	expect(t, "j", rj, "waiting; kicked 2")
	if g.Rooms() != 0 {
		t.Error("room kept")
	}
}

func TestChatAndRelay(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a", "b", "c")
	if err := r.Chat(ps["a"], "", "c1ph3r"); err != nil {
		t.Fatal(err)
	}
	if err := r.Chat(ps["a"], "c", "pr1v4t3"); err != nil {
		t.Fatal(err)
	}
	if err := r.Relay(ps["b"], "c", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := r.Chat(ps["a"], "zz", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("chat to unknown: %v", err)
	}
	expect(t, "a", rs["a"], "")
	expect(t, "b", rs["b"], "chat a> c1ph3r")
	expect(t, "c", rs["c"], "chat a> c1ph3r; chat a>c pr1v4t3; relay b hello")
}

func TestLimits(t *testing.T) {
	g := NewRegistry(Config{MaxRooms: 1, MaxParticipants: 1})
	a, _ := person("a")
	if _, err := g.Join("one", a, "", nil); err != nil {
		t.Fatal(err)
	}
	b, _ := person("b")
	if _, err := g.Join("one", b, "", nil); !errors.Is(err, ErrRoomFull) {
		t.Errorf("full room: %v", err)
	}
	if _, err := g.Join("two", b, "", nil); !errors.Is(err, ErrServerFull) {
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

func TestDirectMediaWhileTwo(t *testing.T) {
	g := NewRegistry(Config{})
	r, ps, rs := meeting(t, g, "a")
	if m := rs["a"].lastMode(); m != "sfu" {
		t.Errorf("alone: %q", m)
	}
	b, rb := person("b")
	_, _ = g.Join("standup", b, "", nil)
	if rs["a"].lastMode() != "p2p:b" || rb.lastMode() != "p2p:a" {
		t.Errorf("two: %q %q", rs["a"].lastMode(), rb.lastMode())
	}
	c, rc := person("c")
	_, _ = g.Join("standup", c, "", nil)
	for id, rec := range map[string]*recorder{"a": rs["a"], "b": rb, "c": rc} {
		if rec.lastMode() != "sfu" {
			t.Errorf("three: %s has %q", id, rec.lastMode())
		}
	}
	g.Leave(r, c)
	if rs["a"].lastMode() != "p2p:b" || rb.lastMode() != "p2p:a" {
		t.Errorf("back to two: %q %q", rs["a"].lastMode(), rb.lastMode())
	}
	if err := r.AllowP2P(b, false); !errors.Is(err, ErrForbidden) {
		t.Errorf("participant switched p2p: %v", err)
	}
	if err := r.AllowP2P(ps["a"], false); err != nil {
		t.Fatal(err)
	}
	if rs["a"].lastMode() != "sfu" || rb.lastMode() != "sfu" {
		t.Errorf("p2p forbidden: %q %q", rs["a"].lastMode(), rb.lastMode())
	}
	d, rd := person("d")
	g2 := NewRegistry(Config{DisableP2P: true})
	_, _ = g2.Join("x", d, "", nil)
	e, re := person("e")
	_, _ = g2.Join("x", e, "", nil)
	if rd.lastMode() != "sfu" || re.lastMode() != "sfu" {
		t.Errorf("server without p2p: %q %q", rd.lastMode(), re.lastMode())
	}
}

func TestRequireE2EE(t *testing.T) {
	g := NewRegistry(Config{})
	enc := func(id string) (*Participant, *recorder) {
		rec := &recorder{}
		return NewParticipant(ParticipantParams{ID: id, Name: id, E2EE: true, Sink: rec}), rec
	}
	plain, _ := person("plain-mod")
	if _, err := g.Join("sealed", plain, "", nil); err != nil {
		t.Fatal(err)
	}
	a, ra := enc("a")
	r, _ := g.Join("sealed", a, "", nil)
	if err := r.RequireE2EE(plain, true); !errors.Is(err, ErrE2EERequired) {
		t.Errorf("a moderator who cannot encrypt required it: %v", err)
	}
	_ = r.Grant(plain, "a")
	ra.take()
	if err := r.RequireE2EE(a, true); err != nil {
		t.Fatal(err)
	}
	expect(t, "a", ra, "left plain-mod; settings pw=false lobby=false")
	b, _ := person("b")
	if _, err := g.Join("sealed", b, "", nil); !errors.Is(err, ErrE2EERequired) {
		t.Errorf("unencrypted newcomer: %v", err)
	}
	c, rc := enc("c")
	if _, err := g.Join("sealed", c, "", nil); err != nil {
		t.Errorf("encrypted newcomer: %v", err)
	}
	expect(t, "c", rc, "welcome mod=false [a]")
}
