// Package loadtest drives synthetic participants against a Plausch server
// and measures what they receive: the numbers operators size servers by.
package loadtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/signal"
)

// Config says what load to make.
type Config struct {
	URL         string
	Meetings    int
	Publishers  int // per meeting: send camera and microphone, receive all
	Subscribers int // per meeting: receive only
	Duration    time.Duration
	// RampUp is the pause between two joins.
	RampUp time.Duration
	// Simulcast sends cameras as three layers, as browsers do.
	Simulcast bool
	// Tiles is how many videos each participant shows (a 3x3 grid for 9 on
	// a 1280x720 window), and so receives; 0 shows every video at full size.
	Tiles int
	// AudioOnly publishes microphones only.
	AudioOnly bool
	Loopback  bool
	ServerPID int       // when set, the server's CPU and memory are measured
	Progress  io.Writer // a line a second; nil for none
}

// Report is the result of a run.
type Report struct {
	Participants     int     `json:"participants"`
	Joined           int     `json:"joined"`
	StreamsExpected  int     `json:"streamsExpected"`
	StreamsReceived  int     `json:"streamsReceived"`
	ReceivedKbps     float64 `json:"receivedKbps"`
	PacketsReceived  int     `json:"packetsReceived"`
	PacketsLost      int     `json:"packetsLost"`
	LossPercent      float64 `json:"lossPercent"`
	VideoFreezes     int     `json:"videoFreezes"`
	MaxGapMs         float64 `json:"maxGapMs"`
	JoinMsMedian     float64 `json:"joinMsMedian"`
	JoinMsMax        float64 `json:"joinMsMax"`
	FirstMediaMsMax  float64 `json:"firstMediaMsMax"`
	RTTMsMedian      float64 `json:"rttMsMedian"` // server to participant, from RTCP, as the server reports it
	RTTMsMax         float64 `json:"rttMsMax"`
	ServerCPUPercent float64 `json:"serverCpuPercent,omitempty"`
	ServerRSSMiB     float64 `json:"serverRssMiB,omitempty"`
	// ServerCPUMicrosPerPacket is the server's CPU time per packet the
	// participants received: the whole server (receiving, forwarding,
	// feedback, signalling) per forwarded packet.
	ServerCPUMicrosPerPacket float64 `json:"serverCpuMicrosPerPacket,omitempty"`
	ServerRSSPerPart         float64 `json:"serverRssMiBPerParticipant,omitempty"`
	// GeneratorCPUPercent is this process's own CPU: near 100 % per core
	// it may use, the generator, not the server, is the limit.
	GeneratorCPUPercent float64 `json:"generatorCpuPercent"`
	Seconds             float64 `json:"seconds"`
}

type participant struct {
	c      *client.Client
	start  time.Time
	joined time.Duration
}

// Run makes the load for cfg.Duration after everyone has joined, and
// reports what arrived in that window.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Meetings < 1 || cfg.Publishers+cfg.Subscribers < 1 {
		return nil, fmt.Errorf("loadtest: need at least one meeting and one participant")
	}
	run := rand.Text()[:6]
	var parts []*participant
	defer func() {
		var wg sync.WaitGroup
		for _, p := range parts {
			wg.Add(1)
			go func() { defer wg.Done(); p.c.Leave() }()
		}
		wg.Wait()
	}()
	total := cfg.Meetings * (cfg.Publishers + cfg.Subscribers)
	for m := range cfg.Meetings {
		room := fmt.Sprintf("loadtest-%s-%d", run, m)
		for i := range cfg.Publishers + cfg.Subscribers {
			p, err := join(ctx, cfg, room, i < cfg.Publishers, len(parts))
			if err != nil {
				return nil, fmt.Errorf("participant %d of %d: %w", len(parts)+1, total, err)
			}
			parts = append(parts, p)
			progress(cfg.Progress, "joined %d/%d (%.0f ms)", len(parts), total, ms(p.joined))
			if cfg.RampUp > 0 {
				time.Sleep(cfg.RampUp)
			}
		}
	}
	if cfg.Tiles > 0 && !cfg.AudioOnly {
		for _, p := range parts {
			if err := showTiles(p.c, cfg.Tiles); err != nil {
				return nil, err
			}
		}
	}
	// Let media settle (keyframes, renegotiation, layers), then measure a
	// window.
	time.Sleep(3 * time.Second)
	before := snapshot(parts)
	cpu0, _ := cpuTicks(cfg.ServerPID)
	self0, _ := cpuTicks(os.Getpid())
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := before
	for time.Since(start) < cfg.Duration {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		now := snapshot(parts)
		d := now.minus(last)
		progress(cfg.Progress, "t=%2.0fs streams %d/%d  %.0f kbit/s  loss %.2f%%  freezes %d",
			time.Since(start).Seconds(), now.live(last), expected(cfg), d.kbps(time.Second), d.lossPercent(), d.freezes)
		last = now
	}
	elapsed := time.Since(start)
	after := snapshot(parts)
	cpu1, _ := cpuTicks(cfg.ServerPID)
	self1, _ := cpuTicks(os.Getpid())
	d := after.minus(before)

	r := &Report{
		Participants: total, Joined: len(parts),
		StreamsExpected: expected(cfg), StreamsReceived: after.live(before),
		ReceivedKbps: d.kbps(elapsed), PacketsReceived: d.packets, PacketsLost: d.lost,
		LossPercent: d.lossPercent(), VideoFreezes: d.freezes, MaxGapMs: ms(after.maxGap),
		Seconds: elapsed.Seconds(), GeneratorCPUPercent: float64(self1-self0) / clockTicks / elapsed.Seconds() * 100,
	}
	var joins []float64
	for _, p := range parts {
		joins = append(joins, ms(p.joined))
		if fm := firstMedia(p); fm > r.FirstMediaMsMax {
			r.FirstMediaMsMax = fm
		}
	}
	slices.Sort(joins)
	r.JoinMsMedian, r.JoinMsMax = joins[len(joins)/2], joins[len(joins)-1]
	var rtts []float64
	for _, p := range parts {
		st := p.c.State()
		if q, ok := st.Quality[st.ID]; ok {
			rtts = append(rtts, q.RTT)
		}
	}
	if len(rtts) > 0 {
		slices.Sort(rtts)
		r.RTTMsMedian, r.RTTMsMax = rtts[len(rtts)/2], rtts[len(rtts)-1]
	}
	if cfg.ServerPID > 0 {
		r.ServerCPUPercent = float64(cpu1-cpu0) / clockTicks / elapsed.Seconds() * 100
		if d.packets > 0 {
			r.ServerCPUMicrosPerPacket = float64(cpu1-cpu0) / clockTicks * 1e6 / float64(d.packets)
		}
		if rss, err := rssMiB(cfg.ServerPID); err == nil {
			r.ServerRSSMiB = rss
			r.ServerRSSPerPart = rss / float64(total)
		}
	}
	return r, nil
}

