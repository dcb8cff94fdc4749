package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/session"
	"plausch.dev/plausch/internal/signal"
)

// rawConn is a hand-written client: a bare WebSocket, no protocol help.
type rawConn struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, srv *Server) *rawConn {
	t.Helper()
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL(), "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &rawConn{t: t, ws: ws}
}

func (r *rawConn) send(typ websocket.MessageType, data string) {
	r.t.Helper()
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	if err := r.ws.Write(ctx, typ, []byte(data)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// expectError reads until an error message arrives and checks its code.
func (r *rawConn) expectError(code signal.Code) {
	r.t.Helper()
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	for {
		_, data, err := r.ws.Read(ctx)
		if err != nil {
			r.t.Fatalf("want error %s, got %v", code, err)
		}
		if strings.Contains(string(data), `"type":"error"`) {
			if !strings.Contains(string(data), `"code":"`+string(code)+`"`) {
				r.t.Fatalf("want error %s, got %s", code, data)
			}
			return
		}
	}
}

// expectClose reads until the server closes and returns the close error.
func (r *rawConn) expectClose() websocket.CloseError {
	r.t.Helper()
	ctx, cancel := contextTimeout(10 * time.Second)
	defer cancel()
	for {
		if _, _, err := r.ws.Read(ctx); err != nil {
			var ce websocket.CloseError
			if !asCloseError(err, &ce) {
				r.t.Fatalf("want a close frame, got %v", err)
			}
			return ce
		}
	}
}

func asCloseError(err error, ce *websocket.CloseError) bool {
	if websocket.CloseStatus(err) == -1 {
		return false
	}
	*ce = websocket.CloseError{Code: websocket.CloseStatus(err)}
	if i := strings.Index(err.Error(), "reason = "); i >= 0 {
		ce.Reason = err.Error()[i:]
	}
	return true
}

func (r *rawConn) join(room string) {
	r.t.Helper()
	r.send(websocket.MessageText, `{"type":"join","room":"`+room+`","name":"Mallory"}`)
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	_, data, err := r.ws.Read(ctx)
	if err != nil || !strings.Contains(string(data), `"type":"joined"`) {
		r.t.Fatalf("join: %s %v", data, err)
	}
}

// Each kind of bad message gets an error naming the problem.
func TestBadMessagesGetErrors(t *testing.T) {
	srv := startServer(t)
	cases := []struct {
		name  string
		typ   websocket.MessageType
		msg   string
		code  signal.Code
		joins bool
	}{
		{"invalid JSON", websocket.MessageText, `{"type":`, signal.CodeBadJSON, false},
		{"not an object", websocket.MessageText, `[1,2]`, signal.CodeBadJSON, false},
		{"no type", websocket.MessageText, `{"room":"x"}`, signal.CodeInvalid, false},
		{"unknown type", websocket.MessageText, `{"type":"explode"}`, signal.CodeUnknownType, false},
		{"binary frame", websocket.MessageBinary, `{"type":"leave"}`, signal.CodeInvalid, false},
		{"oversize", websocket.MessageText, `{"type":"join","room":"` + strings.Repeat("a", signal.MaxMessageBytes) + `"}`, signal.CodeTooLarge, false},
		{"offer before join", websocket.MessageText, `{"type":"publish.offer","sdp":"v=0"}`, signal.CodeOutOfOrder, false},
		{"answer before join", websocket.MessageText, `{"type":"subscribe.answer","sdp":"v=0"}`, signal.CodeOutOfOrder, false},
		{"join without name", websocket.MessageText, `{"type":"join","room":"abc"}`, signal.CodeInvalid, false},
		{"control chars in name", websocket.MessageText, `{"type":"join","room":"abc","name":"a\u0007b"}`, signal.CodeBadName, false},
		{"bad source", websocket.MessageText, `{"type":"publish.offer","sdp":"v=0","tracks":[{"mid":"0","source":"webcam"}]}`, signal.CodeInvalid, true},
		{"bad SDP", websocket.MessageText, `{"type":"publish.offer","sdp":"this is not sdp","tracks":[]}`, signal.CodeBadSDP, true},
		{"answer without offer", websocket.MessageText, `{"type":"subscribe.answer","sdp":"v=0"}`, signal.CodeOutOfOrder, true},
		{"bad candidate pc", websocket.MessageText, `{"type":"candidate","pc":"other","candidate":{"candidate":"x"}}`, signal.CodeInvalid, true},
		{"bad candidate", websocket.MessageText, `{"type":"candidate","pc":"publish","candidate":{"candidate":"garbage","sdpMid":"0"}}`, signal.CodeInvalid, true},
		{"media without fields", websocket.MessageText, `{"type":"media"}`, signal.CodeInvalid, true},
		{"second join", websocket.MessageText, `{"type":"join","room":"abc","name":"x"}`, signal.CodeOutOfOrder, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, srv)
			if tc.joins {
				r.join("bad-input-room")
			}
			r.send(tc.typ, tc.msg)
			r.expectError(tc.code)
		})
	}
}

