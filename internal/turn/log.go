package turn

import "github.com/pion/logging"

// discardLogs drops pion's TURN log lines: they name client and peer
// addresses and usernames (participant ids), which Plausch's logs never
// carry. What an operator needs is in Stats.
type discardLogs struct{}

func (discardLogs) NewLogger(string) logging.LeveledLogger { return discardLogs{} }

func (discardLogs) Trace(string)          {}
func (discardLogs) Tracef(string, ...any) {}
func (discardLogs) Debug(string)          {}
func (discardLogs) Debugf(string, ...any) {}
func (discardLogs) Info(string)           {}
func (discardLogs) Infof(string, ...any)  {}
func (discardLogs) Warn(string)           {}
func (discardLogs) Warnf(string, ...any)  {}
func (discardLogs) Error(string)          {}
func (discardLogs) Errorf(string, ...any) {}
