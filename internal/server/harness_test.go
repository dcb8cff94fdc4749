package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/session"
	"plausch.dev/plausch/internal/sfu"
)

// startServer runs a loopback-only server for one test and checks at the end
// that it leaves no goroutine behind.
func startServer(t *testing.T, mod ...func(*Config)) *Server {
	t.Helper()
	before := runtime.NumGoroutine()
	cfg := Config{
		Addr:    "127.0.0.1:0",
		Media:   sfu.Config{LoopbackOnly: true},
		Rooms:   room.Config{SpeakingEvery: 100 * time.Millisecond},
		Session: session.Config{PingEvery: time.Second, PingTimeout: 2 * time.Second},
		Log:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		checkGoroutines(t, before)
	})
	return srv
}

// checkGoroutines waits for the goroutine count to return to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Errorf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func join(t *testing.T, srv *Server, room, name string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, srv.URL(), room, client.Options{Name: name, Audio: true, Video: true, Loopback: true})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(c.Close)
	return c
}

func publish(t *testing.T, c *client.Client, sources ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Publish(ctx, sources...); err != nil {
		t.Fatalf("%s publish: %v", c.ID, err)
	}
}

func waitFor(t *testing.T, c *client.Client, what string, cond func(client.State) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.WaitFor(ctx, cond); err != nil {
		st := c.State()
		t.Fatalf("%s: waiting for %s: %v\nstate: participants=%v errors=%v closed=%v %q received=%s",
			c.ID, what, err, st.Participants, st.Errors, st.Closed, st.CloseReason, describe(st.Received))
	}
}

func describe(r map[client.Key]*client.TrackStats) string {
	var b strings.Builder
	for k, v := range r {
		fmt.Fprintf(&b, "\n  %s/%s: %+v", k.Participant, k.Source, *v)
	}
	return b.String()
}

// receives reports whether st shows intact media flowing from p's source.
func receives(st client.State, p, source string, frames int) bool {
	r, ok := st.Received[client.Key{Participant: p, Source: source}]
	return ok && !r.Ended && r.Frames >= frames && r.BadFrames == 0
}

func contextTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