func join(ctx context.Context, cfg Config, room string, publisher bool, n int) (*participant, error) {
	p := &participant{start: time.Now()}
	jctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := client.Dial(jctx, cfg.URL, room, client.Options{
		Name: fmt.Sprintf("Load %d", n+1), Audio: publisher, Video: publisher && !cfg.AudioOnly, Loopback: cfg.Loopback,
		Simulcast: cfg.Simulcast,
	})
	if err != nil {
		return nil, err
	}
	p.c = c
	p.joined = time.Since(p.start)
	if publisher {
		sources := []string{"microphone", "camera"}
		if cfg.AudioOnly {
			sources = sources[:1]
		}
		if err := c.Publish(jctx, sources...); err != nil {
			c.Close()
			return nil, err
		}
		c.SetLoudness(client.Silent)
	}
	return p, nil
}

// showTiles sends c's view: the first n other cameras in a grid filling a
// 1280x720 window.
func showTiles(c *client.Client, n int) error {
	st := c.State()
	ids := make([]string, 0, len(st.Participants))
	for id, p := range st.Participants {
		if p.Video {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(n, len(ids))]
	cols := 1
	for cols*cols < n {
		cols++
	}
	rows := (n + cols - 1) / cols
	videos := make([]signal.ViewedVideo, len(ids))
	for i, id := range ids {
		videos[i] = signal.ViewedVideo{Participant: id, Source: signal.SourceCamera, Width: 1280 / cols, Height: 720 / rows}
	}
	return c.Send(map[string]any{"type": "view", "videos": videos, "lastN": n})
}

// expected is how many streams all participants should receive: every
// publisher's microphone, and as many cameras as each shows, from everyone
// else in the meeting.
func expected(cfg Config) int {
	videos := func(others int) int {
		switch {
		case cfg.AudioOnly:
			return 0
		case cfg.Tiles > 0:
			return min(cfg.Tiles, others)
		}
		return others
	}
	per := cfg.Publishers*(cfg.Publishers-1+videos(cfg.Publishers-1)) + cfg.Subscribers*(cfg.Publishers+videos(cfg.Publishers))
	return cfg.Meetings * per
}

func firstMedia(p *participant) float64 {
	var first time.Time
	for _, r := range p.c.State().Received {
		if !r.First.IsZero() && (first.IsZero() || r.First.Before(first)) {
			first = r.First
		}
	}
	if first.IsZero() {
		return 0
	}
	return ms(first.Sub(p.start))
}

// totals is the sum over every received stream at one moment.
type totals struct {
	streams                       map[string]int // stream -> packets, to tell which still flow
	packets, lost, bytes, freezes int
	maxGap                        time.Duration
}

func snapshot(parts []*participant) totals {
	t := totals{streams: map[string]int{}}
	for i, p := range parts {
		for k, r := range p.c.State().Received {
			t.streams[fmt.Sprintf("%d/%s/%s", i, k.Participant, k.Source)] = r.Packets
			t.packets += r.Packets
			t.lost += r.Lost
			t.bytes += r.Bytes
			if r.Kind == "video" {
				t.freezes += r.Freezes
				t.maxGap = max(t.maxGap, r.MaxGap)
			}
		}
	}
	return t
}

func (t totals) minus(o totals) totals {
	return totals{packets: t.packets - o.packets, lost: t.lost - o.lost, bytes: t.bytes - o.bytes, freezes: t.freezes - o.freezes}
}

// live counts streams that received packets since o.
func (t totals) live(o totals) int {
	n := 0
	for k, v := range t.streams {
		if v > o.streams[k] {
			n++
		}
	}
	return n
}

func (t totals) kbps(d time.Duration) float64 { return float64(t.bytes*8) / d.Seconds() / 1000 }

func (t totals) lossPercent() float64 {
	if t.packets+t.lost == 0 {
		return 0
	}
	return float64(t.lost) / float64(t.packets+t.lost) * 100
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