// The bad candidate case above needs a remote description first, so it is
// rejected by the queue only when the queue overflows; check both paths.
func TestCandidateBeforeOfferIsQueuedThenLimited(t *testing.T) {
	srv := startServer(t)
	r := dialRaw(t, srv)
	r.join("candidates")
	c := `{"type":"candidate","pc":"subscribe","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0"}}`
	for range 32 {
		r.send(websocket.MessageText, c)
	}
	r.send(websocket.MessageText, c)
	r.expectError(signal.CodeInvalid)
}

// An invalid meeting name ends the connection with the reason.
func TestBadMeetingNameClosesWithReason(t *testing.T) {
	srv := startServer(t)
	for _, name := range []string{"a", "no spaces here", "ws", strings.Repeat("x", 65)} {
		r := dialRaw(t, srv)
		r.send(websocket.MessageText, `{"type":"join","room":"`+name+`","name":"Eve"}`)
		r.expectError(signal.CodeBadRoom)
		if ce := r.expectClose(); ce.Code != session.CloseProtocolError {
			t.Errorf("%q: close %v, want %v", name, ce.Code, session.CloseProtocolError)
		}
	}
}

// A client that keeps misbehaving is disconnected with a reason, while the
// participants of the same meeting carry on undisturbed.
func TestMisbehavingClientIsDisconnectedOthersCarryOn(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "robust", "A"), join(t, srv, "robust", "B")
	publish(t, a, mic, camera)
	publish(t, b, mic, camera)
	waitFor(t, a, "B's video", func(st client.State) bool { return receives(st, b.ID, camera, 5) })

	r := dialRaw(t, srv)
	r.join("robust")
	for range 5 {
		r.send(websocket.MessageText, `{"type":"nonsense"}`)
	}
	ce := r.expectClose()
	if ce.Code != session.CloseProtocolError || !strings.Contains(ce.Reason, "too many bad messages") {
		t.Errorf("closed with %v %q", ce.Code, ce.Reason)
	}
	before := a.State().Received[keyOf(b.ID, camera)].Frames
	waitFor(t, a, "B's video still flowing", func(st client.State) bool { return receives(st, b.ID, camera, before+10) })
	waitFor(t, b, "A's video still flowing", func(st client.State) bool { return receives(st, a.ID, camera, before+10) })
	if n := len(a.State().Errors); n != 0 {
		t.Errorf("A saw errors: %v", a.State().Errors)
	}
}

// Flooding is rate limited, and a flood that goes on ends the connection.
func TestFloodIsRateLimited(t *testing.T) {
	srv := startServer(t)
	r := dialRaw(t, srv)
	r.join("flood")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if r.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"media","audio":true,"video":true}`)) != nil {
				return
			}
		}
	}()
	r.expectError(signal.CodeRateLimited)
	if ce := r.expectClose(); ce.Code != session.CloseProtocolError {
		t.Errorf("close %v", ce.Code)
	}
}

// A message over the hard limit closes the socket at once.
func TestHugeMessageClosesSocket(t *testing.T) {
	srv := startServer(t)
	r := dialRaw(t, srv)
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	_ = r.ws.Write(ctx, websocket.MessageText, []byte(strings.Repeat("x", signal.HardMaxMessageBytes+10)))
	if ce := r.expectClose(); ce.Code != websocket.StatusMessageTooBig {
		t.Errorf("close %v, want %v", ce.Code, websocket.StatusMessageTooBig)
	}
}

// Limits of meetings and participants give clear refusals.
func TestLimits(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Rooms = room.Config{MaxRooms: 1, MaxParticipants: 2} })
	join(t, srv, "one", "A")
	join(t, srv, "one", "B")
	r := dialRaw(t, srv)
	r.send(websocket.MessageText, `{"type":"join","room":"one","name":"C"}`)
	r.expectError(signal.CodeRoomFull)
	r2 := dialRaw(t, srv)
	r2.send(websocket.MessageText, `{"type":"join","room":"two","name":"D"}`)
	r2.expectError(signal.CodeServerFull)
}

func keyOf(p, source string) client.Key { return client.Key{Participant: p, Source: source} }

// A connection that never joins is closed with a reason.
func TestNoJoinTimesOut(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.JoinTimeout = 300 * time.Millisecond })
	r := dialRaw(t, srv)
	if ce := r.expectClose(); ce.Code != session.CloseProtocolError || !strings.Contains(ce.Reason, "no join") {
		t.Errorf("closed with %v %q", ce.Code, ce.Reason)
	}
}

// A client that sends more bytes than its budget is limited, then cut off.
func TestByteBudget(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.ByteRate, c.Session.ByteBurst = 1000, 4000 })
	r := dialRaw(t, srv)
	r.join("bytes")
	big := `{"type":"media","audio":true,"video":true,"pad":"` + strings.Repeat("x", 3000) + `"}`
	r.send(websocket.MessageText, big)
	r.send(websocket.MessageText, big)
	r.expectError(signal.CodeRateLimited)
	for range 4 {
		r.send(websocket.MessageText, big)
	}
	if ce := r.expectClose(); ce.Code != session.CloseProtocolError {
		t.Errorf("close %v", ce.Code)
	}
}
