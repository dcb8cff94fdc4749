package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/signal"
)

// joinSimulcast joins a participant whose camera sends three layers.
func joinSimulcast(t *testing.T, srv *Server, room, name string) *client.Client {
	t.Helper()
	c, err := dialOpts(t, srv, room, client.Options{Name: name, Audio: true, Video: true, Simulcast: true})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// showCameras sends c's view: the cameras of ids, each at the given height
// (16:9), and lastN.
func showCameras(t *testing.T, c *client.Client, height, lastN int, ids ...string) {
	t.Helper()
	videos := make([]signal.ViewedVideo, len(ids))
	for i, id := range ids {
		videos[i] = signal.ViewedVideo{Participant: id, Source: camera, Width: height * 16 / 9, Height: height}
	}
	send(t, c, map[string]any{"type": "view", "videos": videos, "lastN": lastN})
}

func forwardedLayer(st client.State, id string) int {
	for _, f := range st.Forwarded {
		if f.Participant == id && f.Source == camera {
			return f.Layer
		}
	}
	return -1
}

// onLayer reports whether st receives id's camera from sample layer l, with
// frames flowing.
func onLayer(st client.State, id string, l, frames int) bool {
	r := st.Received[keyOf(id, camera)]
	return r != nil && r.Layer == l && r.Frames >= frames && time.Since(r.Last) < 300*time.Millisecond
}

// A subscriber gets the layer that fits the size of its tile, and the
// stream stays one continuous stream through every switch: no gap in the
// sequence numbers, picture ids that follow on, a keyframe first.
func TestSimulcastLayerFollowsTileSize(t *testing.T) {
	srv := startServer(t)
	a := joinSimulcast(t, srv, "layers", "A")
	b := join(t, srv, "layers", "B")
	publish(t, a, camera)
	waitFor(t, b, "A's camera", func(st client.State) bool { return receives(st, a.ID, camera, 10) })

	frames := 0
	for _, step := range []struct{ height, layer int }{{180, 0}, {720, 2}, {360, 1}, {180, 0}} {
		showCameras(t, b, step.height, 0, a.ID)
		waitFor(t, b, fmt.Sprintf("the layer for a tile %d high", step.height), func(st client.State) bool {
			return forwardedLayer(st, a.ID) == step.layer && onLayer(st, a.ID, step.layer, frames+10)
		})
		frames = b.State().Received[keyOf(a.ID, camera)].Frames
	}
	r := b.State().Received[keyOf(a.ID, camera)]
	t.Logf("A's camera at B: %d frames, %d layer switches (%d old-layer frames cut short), %d packets", r.Frames, r.LayerSwitches, r.CutShort, r.Packets)
	if r.LayerSwitches < 4 || r.SwitchesNotAtKeyframes != 0 || r.Lost != 0 || r.PictureIDJumps != 0 || r.BadFrames != 0 {
		t.Errorf("switches %d (%d not at a keyframe), lost %d, picture id jumps %d, bad frames %d",
			r.LayerSwitches, r.SwitchesNotAtKeyframes, r.Lost, r.PictureIDJumps, r.BadFrames)
	}
}

// A video that leaves the screen is paused, and comes back where it left
// off in numbering.
func TestHiddenVideoIsPaused(t *testing.T) {
	srv := startServer(t)
	a := joinSimulcast(t, srv, "pause", "A")
	b := join(t, srv, "pause", "B")
	publish(t, a, camera, mic)
	showCameras(t, b, 180, 0, a.ID)
	waitFor(t, b, "A's camera", func(st client.State) bool { return onLayer(st, a.ID, 0, 10) })

	showCameras(t, b, 180, 0) // nothing on screen
	waitFor(t, b, "nothing forwarded", func(st client.State) bool { return len(st.Forwarded) == 0 })
	time.Sleep(300 * time.Millisecond) // packets already on their way
	before := b.State().Received[keyOf(a.ID, camera)].Packets
	time.Sleep(time.Second)
	st := b.State()
	if got := st.Received[keyOf(a.ID, camera)].Packets; got != before {
		t.Errorf("a paused video still sent %d packets in a second", got-before)
	}
	if !receives(st, a.ID, mic, 40) {
		t.Errorf("audio stopped with the video: %s", describe(st.Received))
	}

	showCameras(t, b, 180, 0, a.ID)
	waitFor(t, b, "A's camera again", func(st client.State) bool {
		r := st.Received[keyOf(a.ID, camera)]
		return r.Packets > before+20
	})
	r := b.State().Received[keyOf(a.ID, camera)]
	if r.Lost != 0 || r.PictureIDJumps != 0 || r.BadFrames != 0 {
		t.Errorf("after the pause: lost %d, picture id jumps %d, bad frames %d", r.Lost, r.PictureIDJumps, r.BadFrames)
	}
}

// With last-N, the videos sent follow whoever spoke last, and everyone
// learns the dominant speaker.
func TestLastNFollowsTheSpeaker(t *testing.T) {
	srv := startServer(t)
	var pubs []*client.Client
	for _, name := range []string{"A", "B", "C"} {
		c := joinSimulcast(t, srv, "lastn", name)
		publish(t, c, camera, mic)
		pubs = append(pubs, c)
	}
	d := join(t, srv, "lastn", "D")
	a, b, c := pubs[0], pubs[1], pubs[2]
	showCameras(t, d, 180, 1, a.ID, b.ID, c.ID)
	for _, speaker := range []*client.Client{c, b, c} {
		for _, p := range pubs {
			p.SetLoudness(client.Silent)
		}
		speaker.SetLoudness(client.Loud)
		waitFor(t, d, speaker.ID+" dominant and the only video", func(st client.State) bool {
			return st.Dominant == speaker.ID && len(st.Forwarded) == 1 && st.Forwarded[0].Participant == speaker.ID &&
				onLayer(st, speaker.ID, 0, 5)
		})
	}
	// Without the limit, all three come back.
	showCameras(t, d, 180, 0, a.ID, b.ID, c.ID)
	waitFor(t, d, "all three videos", func(st client.State) bool { return len(st.Forwarded) == 3 })
}

// downlink is a receive-side interceptor that models a bottleneck of a
// given rate: packets beyond it wait in a queue, as at a slow home router,
// and reach the client late. The growing delay is what the client's
// congestion feedback reports; nothing is lost, so every frame can still
// be checked.
type downlink struct {
	bps atomic.Int64 // 0: unlimited

	mu   sync.Mutex
	free time.Time // when the link has sent everything queued so far
}

func (l *downlink) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &downlinkInterceptor{l: l}, nil
}

