package turn

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Logs at debug level name no address, username or participant id, even
// where pion's own lines would.
func TestLogsHoldNoPersonalData(t *testing.T) {
	var buf lockedBuffer
	ts := newTestServer(t, Config{MaxAllocationsPerUser: 1, Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	user, pass := ts.Credentials("participant-7", time.Now())
	c := ts.dial(t, "udp", user, pass)
	c.allocate(t)
	_ = c.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9}) // refused: loopback
	_, _ = ts.dial(t, "tcp", user, pass).Allocate()                           // refused: quota
	_, _ = ts.dial(t, "udp", user, "wrong").Allocate()                        // refused: password
	ts.EndUser("participant-7")

	logs := buf.String()
	if !strings.Contains(logs, "reserved-range") || !strings.Contains(logs, "quota") {
		t.Errorf("expected lines missing:\n%s", logs)
	}
	for _, secret := range []string{"127.0.0", "participant-7", user, pass, "::1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q:\n%s", secret, logs)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
