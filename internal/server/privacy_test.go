package server

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"plausch.dev/plausch/internal/client"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A whole meeting with debug logging leaves no name, meeting name or
// address in the logs.
func TestLogsHoldNoPersonalData(t *testing.T) {
	var logs syncBuffer
	srv := startServer(t, func(c *Config) {
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	room := "Geheimrat-Goethe-Weimar"
	a := join(t, srv, room, "Johanna Zweistein")
	send(t, a, map[string]any{"type": "room.password", "password": "Kennwort-Zauberberg"})
	waitFor(t, a, "password set", func(st client.State) bool { return st.Settings.Password })
	if _, err := dialOpts(t, srv, room, client.Options{Name: "Mallory Falschwort", Password: "Rate-Rate-Ratewort"}); err == nil {
		t.Fatal("wrong password accepted")
	}
	b, err := dialOpts(t, srv, room, client.Options{Name: "Friedrich Quellwasser", Password: "Kennwort-Zauberberg", Audio: true, Video: true})
	if err != nil {
		t.Fatal(err)
	}
	send(t, a, map[string]any{"type": "chat", "data": "Q2hpZmZyZUdlaGVpbQ"})
	send(t, b, map[string]any{"type": "relay", "to": a.ID, "data": "Schluesselaustausch-Geheim"})
	waitFor(t, b, "chat", func(st client.State) bool { return len(st.Chats) == 1 })
	publish(t, a, mic, camera)
	publish(t, b, mic, camera)
	waitFor(t, a, "B's video", func(st client.State) bool { return receives(st, b.ID, camera, 5) })
	b.Leave()
	waitFor(t, a, "B gone", func(st client.State) bool { return len(st.Participants) == 0 })
	out := logs.String()
	if !strings.Contains(out, "joined") {
		t.Fatalf("no logs captured:\n%s", out)
	}
	for _, secret := range []string{"geheimrat", "Geheimrat", "Johanna", "Zweistein", "Friedrich", "Quellwasser", "Mallory",
		"Kennwort", "Zauberberg", "Ratewort", "Q2hpZmZyZUdlaGVpbQ", "Schluesselaustausch", "127.0.0.1", "::1"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
}