type downlinkInterceptor struct {
	interceptor.NoOp
	l *downlink
}

func (i *downlinkInterceptor) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := r.Read(b, a)
		if err == nil {
			time.Sleep(i.l.delay(n))
		}
		return n, attr, err
	})
}

// delay is how long a packet of n bytes waits behind those queued before it.
func (l *downlink) delay(n int) time.Duration {
	bps := l.bps.Load()
	if bps == 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.free = now.Add(max(l.free.Sub(now), 0)).Add(time.Duration(int64(n) * 8 * int64(time.Second) / bps))
	return l.free.Sub(now)
}

// On a link that becomes too narrow, the bandwidth estimate falls and the
// subscriber is moved to a smaller layer, again only at a keyframe.
func TestLayerFallsOnAConstrainedLink(t *testing.T) {
	srv := startServer(t)
	a := joinSimulcast(t, srv, "narrow", "A")
	link := &downlink{}
	b, err := dialOpts(t, srv, "narrow", client.Options{Name: "B", Receive: link})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, a, camera)
	showCameras(t, b, 720, 0, a.ID)
	waitFor(t, b, "the top layer", func(st client.State) bool { return onLayer(st, a.ID, 2, 10) })

	link.bps.Store(400_000) // room for the smaller layers (about 120 and 300 kbit/s), not the top one (700)
	start := time.Now()
	waitFor(t, b, "a smaller layer", func(st client.State) bool {
		l := forwardedLayer(st, a.ID)
		return l >= 0 && l < 2 && onLayer(st, a.ID, l, 0)
	})
	st := b.State()
	r := st.Received[keyOf(a.ID, camera)]
	t.Logf("moved to layer %d %.1f s after the link narrowed; estimate now %d kbit/s",
		r.Layer, time.Since(start).Seconds(), st.Quality[b.ID].BandwidthKbps)
	if r.SwitchesNotAtKeyframes != 0 || r.BadFrames != 0 || r.Lost != 0 || r.PictureIDJumps != 0 {
		t.Errorf("%d switches not at a keyframe, %d bad frames, %d lost, %d picture id jumps",
			r.SwitchesNotAtKeyframes, r.BadFrames, r.Lost, r.PictureIDJumps)
	}
}

// Everyone gets everyone's connection figures.
func TestQualityFigures(t *testing.T) {
	srv := startServer(t)
	a := joinSimulcast(t, srv, "quality", "A")
	b := join(t, srv, "quality", "B")
	publish(t, a, camera, mic)
	waitFor(t, b, "figures for both", func(st client.State) bool {
		qa, qb := st.Quality[a.ID], st.Quality[b.ID]
		return qa.SendKbps > 100 && qb.RecvKbps > 100 && qb.BandwidthKbps > 0 && qb.RTT > 0 && qa.Level == "good" && qb.Level == "good"
	})
	st := b.State()
	t.Logf("A %+v, B %+v", st.Quality[a.ID], st.Quality[b.ID])
}

// With audio last-N, a listener hears only who spoke last.
func TestAudioLastN(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Rooms.AudioLastN = 1 })
	var pubs []*client.Client
	for _, name := range []string{"A", "B", "C"} {
		c := join(t, srv, "loudest", name)
		publish(t, c, mic)
		pubs = append(pubs, c)
	}
	d := join(t, srv, "loudest", "D")
	packets := func(st client.State, c *client.Client) int {
		if r := st.Received[keyOf(c.ID, mic)]; r != nil {
			return r.Packets
		}
		return 0
	}
	for _, speaker := range []*client.Client{pubs[1], pubs[0]} {
		for _, p := range pubs {
			p.SetLoudness(client.Silent)
		}
		speaker.SetLoudness(client.Loud)
		waitFor(t, d, speaker.ID+" speaking", func(st client.State) bool {
			return len(st.Speaking) == 1 && st.Speaking[0] == speaker.ID
		})
		time.Sleep(500 * time.Millisecond) // the switch, and packets on their way
		before := d.State()
		time.Sleep(time.Second)
		after := d.State()
		for _, p := range pubs {
			got := packets(after, p) - packets(before, p)
			if p == speaker && got < 30 || p != speaker && got != 0 {
				t.Errorf("while %s speaks, %d packets of %s's microphone in a second", speaker.ID, got, p.ID)
			}
		}
	}
}
