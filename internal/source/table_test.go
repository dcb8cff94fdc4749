package source

import (
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the tables.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

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

func TestCounter(t *testing.T) {
	c := NewCounter[Key](2)
	for i, want := range []bool{true, true, false} {
		if got := c.Acquire("a"); got != want {
			t.Fatalf("acquire %d: %v, want %v", i, got, want)
		}
	}
	if !c.Acquire("b") {
		t.Fatal("another key is limited by the first")
	}
	c.Release("a")
	if !c.Acquire("a") {
		t.Fatal("a released place is not free")
	}
	c.Release("a")
	c.Release("a")
	c.Release("b")
	if c.Len() != 0 {
		t.Errorf("%d keys kept at zero", c.Len())
	}
}

func TestLimiters(t *testing.T) {
	clk := newClock()
	l := NewLimiters[Key](12*time.Second, 5, clk.now)
	steps := []struct {
		advance time.Duration
		key     Key
		allow   bool
		delay   time.Duration // before the Allow
	}{
		{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0},
		{0, "a", false, 12 * time.Second}, // the burst is spent
		{0, "b", true, 0},                 // another key has its own
		{6 * time.Second, "a", false, 6 * time.Second},
		{6 * time.Second, "a", true, 0}, // one token back after an interval
		{0, "a", false, 12 * time.Second},
	}
	for i, s := range steps {
		clk.advance(s.advance)
		if d := l.Delay(s.key); d != s.delay {
			t.Errorf("step %d: delay %v, want %v", i, d, s.delay)
		}
		if got := l.Allow(s.key); got != s.allow {
			t.Errorf("step %d: allow %v, want %v", i, got, s.allow)
		}
	}
	// Once a bucket is full again its key is forgotten (checked once an
	// interval): memory holds only the recent. b has its token back.
	if n := l.Len(); n != 1 {
		t.Errorf("%d keys, want 1", n)
	}
	clk.advance(59 * time.Second)
	if n := l.Len(); n != 1 {
		t.Errorf("after 59 s: %d keys, want 1 (a refills at 60 s)", n)
	}
	clk.advance(12 * time.Second)
	if n := l.Len(); n != 0 {
		t.Errorf("an interval after refilling: %d keys, want 0", n)
	}
	if !l.Allow("a") {
		t.Error("a forgotten key is not fresh")
	}
}

func TestMarks(t *testing.T) {
	clk := newClock()
	m := NewMarks[Key](10*time.Minute, clk.now)
	m.Mark("a")
	clk.advance(5 * time.Minute)
	m.Mark("b")
	if !m.Marked("a") || !m.Marked("b") || m.Marked("c") {
		t.Fatal("marks")
	}
	clk.advance(5 * time.Minute)
	if m.Marked("a") || !m.Marked("b") || m.Len() != 1 {
		t.Errorf("after 10 minutes: a %v b %v len %d", m.Marked("a"), m.Marked("b"), m.Len())
	}
	m.Mark("b") // marking again starts the time anew
	clk.advance(9 * time.Minute)
	if !m.Marked("b") {
		t.Error("a renewed mark expired early")
	}
}
