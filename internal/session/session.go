// Package session runs one participant's signalling connection: it reads
// client messages under size and rate limits, dispatches each to its handler,
// and writes server messages from a queue on a goroutine of its own, so that
// no lock is ever held during network I/O.
package session

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
	"plausch.dev/plausch/internal/source"
)

// CloseProtocolError is the WebSocket close code for a client that broke the
// protocol; the close reason says how.
const CloseProtocolError websocket.StatusCode = 4000

// CloseRestarting closes every connection when the server shuts down; the
// client reconnects when it is back.
const CloseRestarting websocket.StatusCode = 4002

// CloseReplaced closes a connection whose participant resumed on another.
const CloseReplaced websocket.StatusCode = 4003

// CloseRemoved closes the connection of someone removed, turned away at the
// lobby, or whose meeting ended; the error before it says which.
const CloseRemoved websocket.StatusCode = 4001

// Config is shared by all sessions of a server.
type Config struct {
	Registry   *room.Registry
	Engine     *sfu.Engine
	ICEServers []signal.ICEServer
	Log        *slog.Logger

	JoinTimeout time.Duration // a connection must join within this time
	PingEvery   time.Duration // keepalive interval
	PingTimeout time.Duration // a client that does not answer in time is gone
	Rate        rate.Limit    // messages per second
	Burst       int
	ByteRate    rate.Limit // bytes per second a client may send
	ByteBurst   int
	MaxStrikes  int // bad messages before disconnecting
	QueueLength int // outgoing messages buffered before a client counts as stuck
	// Shutdown, when closed, ends every session with CloseRestarting.
	Shutdown <-chan struct{}
	// ResumeGrace is how long a resumable participant whose connection was
	// lost stays in its meeting, shown as reconnecting.
	ResumeGrace time.Duration
	Members     *Members // resumable participants; nil makes a new set
	// Relay, when set, adds the server's own TURN to ICEServers, with
	// credentials per participant.
	Relay Relay
}

// Relay is the server's own TURN server, seen from a session.
type Relay interface {
	// ICEServers are the TURN servers for participant, with credentials
	// of its own; asked on every joined, so a resume renews them.
	ICEServers(participant string) []signal.ICEServer
	// End revokes participant's credentials and ends its allocations.
	End(participant string)
}

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	setDefault(&c.JoinTimeout, 30*time.Second)
	setDefault(&c.PingEvery, 3*time.Second)
	setDefault(&c.PingTimeout, 4*time.Second)
	setDefault(&c.Rate, 20)
	setDefault(&c.Burst, 60)
	// Enough for a burst of large offers (a screen share renegotiation in a
	// big meeting), far below what could tire the server.
	setDefault(&c.ByteRate, 64<<10)
	setDefault(&c.ByteBurst, 512<<10)
	setDefault(&c.MaxStrikes, 5)
	setDefault(&c.QueueLength, 512)
	setDefault(&c.ResumeGrace, 15*time.Second)
	if c.Members == nil {
		c.Members = NewMembers()
	}
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

type outMsg struct {
	data   []byte
	close  bool
	code   websocket.StatusCode
	reason string
}

// Session is one connection of a participant.
type Session struct {
	cfg     *Config
	conn    *websocket.Conn
	log     *slog.Logger
	id      string // the participant id, if this connection makes a new one
	source  source.Key
	limiter *rate.Limiter
	bytes   *rate.Limiter
	strikes int

	bound    atomic.Bool // joined or resumed: has a member
	attempts *rate.Limiter
	out      chan outMsg
	done     chan struct{} // closed when the session ends
	failOnce sync.Once

	m            *member // set by join or resume; read by the reading goroutine
	meantToLeave bool    // left, or broke the protocol: no resume
	controlCut   bool    // closing for a control frame flood (control.go)
}

// Serve runs the session on conn, from src, until it ends. It returns
// after every goroutine it started has stopped and the participant has
// left its room.
func Serve(ctx context.Context, conn *websocket.Conn, cfg *Config, src source.Key) {
	s := &Session{
		cfg:      cfg,
		conn:     conn,
		id:       newID(),
		source:   src,
		limiter:  rate.NewLimiter(cfg.Rate, cfg.Burst),
		bytes:    rate.NewLimiter(cfg.ByteRate, cfg.ByteBurst),
		attempts: room.NewAttemptLimiter(),
		out:      make(chan outMsg, cfg.QueueLength),
		done:     make(chan struct{}),
	}
	s.log = cfg.Log.With("participant", s.id)
	conn.SetReadLimit(signal.HardMaxMessageBytes)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.writeLoop(ctx) }()
	go func() { defer wg.Done(); s.pingLoop(ctx) }()

	joinTimer := time.AfterFunc(cfg.JoinTimeout, func() {
		if !s.bound.Load() {
			s.closeWith(CloseProtocolError, "no join within "+cfg.JoinTimeout.String())
		}
	})
	status := s.readLoop(ctx)
	joinTimer.Stop()

	if s.m != nil {
		// A close frame from the client (a closed tab) or a shutdown is an
		// end; a connection that just broke may be resumed.
		clean := status == websocket.StatusNormalClosure || status == websocket.StatusGoingAway
		s.m.disconnected(s, s.meantToLeave || clean || ctx.Err() != nil || isClosed(cfg.Shutdown))
	}
	close(s.done)
	cancel()
	wg.Wait()
	conn.CloseNow()
}

