package room

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// clock is a settable time for the per-source rules.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// from is someone who connects from source src.
func from(id, src string) (*Participant, *recorder) {
	rec := &recorder{}
	return NewParticipant(ParticipantParams{ID: id, Name: "Name " + id, Source: src, Audio: true, Video: true, Sink: rec}), rec
}

// lockedMeeting is a meeting with moderator a (from source "host") and a
// password, on a registry with a settable clock.
func lockedMeeting(t *testing.T, cfg Config) (*Registry, *Room, *Participant, *recorder, *clock) {
	t.Helper()
	clk := newClock()
	cfg.Now = clk.now
	g := NewRegistry(cfg)
	a, ra := from("a", "host")
	r, err := g.Join("standup", a, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetPassword(a, "correct horse"); err != nil {
		t.Fatal(err)
	}
	ra.take()
	return g, r, a, ra, clk
}

// One source's wrong guesses spend only its own budget: from elsewhere the
// right password gets in at the first try. Out of attempts, a join is not
// checked but knocks at the lobby, marked so.
func TestPasswordAttemptsPerSource(t *testing.T) {
	g, r, a, ra, clk := lockedMeeting(t, Config{})
	// Fresh connections from one source: the source's budget holds.
	for i := range DefaultPasswordAttemptsPerSource {
		p, _ := from(fmt.Sprint("guess", i), "attacker")
		if _, err := g.Join("standup", p, "guess", NewAttemptLimiter()); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// Even the right password is not compared now: the join knocks.
	m, rm := from("m", "attacker")
	if _, err := g.Join("standup", m, "correct horse", NewAttemptLimiter()); err != nil {
		t.Fatal(err)
	}
	expect(t, "m", rm, "waiting (password)")
	expect(t, "a", ra, "knock m (password)")
	// Another source gets in at once.
	b, rb := from("b", "school")
	if _, err := g.Join("standup", b, "correct horse", NewAttemptLimiter()); err != nil {
		t.Fatal(err)
	}
	expect(t, "b", rb, "welcome mod=false [a]")
	ra.take()
	// Right passwords cost nothing: a whole class from one address.
	for i := range 40 {
		p, rp := from(fmt.Sprint("pupil", i), "school")
		if _, err := g.Join("standup", p, "correct horse", NewAttemptLimiter()); err != nil || rp.take() == "waiting (password)" {
			t.Fatalf("pupil %d: %v", i, err)
		}
	}
	// A lobby switched off admits those who waited for it, not those
	// whose password was never checked.
	_ = r.SetLobby(a, true)
	_ = r.SetLobby(a, false)
	expect(t, "m", rm, "")
	if err := r.Admit(a, "m"); err != nil {
		t.Fatal(err)
	}
	if got := rm.take(); got[:7] != "welcome" {
		t.Errorf("admitted m saw %q", got)
	}
	// A minute later the source has its tries back.
	clk.advance(time.Minute)
	p, _ := from("later", "attacker")
	if _, err := g.Join("standup", p, "guess", NewAttemptLimiter()); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("a minute later: %v", err)
	}
}

// The budgets, one table: what a join meets after the wrong guesses
// before it.
func TestPasswordBudgets(t *testing.T) {
	type guess struct {
		src   string
		conn  int // which connection (its own budget of 5)
		n     int
		wrong bool
	}
	cases := []struct {
		name    string
		before  []guess
		src     string
		conn    int
		want    string // admitted, knocks, wrong
		advance time.Duration
	}{
		{"fresh source", nil, "x", 0, "admitted", 0},
		{"spent source, right password", []guess{{"x", 1, 5, true}}, "x", 2, "knocks", 0},
		{"spent source, wrong password", []guess{{"x", 1, 5, true}}, "x", 2, "knocks", 0},
		{"other source", []guess{{"x", 1, 5, true}}, "y", 2, "admitted", 0},
		{"four left", []guess{{"x", 1, 4, true}}, "x", 2, "admitted", 0},
		{"one back after 12 s", []guess{{"x", 1, 5, true}}, "x", 2, "admitted", 12 * time.Second},
		// An unknown source (a proxy that does not say) has only the
		// connection's budget and the meeting's.
		{"unknown: the connection's", []guess{{"", 1, 5, true}}, "", 1, "knocks", 0},
		{"unknown: a new connection", []guess{{"", 1, 5, true}}, "", 2, "admitted", 0},
		// The meeting's budget: many sources together spend it, and then
		// nobody's password is compared: everyone knocks instead, which
		// locks nobody out.
		{"meeting spent", []guess{{"s1", 1, 5, true}, {"s2", 2, 5, true}, {"s3", 3, 5, true}, {"s4", 4, 5, true}}, "y", 5, "knocks", 0},
		{"meeting: 19 of 20", []guess{{"s1", 1, 5, true}, {"s2", 2, 5, true}, {"s3", 3, 5, true}, {"s4", 4, 4, true}}, "y", 5, "admitted", 0},
		{"right passwords are free", []guess{{"x", 1, 5, false}, {"x", 2, 5, false}, {"x", 3, 5, false}}, "x", 4, "admitted", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, _, _, _, clk := lockedMeeting(t, Config{})
			conns := map[int]*rate.Limiter{}
			conn := func(i int) *rate.Limiter {
				if conns[i] == nil {
					conns[i] = NewAttemptLimiter()
				}
				return conns[i]
			}
			for _, b := range c.before {
				for i := range b.n {
					pw := "correct horse"
					if b.wrong {
						pw = "guess"
					}
					p, _ := from(fmt.Sprint(b.src, i), b.src)
					_, _ = g.Join("standup", p, pw, conn(b.conn))
				}
			}
			clk.advance(c.advance)
			pw := "correct horse"
			if c.name == "spent source, wrong password" {
				pw = "guess"
			}
			p, rp := from("z", c.src)
			_, err := g.Join("standup", p, pw, conn(c.conn))
			got := "admitted"
			switch ev := rp.take(); {
			case err != nil:
				got = err.Error()
			case ev == "waiting (password)":
				got = "knocks"
			case len(ev) < 7 || ev[:7] != "welcome":
				got = ev
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// The lobby has a size, and one source takes only some of its places.
// Out of password attempts with no place to knock, the join is refused
// with the time to wait.
func TestLobbyPlacesPerSource(t *testing.T) {
	g, r, a, _, _ := lockedMeeting(t, Config{MaxWaiting: 5, MaxWaitingPerSource: 2})
	_ = r.SetPassword(a, "")
	_ = r.SetLobby(a, true)
	steps := []struct {
		src  string
		want error
	}{
		{"bot", nil}, {"bot", nil}, {"bot", ErrLobbyFull}, // the source's places
		{"", nil}, {"", nil}, {"", nil}, // unknown sources share only the lobby's size
		{"other", ErrLobbyFull}, // the lobby is full
	}
	for i, s := range steps {
		p, _ := from(fmt.Sprint("w", i), s.src)
		if _, err := g.Join("standup", p, "", nil); !errors.Is(err, s.want) {
			t.Errorf("step %d from %q: %v, want %v", i, s.src, err, s.want)
		}
	}
	// The default lobby holds 100, 20 of them from one source.
	g2, r2, a2, _, _ := lockedMeeting(t, Config{})
	_ = r2.SetPassword(a2, "")
	_ = r2.SetLobby(a2, true)
	for i := range DefaultMaxWaiting + 1 {
		src := fmt.Sprint("net", i/DefaultMaxWaitingPerSource)
		p, _ := from(fmt.Sprint("w", i), src)
		_, err := g2.Join("standup", p, "", nil)
		if want := i == DefaultMaxWaiting; (err != nil) != want {
			t.Fatalf("waiter %d: %v", i, err)
		}
	}
	// Out of attempts and out of places: refused, with a time to wait.
	g3, r3, a3, _, _ := lockedMeeting(t, Config{MaxWaitingPerSource: 1})
	_ = r3.SetLobby(a3, true)
	for i := range DefaultPasswordAttemptsPerSource + 1 {
		p, _ := from(fmt.Sprint("g", i), "bot")
		_, _ = g3.Join("standup", p, "guess", NewAttemptLimiter())
	}
	p, _ := from("last", "bot")
	var tooMany *TooManyAttemptsError
	if _, err := g3.Join("standup", p, "guess", NewAttemptLimiter()); !errors.As(err, &tooMany) || tooMany.RetryAfter <= 0 {
		t.Errorf("no place to knock: %v", err)
	}
}

// Nobody waits at the lobby for ever.
func TestLobbyTimeLimit(t *testing.T) {
	g, r, a, ra, clk := lockedMeeting(t, Config{})
	_ = r.SetPassword(a, "")
	_ = r.SetLobby(a, true)
	ra.take()
	w1, r1 := from("w1", "x")
	_, _ = g.Join("standup", w1, "", nil)
	clk.advance(5 * time.Minute)
	w2, r2 := from("w2", "y")
	_, _ = g.Join("standup", w2, "", nil)
	expect(t, "a", ra, "knock w1; knock w2")
	clk.advance(5*time.Minute - time.Second)
	r.expireWaiting()
	expect(t, "w1", r1, "waiting")
	clk.advance(time.Second)
	r.expireWaiting()
	expect(t, "w1", r1, "kicked 4")
	expect(t, "a", ra, "knockgone w1")
	expect(t, "w2", r2, "waiting")
	clk.advance(5 * time.Minute)
	r.expireWaiting()
	expect(t, "w2", r2, "kicked 4")
	// Switched off, nobody is turned away.
	g2, r2b, a2, _, clk2 := lockedMeeting(t, Config{LobbyTimeout: -1})
	_ = r2b.SetPassword(a2, "")
	_ = r2b.SetLobby(a2, true)
	w3, r3 := from("w3", "x")
	_, _ = g2.Join("standup", w3, "", nil)
	clk2.advance(24 * time.Hour)
	r2b.expireWaiting()
	expect(t, "w3", r3, "waiting")
}

// Someone removed does not come straight back: joins from their source
// knock, whatever the lobby setting, for a while; other sources do not.
func TestRemovalKeepsTheSourceOut(t *testing.T) {
	g, r, a, ra, clk := lockedMeeting(t, Config{})
	_ = r.SetPassword(a, "")
	troll, _ := from("troll", "x")
	if _, err := g.Join("standup", troll, "", nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(a, "troll"); err != nil {
		t.Fatal(err)
	}
	ra.take()
	again, rAgain := from("again", "x")
	if _, err := g.Join("standup", again, "", nil); err != nil {
		t.Fatal(err)
	}
	expect(t, "again", rAgain, "waiting (removed)")
	expect(t, "a", ra, "knock again (removed)")
	other, rOther := from("other", "y")
	_, _ = g.Join("standup", other, "", nil)
	expect(t, "other", rOther, "welcome mod=false [a]")
	// The lobby going off does not let them in; a moderator can.
	_ = r.SetLobby(a, true)
	_ = r.SetLobby(a, false)
	expect(t, "again", rAgain, "")
	clk.advance(DefaultRemovalLockout)
	later, rLater := from("later", "x")
	_, _ = g.Join("standup", later, "", nil)
	expect(t, "later", rLater, "welcome mod=false [a other]")
	// Unknown sources are never marked.
	anon, _ := from("anon", "")
	_, _ = g.Join("standup", anon, "", nil)
	_ = r.Remove(a, "anon")
	anon2, rAnon2 := from("anon2", "")
	_, _ = g.Join("standup", anon2, "", nil)
	if got := rAnon2.take(); got[:7] != "welcome" {
		t.Errorf("unknown source after a removal: %q", got)
	}
}

// One source starts only so many meetings, at once and a minute.
func TestMeetingsPerSource(t *testing.T) {
	clk := newClock()
	g := NewRegistry(Config{MaxMeetingsPerSource: 3, NewMeetingsPerSource: 4, Now: clk.now})
	start := func(name, src string) (*Room, *Participant, error) {
		p, _ := from(name+"-host", src)
		r, err := g.Join(name, p, "", nil)
		return r, p, err
	}
	rooms := map[string]*Room{}
	hosts := map[string]*Participant{}
	for _, name := range []string{"m1", "m2", "m3"} {
		r, p, err := start(name, "x")
		if err != nil {
			t.Fatal(err)
		}
		rooms[name], hosts[name] = r, p
	}
	if _, _, err := start("m4", "x"); !errors.Is(err, ErrTooManyMeetings) {
		t.Errorf("a 4th running meeting: %v", err)
	}
	if _, _, err := start("y1", "y"); err != nil {
		t.Errorf("another source: %v", err)
	}
	if _, _, err := start("anon", ""); err != nil {
		t.Errorf("an unknown source: %v", err)
	}
	// Joining a running meeting is not starting one.
	p, _ := from("guest", "x")
	if _, err := g.Join("y1", p, "", nil); err != nil {
		t.Errorf("joining another's meeting: %v", err)
	}
	// A meeting that ends frees its place; the pace still holds.
	g.Leave(rooms["m1"], hosts["m1"])
	if err := g.End(rooms["m2"], hosts["m2"]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := start("m5", "x"); err != nil {
		t.Errorf("after two ended: %v", err)
	}
	if _, _, err := start("m6", "x"); !errors.Is(err, ErrTooManyMeetings) {
		t.Errorf("a 5th new meeting in a minute: %v", err)
	}
	clk.advance(15 * time.Second)
	if _, _, err := start("m6", "x"); err != nil {
		t.Errorf("15 s later: %v", err)
	}
	// A meeting from a refused start is not left behind.
	if n := g.Rooms(); n != 5 {
		t.Errorf("%d meetings, want 5", n)
	}
}

// Only admitted participants are announced: whatever happens to someone
// at the lobby (a lost connection above all), the members hear nothing.
func TestWaiterIsNeverAnnounced(t *testing.T) {
	g, r, a, ra, _ := lockedMeeting(t, Config{})
	_ = r.SetPassword(a, "")
	b, rb := from("b", "y")
	_, _ = g.Join("standup", b, "", nil)
	_ = r.SetLobby(a, true)
	ra.take()
	rb.take()
	w, _ := from("w", "x")
	_, _ = g.Join("standup", w, "", nil)
	ra.take()
	r.SetReconnecting(w, true)
	r.SetMedia(w, false, false)
	r.SetHasKey(w, true)
	expect(t, "a", ra, "")
	expect(t, "b", rb, "")
	r.SetReconnecting(w, false)
	if err := r.Admit(a, "w"); err != nil {
		t.Fatal(err)
	}
	expect(t, "b", rb, "joined w")
}
