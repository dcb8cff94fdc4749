package server

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/signal"
)

const (
	mic    = signal.SourceMicrophone
	camera = signal.SourceCamera
	screen = signal.SourceScreen
)

// Three participants publish real VP8 and Opus; each receives the others'
// tracks with every frame intact.
func TestThreeParticipantsSeeAndHearEachOther(t *testing.T) {
	srv := startServer(t)
	var cs []*client.Client
	for _, name := range []string{"Ada", "Grace", "Linus"} {
		c := join(t, srv, "standup-42", name)
		publish(t, c, mic, camera)
		cs = append(cs, c)
	}
	for _, c := range cs {
		for _, o := range cs {
			if o == c {
				continue
			}
			waitFor(t, c, "media from "+o.ID, func(st client.State) bool {
				return receives(st, o.ID, camera, 10) && receives(st, o.ID, mic, 25)
			})
		}
		if n := len(c.State().Participants); n != 2 {
			t.Errorf("%s knows %d others, want 2", c.ID, n)
		}
	}
}

// Joins and publishes race: whatever the interleaving, every joiner gets
// every track that exists at its join and every track published after.
func TestRacingJoinsAndPublishesMissNothing(t *testing.T) {
	srv := startServer(t)
	const n = 5
	cs := make([]*client.Client, n)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs[i] = join(t, srv, "race", fmt.Sprintf("p%d", i))
			publish(t, cs[i], mic, camera)
		}()
	}
	wg.Wait()
	for _, c := range cs {
		for _, o := range cs {
			if o != c {
				waitFor(t, c, "media from "+o.ID, func(st client.State) bool {
					return receives(st, o.ID, camera, 5) && receives(st, o.ID, mic, 10)
				})
			}
		}
	}
}

// Leaving renegotiates: the others see the participant go, its tracks end,
// and media among the rest keeps flowing.
func TestLeaveRemovesTracksAndRenegotiates(t *testing.T) {
	srv := startServer(t)
	a, b, c := join(t, srv, "leave", "A"), join(t, srv, "leave", "B"), join(t, srv, "leave", "C")
	for _, x := range []*client.Client{a, b, c} {
		publish(t, x, mic, camera)
	}
	waitFor(t, a, "media from C", func(st client.State) bool { return receives(st, c.ID, camera, 5) })
	offers := a.State().Offers
	c.Leave()
	for _, x := range []*client.Client{a, b} {
		waitFor(t, x, "C gone", func(st client.State) bool {
			_, there := st.Participants[c.ID]
			cam := st.Received[client.Key{Participant: c.ID, Source: camera}]
			return !there && cam != nil && cam.Ended
		})
	}
	waitFor(t, a, "a new offer without C", func(st client.State) bool { return st.Offers > offers })
	before := a.State().Received[client.Key{Participant: b.ID, Source: camera}].Frames
	waitFor(t, a, "B's video still flowing", func(st client.State) bool { return receives(st, b.ID, camera, before+5) })
}

// A participant whose network silently dies is removed for everyone within
// the keepalive timeout, well under 10 seconds.
func TestVanishedParticipantIsRemoved(t *testing.T) {
	srv := startServer(t)
	sim := newSim(t, 1)
	a := join(t, srv, "vanish", "A")
	gone, err := dialOpts(t, srv, "vanish", client.Options{Name: "B", Net: sim, DialContext: sim.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "B joined", func(st client.State) bool { _, ok := st.Participants[gone.ID]; return ok })
	sim.SetDown(true) // nothing arrives, nothing is closed
	start := time.Now()
	waitFor(t, a, "B removed", func(st client.State) bool { _, ok := st.Participants[gone.ID]; return !ok })
	t.Logf("vanished participant removed after %v", time.Since(start).Round(10*time.Millisecond))
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("removal took %v", d)
	}
}

// Screen sharing arrives as its own track and state, and goes away again.
func TestScreenShare(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "share", "A"), join(t, srv, "share", "B")
	publish(t, a, mic, camera)
	publish(t, b, mic)
	publish(t, a, screen)
	waitFor(t, b, "A's screen", func(st client.State) bool {
		return st.Participants[a.ID].Screen && receives(st, a.ID, screen, 5) && receives(st, a.ID, camera, 5)
	})
	ctx, cancel := contextTimeout(10 * time.Second)
	defer cancel()
	if err := a.Unpublish(ctx, screen); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, "A's screen gone", func(st client.State) bool {
		r := st.Received[client.Key{Participant: a.ID, Source: screen}]
		return !st.Participants[a.ID].Screen && r != nil && r.Ended
	})
}

// Mute state reaches the others.
func TestMediaStateIsShared(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "mute", "A"), join(t, srv, "mute", "B")
	if err := a.Send(map[string]any{"type": "media", "audio": false, "video": true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, "A muted", func(st client.State) bool {
		p := st.Participants[a.ID]
		return !p.Audio && p.Video && p.Name == "A"
	})
}

// Meeting names are case-insensitive: two spellings are one meeting.
func TestMeetingNameIsCaseInsensitive(t *testing.T) {
	srv := startServer(t)
	a := join(t, srv, "Team-Müller", "A")
	join(t, srv, "team-MÜLLER", "B")
	waitFor(t, a, "B in the same meeting", func(st client.State) bool { return len(st.Participants) == 1 })
}

// The server tells everyone who speaks, from the audio level extension.
func TestSpeakingFollowsAudioLevel(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "talk", "A"), join(t, srv, "talk", "B")
	publish(t, a, mic)
	publish(t, b, mic)
	a.SetLoudness(client.Loud)
	for _, c := range []*client.Client{a, b} {
		waitFor(t, c, "A speaking", func(st client.State) bool { return len(st.Speaking) == 1 && st.Speaking[0] == a.ID })
	}
	a.SetLoudness(client.Silent)
	b.SetLoudness(client.Loud)
	waitFor(t, a, "only B speaking", func(st client.State) bool { return len(st.Speaking) == 1 && st.Speaking[0] == b.ID })
	// A muted participant is never shown as speaking.
	if err := b.Send(map[string]any{"type": "media", "audio": false, "video": false}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "nobody speaking", func(st client.State) bool { return len(st.Speaking) == 0 })
}
