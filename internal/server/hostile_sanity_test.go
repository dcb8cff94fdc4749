package server

import (
	"testing"
	"time"
)

// With no attack, the honest meeting passes its own check: the check is
// not so strict that a quiet server fails it.
func TestHonestMeetingUnharmedWithoutAttack(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "quiet")
	time.Sleep(3 * time.Second)
	h.check(t, "no attack")
}
