package hostile

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// echoServer upgrades every request and echoes messages back.
func echoServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refuse" {
			http.Error(w, "no", http.StatusTeapot)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if string(data) == "bye" {
				_ = c.Close(4000, "asked to")
				return
			}
			if c.Write(r.Context(), typ, data) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// The hand-made frames are ones a real WebSocket library understands:
// masked text in one frame and in fragments, pings answered with pongs, and
// the server's close frame counted with its code and reason.
func TestRawWebSocketSpeaksTheWireFormat(t *testing.T) {
	addr := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, err := DialWS(ctx, addr, "/", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()

	if err := ws.WriteText("hello"); err != nil {
		t.Fatal(err)
	}
	f, err := ws.ReadFrame()
	if err != nil || f.Opcode != OpText || string(f.Payload) != "hello" || !f.Fin {
		t.Fatalf("echo: %+v %v", f, err)
	}
	big := strings.Repeat("x", 70000) // a 64-bit length
	_ = ws.WriteFrame(Frame{Opcode: OpText, Payload: []byte(big[:100])})
	_ = ws.WriteFrame(Frame{Fin: true, Opcode: OpContinuation, Payload: []byte(big[100:])})
	if f, err = ws.ReadFrame(); err != nil || string(f.Payload) != big {
		t.Fatalf("fragmented echo: %d bytes, %v", len(f.Payload), err)
	}

	tally := ws.Drain()
	n, err := ws.Flood(ctx, Frame{Fin: true, Opcode: OpPing, Payload: []byte("p")}, 100)
	if err != nil || n != 100 {
		t.Fatalf("flood: %d %v", n, err)
	}
	_ = ws.WriteText("bye")
	<-tally.Done()
	if pongs, bytes := tally.Frames(OpPong); pongs != 100 || bytes != 300 {
		t.Errorf("pongs %d (%d bytes), want 100 (300)", pongs, bytes)
	}
	if code, reason := tally.Close(); code != 4000 || reason != "asked to" {
		t.Errorf("close %d %q", code, reason)
	}
}

func TestRefusedHandshakeIsAnError(t *testing.T) {
	addr := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := DialWS(ctx, addr, "/refuse", DialOptions{})
	var he *HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusTeapot || he.Body != "no\n" {
		t.Fatalf("got %v, want a 418 HandshakeError", err)
	}
}
