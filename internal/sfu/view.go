package sfu

import (
	"slices"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

const videoKind = webrtc.RTPCodecTypeVideo

// allocateEvery is how often a subscriber's layers are fitted to its
// bandwidth estimate, which moves within a second or two.
const allocateEvery = 500 * time.Millisecond

// SetWants says which videos the subscriber shows, most important first,
// and at what size; its other videos are paused. Until the first call every
// video is sent at the best layer the bandwidth allows.
func (s *Subscriber) SetWants(wants []Want) {
	s.mu.Lock()
	s.wants, s.viewSet = slices.Clone(wants), true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SetPaused stops (or resumes) sending t to this subscriber; for audio,
// where there are no layers to choose.
func (s *Subscriber) SetPaused(t *Track, paused bool) {
	s.mu.Lock()
	d := s.downs[t]
	s.mu.Unlock()
	if d == nil {
		return
	}
	if paused {
		d.SetLayer(-1)
	} else {
		d.SetLayer(0)
	}
}

func (s *Subscriber) allocateLoop() {
	tick := time.NewTicker(allocateEvery)
	defer tick.Stop()
	// The padding ticker runs only while probing.
	padTick := time.NewTicker(padEvery)
	padTick.Stop()
	defer padTick.Stop()
	var pad padder
	var padRate int64
	var padOn *DownTrack
	for {
		select {
		case <-s.closing:
			return
		case <-tick.C:
		case <-s.wake:
		case now := <-padTick.C:
			pad.send(padOn, padRate, now)
			continue
		}
		was := padRate > 0
		padRate, padOn = s.allocateOnce()
		s.resendStaleOffer(time.Now())
		switch probing := padRate > 0; {
		case probing && !was:
			padTick.Reset(padEvery)
		case !probing && was:
			padTick.Stop()
			pad.send(nil, 0, time.Time{})
		}
	}
}

// allocateOnce picks every video's layer and tells the subscriber when
// that changed. It returns the padding rate of a bandwidth probe (0 when
// not probing) and the video to pad on (probe.go).
func (s *Subscriber) allocateOnce() (padRate int64, padOn *DownTrack) {
	now := time.Now().UnixNano()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, nil
	}
	budget := int64(s.bwe.GetTargetBitrate())
	var order []*DownTrack
	var items []allocItem
	for t := range s.downs {
		if t.kind != videoKind {
			budget -= t.Bitrate()
		}
	}
	if s.viewSet {
		for _, w := range s.wants {
			if d, ok := s.downs[w.Track]; ok && !slices.Contains(order, d) {
				order = append(order, d)
				items = append(items, allocItem{rates: layerRates(w.Track, now), desired: desiredLayer(w.Track, w.Height)})
			}
		}
	} else {
		for t, d := range s.downs {
			if t.kind == videoKind {
				order = append(order, d)
			}
		}
		// Screens first, then a stable order, so the same videos win.
		slices.SortFunc(order, func(a, b *DownTrack) int { return compareDefault(a.track, b.track) })
		for _, d := range order {
			items = append(items, allocItem{rates: layerRates(d.track, now), desired: len(d.track.layers) - 1})
		}
	}
	layers := allocate(budget, items)
	chosen := make(map[*DownTrack]int, len(order))
	for i, d := range order {
		chosen[d] = layers[i]
		if padOn == nil && layers[i] >= 0 {
			padOn = d
		}
	}
	used, step := shortfall(items, layers)
	padRate = s.probe.update(time.Now(), budget, used, step)
	var fwd []Forwarded
	var apply []func()
	for t, d := range s.downs {
		if t.kind != videoKind {
			continue
		}
		l, ok := chosen[d]
		if !ok {
			l = -1
		}
		apply = append(apply, func() { d.SetLayer(l) })
		if l >= 0 {
			ly := t.layers[l]
			fwd = append(fwd, Forwarded{Publisher: t.publisher, Source: t.source, Layer: l,
				Width: int(ly.width.Load()), Height: int(ly.height.Load())})
		}
	}
	slices.SortFunc(fwd, func(a, b Forwarded) int {
		if a.Publisher != b.Publisher {
			return strings.Compare(a.Publisher, b.Publisher)
		}
		return strings.Compare(a.Source, b.Source)
	})
	changed := !slices.Equal(fwd, s.forwarded)
	if changed {
		s.forwarded = fwd
	}
	s.mu.Unlock()
	for _, f := range apply {
		f()
	}
	if changed && s.params.OnForwarded != nil {
		s.params.OnForwarded(fwd)
	}
	return padRate, padOn
}

func compareDefault(a, b *Track) int {
	if (a.source == "screen") != (b.source == "screen") {
		if a.source == "screen" {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}
