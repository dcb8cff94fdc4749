package certs

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// certmagic's address fields never reach the log; the rest does, at the
// matching level.
func TestZapToSlogDropsAddresses(t *testing.T) {
	var buf bytes.Buffer
	zl := zapToSlog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	zl.Named("handshake").With(zap.String("remote", "192.0.2.1:4242")).Debug("choosing certificate",
		zap.String("identifier", "meet.example.org"), zap.String("remote_ip", "192.0.2.1"),
		zap.String("remote_port", "4242"), zap.String("remote_addr", "192.0.2.1:4242"))
	zl.Error("obtaining", zap.Error(errors.New("boom")), zap.Strings("identifiers", []string{"meet.example.org"}))
	out := buf.String()
	if strings.Contains(out, "192.0.2.1") || strings.Contains(out, "4242") {
		t.Errorf("an address reached the log:\n%s", out)
	}
	for _, want := range []string{"level=DEBUG msg=\"choosing certificate\" logger=handshake identifier=meet.example.org",
		"level=ERROR msg=obtaining error=boom identifiers=[meet.example.org]"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from\n%s", want, out)
		}
	}
	buf.Reset()
	zl = zapToSlog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	zl.Info("quiet")
	if buf.Len() != 0 {
		t.Errorf("below the level: %s", buf.String())
	}
}
