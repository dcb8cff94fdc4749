package client

import (
	"testing"
	"time"
)

func TestTrackStatsLossAndFreezes(t *testing.T) {
	var s TrackStats
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// 65533, 65534, (65535 lost), 0, 1 across the wrap; then a 700 ms gap.
	s.observe(65533, at(0))
	s.observe(65534, at(20))
	s.observe(0, at(60))
	s.observe(1, at(80))
	s.observe(2, at(780))
	s.observe(1, at(790)) // late duplicate: no effect on the highest
	if s.Packets != 6 || s.Lost != 0 || s.Late != 1 {
		t.Errorf("packets %d lost %d late %d", s.Packets, s.Lost, s.Late)
	}
	s.observe(10, at(800)) // 3..9 missing
	if s.Lost != 7 {       // 14 expected (65533..10), 7 received
		t.Errorf("lost %d, want 7", s.Lost)
	}
	if s.Freezes != 1 || s.MaxGap != 700*time.Millisecond {
		t.Errorf("freezes %d max gap %v", s.Freezes, s.MaxGap)
	}
	s.observe(5, at(820)) // a retransmission fills one hole
	if s.Lost != 6 || s.Late != 2 {
		t.Errorf("after a repair: lost %d late %d, want 6 and 2", s.Lost, s.Late)
	}
}

func TestTrackStatsFrameGaps(t *testing.T) {
	var s TrackStats
	t0 := time.Unix(0, 0)
	for _, ms := range []int{0, 67, 133, 733, 733, 800} { // a 600 ms stall, then two frames at once
		s.frameArrived(t0.Add(time.Duration(ms) * time.Millisecond))
	}
	if s.FrameFreezes != 1 || s.MaxFrameGap != 600*time.Millisecond {
		t.Errorf("frame freezes %d, max gap %v", s.FrameFreezes, s.MaxFrameGap)
	}
}
