package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/pion/logging"
)

// ipPattern matches IPv4 and IPv6 addresses (with an optional port), which
// Pion's ICE and DTLS messages carry and our logs must not.
var ipPattern = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\[?(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b\]?(?::\d+)?`)

// Redact replaces every IP address in s.
func Redact(s string) string { return ipPattern.ReplaceAllString(s, "[addr]") }

// loggerFactory sends Pion's log lines to slog, without addresses. Pion's
// errors and warnings are about one peer connection, so they are logged at
// debug level: an operator's info log stays about the server.
type loggerFactory struct{ log *slog.Logger }

func (f loggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) emit(level slog.Level, msg string) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, Redact(msg))
	}
}

func (l pionLogger) Trace(msg string)                  {}
func (l pionLogger) Tracef(format string, args ...any) {}
func (l pionLogger) Debug(msg string)                  {}
func (l pionLogger) Debugf(format string, args ...any) {}
func (l pionLogger) Info(msg string)                   {}
func (l pionLogger) Infof(format string, args ...any)  {}
func (l pionLogger) Warn(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	l.emit(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (l pionLogger) Error(msg string) { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	l.emit(slog.LevelDebug, fmt.Sprintf(format, args...))
}
