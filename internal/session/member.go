package session

import (
	"crypto/rand"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
)

// member is one participant's place in a meeting. It usually lives as long
// as its connection; a resumable member outlives a lost connection by the
// resume grace time, so the participant can come back on a new connection
// as the same person, with the same media connections, role and keys.
type member struct {
	id        string
	token     string // guarded by Members.mu once the member is shared
	resumable bool
	cfg       *Config
	log       *slog.Logger

	// Set before the member is shared, then only read.
	part *room.Participant
	pub  *sfu.Publisher
	sub  *sfu.Subscriber

	admitted atomic.Bool // past the lobby
	kicked   atomic.Bool // removed, denied, or the meeting ended

	mu       sync.Mutex
	conn     *Session    // the current connection; nil while away
	expiry   *time.Timer // ends the member while away
	finished bool

	// shown serializes telling the room whether the member is away, so the
	// last change of conn is the one the others see (a lost connection and
	// a quick resume race otherwise). Taken before mu, never under it or
	// under the room's lock.
	shown sync.Mutex
}

// send queues m on the current connection, if there is one. While the
// participant is away nothing is kept: on resume it gets a fresh picture.
func (m *member) send(o signal.Outbound) {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	if c != nil {
		c.send(o)
	}
}

func (m *member) closeConn(code websocket.StatusCode, reason string) {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	if c != nil {
		c.closeWith(code, reason)
	}
}

// disconnected is called when connection s has ended. A resumable member
// that did not mean to leave waits for a new connection; any other ends.
func (m *member) disconnected(s *Session, meantToLeave bool) {
	m.mu.Lock()
	if m.conn != s || m.finished {
		m.mu.Unlock()
		return // a newer connection has taken over, or all is over
	}
	m.conn = nil
	wait := m.resumable && !meantToLeave && !m.kicked.Load()
	if wait {
		m.expiry = time.AfterFunc(m.cfg.ResumeGrace, m.finish)
	}
	m.mu.Unlock()
	if !wait {
		m.finish()
		return
	}
	m.log.Debug("connection lost, waiting for a resume", "grace", m.cfg.ResumeGrace)
	m.showReconnecting()
}

// showReconnecting tells the room whether the member is away now. Each
// change of conn is followed by a call, and the calls are serialized, each
// reading conn afresh: so the last one shows the latest state.
func (m *member) showReconnecting() {
	m.shown.Lock()
	defer m.shown.Unlock()
	m.mu.Lock()
	away, finished := m.conn == nil, m.finished
	m.mu.Unlock()
	if !finished {
		m.part.Room().SetReconnecting(m.part, away)
	}
}

// attach makes s the member's connection and reports the one it replaces.
func (m *member) attach(s *Session) (old *Session, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.finished || m.kicked.Load() {
		return nil, false
	}
	if m.expiry != nil {
		m.expiry.Stop()
		m.expiry = nil
	}
	old, m.conn = m.conn, s
	return old, true
}

// finish takes the participant out of its meeting and ends its media; it
// runs once.
func (m *member) finish() {
	m.mu.Lock()
	if m.finished {
		m.mu.Unlock()
		return
	}
	m.finished = true
	if m.expiry != nil {
		m.expiry.Stop()
	}
	m.mu.Unlock()
	m.cfg.Members.remove(m)
	if r := m.part.Room(); r != nil {
		m.cfg.Registry.Leave(r, m.part)
		m.log.Info("left")
	}
	m.closeMedia()
	if m.cfg.Relay != nil {
		m.cfg.Relay.End(m.id)
	}
}

// closeMedia ends both peer connections; it may run more than once.
func (m *member) closeMedia() {
	if m.pub != nil {
		_ = m.pub.Close()
	}
	if m.sub != nil {
		_ = m.sub.Close()
	}
}

// Members are the resumable members of a server, by resume token. Its
// lock comes after the room's and before a member's own.
type Members struct {
	mu      sync.Mutex
	byToken map[string]*member
}

// NewMembers makes an empty set.
func NewMembers() *Members { return &Members{byToken: map[string]*member{}} }

func (ms *Members) add(m *member) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.byToken[m.token] = m
}

// take finds the member of token and makes the token useless: each works
// for one resume.
func (ms *Members) take(token string) *member {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m := ms.byToken[token]
	if m != nil {
		delete(ms.byToken, token)
	}
	return m
}

// issue gives m a new token, which the next joined carries, unless m has
// finished meanwhile (its finish, which removes the token, comes after
// finished is set, so either sees the other).
func (ms *Members) issue(m *member) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m.mu.Lock()
	finished := m.finished
	m.mu.Unlock()
	if finished {
		return
	}
	m.token = newToken()
	ms.byToken[m.token] = m
}

// tokenOf is m's current token ("" if it is not resumable).
func (ms *Members) tokenOf(m *member) string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return m.token
}

func (ms *Members) remove(m *member) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.byToken[m.token] == m {
		delete(ms.byToken, m.token)
	}
}

// FinishAll ends every member still waiting for a resume (server shutdown).
func (ms *Members) FinishAll() {
	ms.mu.Lock()
	all := make([]*member, 0, len(ms.byToken))
	for _, m := range ms.byToken {
		all = append(all, m)
	}
	ms.mu.Unlock()
	for _, m := range all {
		m.finish()
	}
}

// newToken returns a secret resume token of 128 bits.
func newToken() string { return rand.Text() }

// mediaFailed ends the current connection when a media connection fails:
// a resumable participant comes back on a new one and restarts ICE.
func (m *member) mediaFailed() {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	if c != nil {
		c.fail("media connection failed")
	}
}