// readLoop handles messages until the connection ends and returns the
// client's close status (-1 if it sent none).
func (s *Session) readLoop(ctx context.Context) websocket.StatusCode {
	// After a fatal error the loop goes on reading, only to let the close
	// handshake that the writer starts complete; it handles nothing more.
	ending := false
	ctx = context.WithValue(ctx, sessionKey{}, s) // for the control frame callbacks
	for {
		typ, r, err := s.conn.Reader(ctx)
		if err != nil {
			s.log.Debug("connection closed", "status", websocket.CloseStatus(err))
			return websocket.CloseStatus(err)
		}
		data, err := io.ReadAll(io.LimitReader(r, signal.MaxAnswerBytes+1))
		if err != nil {
			s.log.Debug("read failed", "err", err)
			return websocket.CloseStatus(err)
		}
		if ending || s.controlCut {
			continue
		}
		var perr *signal.Error
		switch {
		case len(data) > signal.MaxAnswerBytes:
			if _, err := io.Copy(io.Discard, r); err != nil {
				s.meantToLeave = true
				return -1 // over the hard limit: the library has closed the socket
			}
			perr = signal.Errorf(signal.CodeTooLarge, "message exceeds %d bytes", signal.MaxAnswerBytes)
		case typ != websocket.MessageText:
			perr = signal.Errorf(signal.CodeInvalid, "binary messages are not part of the protocol")
		case !s.limiter.Allow():
			perr = signal.Errorf(signal.CodeRateLimited, "more than %v messages per second", s.cfg.Rate)
		default:
			perr = s.dispatch(data)
		}
		if perr != nil && !s.reject(perr) {
			ending, s.meantToLeave = true, true
		}
	}
}

// forgivable errors are what an honest client meets too (a mistyped
// password, a moderator action on someone who just left, a role that just
// changed); they do not count towards disconnecting it. Password guessing
// has its own budget.
var forgivable = map[signal.Code]bool{
	signal.CodePasswordRequired: true,
	signal.CodeWrongPassword:    true,
	signal.CodeForbidden:        true,
	signal.CodeNotFound:         true,
}

// reject tells the client what was wrong; false means the session must end.
func (s *Session) reject(e *signal.Error) bool {
	s.log.Debug("client error", "code", e.Code, "msg", e.Message)
	if !forgivable[e.Code] {
		s.strikes++
	}
	if e.Fatal || s.strikes >= s.cfg.MaxStrikes {
		reason := e.Message
		if !e.Fatal {
			reason = "too many bad messages, last: " + e.Message
		}
		s.send(signal.ErrorMessage{Code: e.Code, Message: e.Message, RetryAfter: e.RetryAfter})
		s.closeWith(CloseProtocolError, reason)
		return false
	}
	s.send(signal.ErrorMessage{Code: e.Code, Message: e.Message, RetryAfter: e.RetryAfter})
	return true
}

func (s *Session) dispatch(data []byte) *signal.Error {
	msg, err := signal.Decode(data)
	if err != nil {
		return signal.AsError(err)
	}
	// Subscribe answers are not charged: the server paces them with its
	// offers, one answer per offer, and their size follows the meeting's.
	if msg.Type() != "subscribe.answer" && !s.bytes.AllowN(time.Now(), len(data)) {
		return signal.Errorf(signal.CodeRateLimited, "more than %v bytes per second", s.cfg.ByteRate)
	}
	h := handlers[msg.Type()]
	switch t := msg.Type(); {
	case s.m != nil && s.m.kicked.Load():
		return nil // on the way out: nothing more is done
	case t == "join" || t == "resume" || t == "leave":
	case s.m == nil:
		return signal.Errorf(signal.CodeOutOfOrder, "%s before join", t)
	case !s.m.admitted.Load():
		return signal.Errorf(signal.CodeOutOfOrder, "%s while waiting in the lobby", t)
	}
	if err := h(s, msg); err != nil {
		if e := signal.AsError(err); e.Code != signal.CodeInternal {
			return e
		}
		s.log.Warn("handler failed", "type", msg.Type(), "err", err)
		return signal.AsError(err)
	}
	return nil
}

// send queues a message. It never blocks: a client that cannot keep up with
// its queue is disconnected rather than stalling the room.
func (s *Session) send(m signal.Outbound) {
	s.enqueue(outMsg{data: signal.Encode(m)})
}

func (s *Session) enqueue(m outMsg) {
	select {
	case <-s.done:
	case s.out <- m:
	default:
		s.fail("send queue full")
	}
}

// closeWith closes the connection after the messages queued before it.
func (s *Session) closeWith(code websocket.StatusCode, reason string) {
	s.enqueue(outMsg{close: true, code: code, reason: reason})
}

// fail ends the session at once, from any goroutine.
func (s *Session) fail(reason string) {
	s.failOnce.Do(func() {
		s.log.Debug("disconnecting", "reason", reason)
		go s.conn.Close(websocket.StatusGoingAway, reason)
	})
}

func (s *Session) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-s.out:
			if m.close {
				s.failOnce.Do(func() {})
				// Close waits for the client's close frame, read by readLoop.
				_ = s.conn.Close(m.code, m.reason)
				return
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := s.conn.Write(wctx, websocket.MessageText, m.data)
			cancel()
			if err != nil {
				s.conn.CloseNow()
				return
			}
		}
	}
}

func (s *Session) pingLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.PingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.cfg.Shutdown:
			s.closeWith(CloseRestarting, "the server is restarting")
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, s.cfg.PingTimeout)
			err := s.conn.Ping(pctx)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					s.log.Debug("ping timeout")
					s.conn.CloseNow()
				}
				return
			}
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// newID returns a random participant id of 60 bits.
func newID() string { return rand.Text()[:12] }
