package session

import (
	"context"
	"fmt"

	"github.com/coder/websocket"
)

// Control frames (pings and pongs) cost a client the same as messages: each
// takes one from the connection's message budget. Without that, a client
// could send pings as fast as its link allows and have the server answer
// every one with a pong as big as the ping, never touching a limit. An
// honest client sends one pong per server ping (every few seconds) and no
// pings at all (browsers cannot send them).

// AcceptOptions are the options for upgrading a connection that Serve will
// run: they hand the client's control frames to the session's budget.
func AcceptOptions() *websocket.AcceptOptions {
	return &websocket.AcceptOptions{OnPingReceived: onPing, OnPongReceived: onPong}
}

// sessionKey carries the session in the context that readLoop gives to
// Reader: the library calls the control frame callbacks from inside
// Reader, on the reading goroutine, with a context derived from that one.
type sessionKey struct{}

func sessionOf(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// onPing answers a ping only within the budget. A ping that arrives
// outside Reader (during the close handshake) gets no answer.
func onPing(ctx context.Context, _ []byte) bool {
	s := sessionOf(ctx)
	return s != nil && s.controlFrame(ctx, "ping")
}

func onPong(ctx context.Context, _ []byte) {
	if s := sessionOf(ctx); s != nil {
		s.controlFrame(ctx, "pong")
	}
}

// controlFrame charges one control frame to the budget and reports whether
// it was within it. Over the budget a frame counts as a bad message; after
// MaxStrikes the connection is closed with a reason, as for a message
// flood. It runs on the reading goroutine, like reject.
//
// A client that goes on after that is not read any more: the call waits
// until ctx ends (the library gives a control frame 5 s; a shutdown ends it
// sooner), so the rest of the flood waits in the socket buffers instead of
// costing the server a read each until the close handshake gives up (also
// after 5 s) and the connection closes.
func (s *Session) controlFrame(ctx context.Context, kind string) bool {
	if s.controlCut {
		<-ctx.Done()
		return false
	}
	if s.limiter.Allow() {
		return true
	}
	s.strikes++
	if s.strikes >= s.cfg.MaxStrikes {
		s.controlCut, s.meantToLeave = true, true
		s.log.Debug("client error", "code", "rate_limited", "msg", kind+" flood")
		s.closeWith(CloseProtocolError, fmt.Sprintf("more than %v messages per second (%ss)", s.cfg.Rate, kind))
	}
	return false
}
