package server

import (
	"strings"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/session"
)

func resumable(t *testing.T, srv *Server, room, name string) *client.Client {
	t.Helper()
	c, err := dialOpts(t, srv, room, client.Options{Name: name, Audio: true, Video: true, Resumable: true})
	if err != nil {
		t.Fatal(err)
	}
	if c.State().ResumeToken == "" {
		t.Fatal("no resume token")
	}
	return c
}

// A participant whose signalling connection drops comes back on a new one
// as the same person: the others see "reconnecting", never a leave, and the
// media keeps flowing.
func TestResumeKeepsTheSession(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.ResumeGrace = 5 * time.Second })
	a := resumable(t, srv, "train", "A")
	b := join(t, srv, "train", "B")
	publish(t, a, mic, camera)
	publish(t, b, mic, camera)
	waitFor(t, b, "A's video", func(st client.State) bool { return receives(st, a.ID, camera, 5) })

	a.Drop()
	waitFor(t, b, "A reconnecting", func(st client.State) bool { return st.Participants[a.ID].Reconnecting })
	frames := b.State().Received[keyOf(a.ID, camera)].Frames
	waitFor(t, b, "A's video during the drop", func(st client.State) bool { return receives(st, a.ID, camera, frames+5) })
	ctx, cancel := contextTimeout(10 * time.Second)
	defer cancel()
	start := time.Now()
	if err := a.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("resumed in %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, b, "A back", func(st client.State) bool {
		p, ok := st.Participants[a.ID]
		return ok && !p.Reconnecting
	})
	if st := a.State(); st.ID != a.ID || st.Role != "moderator" || len(st.Participants) != 1 {
		t.Errorf("after resume: id %s role %s participants %d", st.ID, st.Role, len(st.Participants))
	}
	// Still the same meeting both ways, and signalling works again.
	send(t, a, map[string]any{"type": "media", "audio": false, "video": true})
	waitFor(t, b, "A muted after resume", func(st client.State) bool { return !st.Participants[a.ID].Audio })
	aFrames := a.State().Received[keyOf(b.ID, camera)].Frames
	waitFor(t, a, "B's video after resume", func(st client.State) bool { return receives(st, b.ID, camera, aFrames+5) })
}

// After a drop, ICE restarts on both connections keep media going (what a
// network change needs).
func TestResumeWithICERestart(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.ResumeGrace = 5 * time.Second })
	a := resumable(t, srv, "restart", "A")
	b := join(t, srv, "restart", "B")
	publish(t, a, mic, camera)
	publish(t, b, mic, camera)
	waitFor(t, a, "B's video", func(st client.State) bool { return receives(st, b.ID, camera, 5) })
	a.Drop()
	ctx, cancel := contextTimeout(10 * time.Second)
	defer cancel()
	if err := a.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	offers := a.State().Offers
	if err := a.RestartICE(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "a restart offer", func(st client.State) bool { return st.Offers > offers })
	aFrames := a.State().Received[keyOf(b.ID, camera)].Frames
	bFrames := b.State().Received[keyOf(a.ID, camera)].Frames
	waitFor(t, a, "B's video after the restart", func(st client.State) bool { return receives(st, b.ID, camera, aFrames+5) })
	waitFor(t, b, "A's video after the restart", func(st client.State) bool { return receives(st, a.ID, camera, bFrames+5) })
}

// Without a resume in time, the participant leaves for everyone, and its
// token no longer works.
func TestResumeExpires(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.ResumeGrace = 300 * time.Millisecond })
	a := resumable(t, srv, "gone", "A")
	b := join(t, srv, "gone", "B")
	a.Drop()
	waitFor(t, b, "A left after the grace time", func(st client.State) bool { _, ok := st.Participants[a.ID]; return !ok })
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	if err := a.Resume(ctx); err == nil || !strings.Contains(err.Error(), "resume_failed") {
		t.Errorf("resume after expiry: %v", err)
	}
}

// A resume on a new connection while the old one still looks alive (a
// network change the server has not noticed) takes over; the old one is
// closed with the reason.
func TestResumeTakesOver(t *testing.T) {
	srv := startServer(t)
	a := resumable(t, srv, "switch", "A")
	b := join(t, srv, "switch", "B")
	token := a.State().ResumeToken
	r := dialRaw(t, srv)
	r.send(1, `{"type":"resume","token":"`+token+`"}`)
	waitFor(t, a, "old connection replaced", func(st client.State) bool {
		return st.Closed && st.CloseStatus == session.CloseReplaced
	})
	if _, ok := b.State().Participants[a.ID]; !ok {
		t.Error("A left instead of moving to the new connection")
	}
}

// A participant who did not ask to be resumable leaves at once when its
// connection drops, and a tab closing (a close frame) always leaves at once.
func TestNotResumableLeavesAtOnce(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.ResumeGrace = time.Minute })
	a := join(t, srv, "plain", "A")
	b := join(t, srv, "plain", "B")
	c := resumable(t, srv, "plain", "C")
	a.Drop()
	waitFor(t, b, "A gone", func(st client.State) bool { _, ok := st.Participants[a.ID]; return !ok })
	c.Leave()
	waitFor(t, b, "C gone", func(st client.State) bool { _, ok := st.Participants[c.ID]; return !ok })
}

// A resume right on the heels of the lost connection (a network change:
// the old socket fails and the client is back at once) leaves the
// participant present and not reconnecting, whatever order the server and
// the client handle the old connection's end and the resume in. Both
// lost that race now and then: the server could show the participant as
// reconnecting for good, and the client's old read loop could end the
// whole client. The race is narrow, so the test repeats it.
func TestQuickResumeAfterTheLostConnection(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Session.ResumeGrace = 5 * time.Second })
	a := resumable(t, srv, "quick", "A")
	var w witness
	b := witnessed(t, srv, "quick", "B", &w)
	for i := range 50 {
		a.Drop()
		ctx, cancel := contextTimeout(10 * time.Second)
		err := a.Resume(ctx)
		cancel()
		if err != nil {
			t.Fatalf("resume %d: %v", i, err)
		}
		time.Sleep(50 * time.Millisecond) // the old connection's end is handled by now
		ctx, cancel = contextTimeout(10 * time.Second)
		err = b.WaitFor(ctx, func(st client.State) bool { p, ok := st.Participants[a.ID]; return ok && !p.Reconnecting })
		cancel()
		if err != nil {
			st := a.State()
			t.Fatalf("after resume %d B does not show A as present (A closed %v %q); B heard %+v",
				i, st.Closed, st.CloseReason, w.about(a.ID))
		}
	}
}
