package source

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The tables below are safe for concurrent use and keep what they hold in
// memory only. Their keys are usually Keys, or a Key with something else
// (a meeting); callers leave unknown sources out.

// Counter counts what each key holds now (open connections) up to a cap.
// A key at zero is forgotten at once.
type Counter[K comparable] struct {
	max int

	mu sync.Mutex
	m  map[K]int
}

// NewCounter makes a Counter that lets each key hold max at once.
func NewCounter[K comparable](max int) *Counter[K] {
	return &Counter[K]{max: max, m: map[K]int{}}
}

// Acquire counts one more for k, unless k holds max already.
func (c *Counter[K]) Acquire(k K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[k] >= c.max {
		return false
	}
	c.m[k]++
	return true
}

// Release counts one less for k.
func (c *Counter[K]) Release(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.m[k] - 1; n > 0 {
		c.m[k] = n
	} else {
		delete(c.m, k)
	}
}

// Len is the number of keys that hold something.
func (c *Counter[K]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Limiters is a token bucket per key: a key may act burst times at once,
// then once every interval. A key whose bucket has filled up again is
// forgotten, since a fresh one is the same: so a key is remembered for at
// most burst intervals after its last use.
type Limiters[K comparable] struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu    sync.Mutex
	m     map[K]*rate.Limiter
	swept time.Time
}

// NewLimiters makes a Limiters of burst tokens per key, one more every
// interval; now is the clock (nil: time.Now).
func NewLimiters[K comparable](every time.Duration, burst int, now func() time.Time) *Limiters[K] {
	if now == nil {
		now = time.Now
	}
	return &Limiters[K]{every: every, burst: burst, now: now, m: map[K]*rate.Limiter{}}
}

// Allow takes a token of k's, if it has one.
func (l *Limiters[K]) Allow(k K) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweepLocked(now)
	lim := l.m[k]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[k] = lim
	}
	return lim.AllowN(now, 1)
}

// Delay is how long until k has a token again; 0 if it has one now. It
// takes nothing.
func (l *Limiters[K]) Delay(k K) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweepLocked(now)
	lim := l.m[k]
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(l.every))
}

// Len is the number of keys remembered.
func (l *Limiters[K]) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(l.now())
	return len(l.m)
}

// sweepLocked forgets the keys whose bucket is full again, at most once an
// interval, so a burst of new keys costs no more than one pass each.
func (l *Limiters[K]) sweepLocked(now time.Time) {
	if now.Sub(l.swept) < l.every {
		return
	}
	l.swept = now
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
}

// Marks remembers keys for a while: a source removed from a meeting.
type Marks[K comparable] struct {
	d   time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[K]time.Time // until
}

// NewMarks makes a Marks that keeps each mark for d; now is the clock
// (nil: time.Now).
func NewMarks[K comparable](d time.Duration, now func() time.Time) *Marks[K] {
	if now == nil {
		now = time.Now
	}
	return &Marks[K]{d: d, now: now, m: map[K]time.Time{}}
}

// Mark marks k from now on for the Marks' time.
func (m *Marks[K]) Mark(k K) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweepLocked(now)
	m.m[k] = now.Add(m.d)
}

// Marked reports whether k is marked now.
func (m *Marks[K]) Marked(k K) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(m.now())
	_, ok := m.m[k]
	return ok
}

// Len is the number of keys marked now.
func (m *Marks[K]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(m.now())
	return len(m.m)
}

func (m *Marks[K]) sweepLocked(now time.Time) {
	for k, until := range m.m {
		if !now.Before(until) {
			delete(m.m, k)
		}
	}
}
