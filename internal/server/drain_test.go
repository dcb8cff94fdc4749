package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/session"
)

func readyz(t *testing.T, srv *Server) int {
	t.Helper()
	res, err := http.Get(srv.URL() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// A draining server tells everyone, starts no new meeting, lets running
// meetings go on until the grace time, then closes every connection with
// the code that tells clients to come back.
func TestDrain(t *testing.T) {
	srv, err := Start(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	a, b := join(t, srv, "running", "A"), join(t, srv, "running", "B")
	if readyz(t, srv) != http.StatusOK {
		t.Fatal("not ready before draining")
	}
	drained := make(chan error, 1)
	start := time.Now()
	go func() { drained <- srv.Drain(context.Background(), 2*time.Second) }()
	for _, c := range []*client.Client{a, b} {
		waitFor(t, c, "draining notice", func(st client.State) bool { return st.Draining == 2 })
	}
	if code := readyz(t, srv); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d", code)
	}
	if _, err := dialOpts(t, srv, "brand-new", client.Options{Name: "N"}); err == nil || !strings.Contains(err.Error(), "server_draining") {
		t.Errorf("new meeting while draining: %v", err)
	}
	late, err := dialOpts(t, srv, "running", client.Options{Name: "Late"})
	if err != nil {
		t.Fatalf("joining a running meeting while draining: %v", err)
	}
	for _, c := range []*client.Client{a, b, late} {
		waitFor(t, c, "closed for the restart", func(st client.State) bool {
			return st.Closed && st.CloseStatus == session.CloseRestarting
		})
	}
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("meetings cut off after %v, before the grace time", d)
	}
}

// When the last meeting ends, draining does not wait for the grace time.
func TestDrainEndsWithTheLastMeeting(t *testing.T) {
	srv, err := Start(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	a := join(t, srv, "short", "A")
	drained := make(chan error, 1)
	start := time.Now()
	go func() { drained <- srv.Drain(context.Background(), time.Minute) }()
	waitFor(t, a, "draining notice", func(st client.State) bool { return st.Draining == 60 })
	a.Leave()
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("drain waited although no meeting was left")
	}
	t.Logf("drained %v after the last participant left", time.Since(start).Round(time.Millisecond))
}
