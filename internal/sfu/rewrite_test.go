package sfu

import (
	"slices"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// capture is a subscriber's stream that keeps what is written to it.
type capture struct{ sent []rtp.Packet }

func (c *capture) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	hdr := *h
	hdr.Extensions = nil
	c.sent = append(c.sent, rtp.Packet{Header: hdr, Payload: append([]byte(nil), payload...)})
	return len(payload), nil
}

func (c *capture) Write(b []byte) (int, error) { return len(b), nil }

// testTrack is a VP8 track with n layers and no publisher behind it.
func testTrack(n int) *Track {
	t := &Track{kind: webrtc.RTPCodecTypeVideo, codec: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		stats: &Stats{}}
	for i := range n {
		t.layers = append(t.layers, &layer{index: i, cache: &packetCache{}})
	}
	return t
}

// vp8Packet is one packet of a frame with a 15-bit picture id; start marks
// a frame's first packet, key a keyframe.
func vp8Packet(seq uint16, ts uint32, pic uint16, start, key bool) *rtp.Packet {
	b0 := byte(0x80)
	if start {
		b0 |= 0x10
	}
	tag := byte(0x01)
	if key {
		tag = 0x00
	}
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts},
		Payload: []byte{b0, 0x80, 0x80 | byte(pic>>8), byte(pic), tag, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xb4, 0x00}}
}

// feed passes pkt to d as the track would, from layer l.
func feed(t *Track, d *DownTrack, l int, pkt *rtp.Packet, now int64) bool {
	raw, _ := pkt.Marshal()
	t.layers[l].cache.put(pkt.SequenceNumber, raw)
	desc, _ := parseVP8(pkt.Payload)
	return d.write(pkt, &packetInfo{layer: l, keyframe: desc.keyframe, vp8: desc, isVP8: true}, now, &t.layers[l].scratch)
}

// Switching layers waits for the target's keyframe, and the subscriber
// sees sequence numbers, timestamps and picture ids run on without a jump.
func TestSwitchKeepsTheStreamContinuous(t *testing.T) {
	tr := testTrack(2)
	out := &capture{}
	d := newDownTrack(tr, nil)
	d.binding.Store(&binding{ssrc: 7, pt: 96, stream: out})
	d.SetLayer(0)

	const frame = int64(66_666_667) // ns at 15 fps
	now := int64(1e12)
	// Layer 0 numbers from 100, layer 1 from 40000; both send the same
	// frames, one packet each.
	for i := range 10 {
		key := i == 0 || i == 6
		feed(tr, d, 0, vp8Packet(uint16(100+i), uint32(1000+i*6000), uint16(10+i), true, key), now)
		feed(tr, d, 1, vp8Packet(uint16(40000+i), uint32(9000+i*6000), uint16(500+i), true, key), now)
		if i == 2 {
			d.SetLayer(1) // takes effect at the keyframe of frame 6
		}
		now += frame
	}
	// Frames 0-6 of layer 0, then frames 6-9 of layer 1: frame 6 of the
	// old layer had gone out before the new layer's keyframe came.
	if len(out.sent) != 11 {
		t.Fatalf("sent %d packets, want 11", len(out.sent))
	}
	for i, p := range out.sent {
		if p.SSRC != 7 || p.PayloadType != 96 {
			t.Errorf("packet %d: ssrc %d pt %d", i, p.SSRC, p.PayloadType)
		}
		if i == 0 {
			continue
		}
		prev := out.sent[i-1]
		desc, _ := parseVP8(p.Payload)
		pdesc, _ := parseVP8(prev.Payload)
		if p.SequenceNumber != prev.SequenceNumber+1 || desc.picID(p.Payload) != pdesc.picID(prev.Payload)+1 {
			t.Errorf("packet %d: seq %d after %d, picture id %d after %d", i, p.SequenceNumber, prev.SequenceNumber,
				desc.picID(p.Payload), pdesc.picID(prev.Payload))
		}
		// At the switch the timestamp moves by the time that passed, at
		// least 1 ms, so two frames never share one.
		if gap := p.Timestamp - prev.Timestamp; gap < 90 || gap > 7000 {
			t.Errorf("packet %d: timestamp moved by %d", i, gap)
		}
	}
	if d.Layer() != 1 {
		t.Errorf("forwarding layer %d, want 1", d.Layer())
	}
	// The switch happened at layer 1's keyframe (frame 6).
	if first, _ := parseVP8(out.sent[7].Payload); !first.keyframe || first.picID(out.sent[7].Payload) != 17 {
		t.Error("the first packet of the new layer is not a keyframe")
	}
}

// A NACK is answered from the layer cache with the subscriber's numbers.
func TestNACKAnsweredFromTheCache(t *testing.T) {
	tr := testTrack(1)
	out := &capture{}
	d := newDownTrack(tr, nil)
	d.binding.Store(&binding{ssrc: 7, pt: 96, stream: out})
	for i := range 5 {
		feed(tr, d, 0, vp8Packet(uint16(65534+i), uint32(i*6000), uint16(i), true, i == 0), int64(i))
	}
	lost := out.sent[3]
	d.resend([]uint16{lost.SequenceNumber, 12345})
	if len(out.sent) != 6 {
		t.Fatalf("%d packets after the NACK, want 6 (one resent, an unknown one ignored)", len(out.sent))
	}
	again := out.sent[5]
	if again.SequenceNumber != lost.SequenceNumber || again.Timestamp != lost.Timestamp || string(again.Payload) != string(lost.Payload) {
		t.Errorf("resent %+v, want a copy of %+v", again.Header, lost.Header)
	}
	if tr.stats.Retransmitted.Load() != 1 {
		t.Errorf("retransmitted counter %d", tr.stats.Retransmitted.Load())
	}
}

// A paused track comes back at a keyframe with no gap in the numbers.
func TestPauseLeavesNoGap(t *testing.T) {
	tr := testTrack(1)
	out := &capture{}
	d := newDownTrack(tr, nil)
	d.binding.Store(&binding{ssrc: 7, pt: 96, stream: out})
	tr.downs.Store(&[]*DownTrack{d})
	for i := range 12 {
		switch i {
		case 3:
			tr.SetPaused(true)
		case 6:
			tr.SetPaused(false)
		}
		pkt := vp8Packet(uint16(10+i), uint32(i*6000), uint16(i), true, i%4 == 0)
		if !tr.paused.Load() {
			feed(tr, d, 0, pkt, int64(i)*66_666_667)
		}
	}
	// 0-2 sent, 3-5 paused, 6-7 wait for the keyframe at 8, then 8-11.
	if len(out.sent) != 7 {
		t.Fatalf("sent %d packets, want 7", len(out.sent))
	}
	for i := 1; i < len(out.sent); i++ {
		if out.sent[i].SequenceNumber != out.sent[i-1].SequenceNumber+1 {
			t.Errorf("sequence %d after %d", out.sent[i].SequenceNumber, out.sent[i-1].SequenceNumber)
		}
	}
}

func TestAllocate(t *testing.T) {
	three := []int64{150_000, 500_000, 1_500_000}
	cases := []struct {
		budget int64
		items  []allocItem
		want   []int
	}{
		{5_000_000, []allocItem{{three, 2}, {three, 2}}, []int{2, 2}},
		{2_200_000, []allocItem{{three, 2}, {three, 2}}, []int{2, 1}},
		{600_000, []allocItem{{three, 2}, {three, 2}}, []int{0, 0}},
		{100_000, []allocItem{{three, 2}, {three, 2}}, []int{0, 0}},     // never paused for bandwidth
		{5_000_000, []allocItem{{three, 0}, {three, 1}}, []int{0, 1}},   // no more than the size wants
		{5_000_000, []allocItem{{[]int64{0, 500_000, 0}, 2}}, []int{1}}, // only what is sent
		{5_000_000, []allocItem{{[]int64{0, 0, 0}, 2}}, []int{-1}},
	}
	for _, c := range cases {
		if got := allocate(c.budget, c.items); !slices.Equal(got, c.want) {
			t.Errorf("allocate(%d, %v) = %v, want %v", c.budget, c.items, got, c.want)
		}
	}
}

func TestDesiredLayer(t *testing.T) {
	tr := testTrack(3)
	for _, c := range []struct{ height, want int }{{0, 2}, {90, 0}, {180, 0}, {200, 0}, {220, 1}, {360, 1}, {720, 2}, {2000, 2}} {
		if got := desiredLayer(tr, c.height); got != c.want {
			t.Errorf("height %d: layer %d, want %d", c.height, got, c.want)
		}
	}
	tr.layers[0].height.Store(360) // a 640x360 camera: the smallest is 360p
	if got := desiredLayer(tr, 300); got != 0 {
		t.Errorf("with known sizes: layer %d, want 0", got)
	}
}

func TestParseVP8(t *testing.T) {
	p := vp8Packet(1, 0, 0x1234&0x7fff, true, true)
	d, ok := parseVP8(p.Payload)
	if !ok || !d.start || !d.keyframe || !d.picWide || d.picID(p.Payload) != 0x1234 {
		t.Fatalf("%+v", d)
	}
	if w, h, ok := vp8Size(p.Payload, d); !ok || w != 320 || h != 180 {
		t.Errorf("size %dx%d %v", w, h, ok)
	}
	d.setPicID(p.Payload, 0x8001) // wraps at 15 bits
	if d.picID(p.Payload) != 1 {
		t.Errorf("picture id %d after wrap", d.picID(p.Payload))
	}
	for _, bad := range [][]byte{nil, {0x80}, {0x80, 0x80}, {0x80, 0xc0, 0x80}} {
		if _, ok := parseVP8(bad); ok {
			t.Errorf("parsed %x", bad)
		}
	}
	if !h264Keyframe([]byte{0x65, 0}) || !h264Keyframe([]byte{0x7c, 0x85}) || h264Keyframe([]byte{0x41, 0}) {
		t.Error("h264 keyframe detection")
	}
}

// discard is a subscriber stream that drops what it is given.
type discard struct{}

func (discard) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, nil }
func (discard) Write(b []byte) (int, error)               { return len(b), nil }

// BenchmarkOwnPath is the forwarding path without Pion's send side: the
// layer cache, the VP8 descriptor, and one DownTrack's renumbering and
// picture id rewrite per subscriber. It must not allocate.
func BenchmarkOwnPath(b *testing.B) {
	tr := testTrack(2)
	const subs = 20
	var downs []*DownTrack
	for range subs {
		d := newDownTrack(tr, nil)
		d.binding.Store(&binding{ssrc: 7, pt: 96, stream: discard{}})
		d.SetLayer(1)
		downs = append(downs, d)
	}
	tr.downs.Store(&downs)
	l := tr.layers[1]
	key := vp8Packet(0, 0, 1, true, true)
	delta := vp8Packet(0, 0, 1, true, false)
	delta.Payload = append(delta.Payload, make([]byte, 1100)...)
	raw, _ := delta.Marshal()
	// Start every subscriber on a keyframe, then rewrite delta frames.
	keyRaw, _ := key.Marshal()
	tr.forward(l, key, keyRaw, 0)
	b.ReportAllocs()
	for i := 1; b.Loop(); i++ {
		delta.SequenceNumber = uint16(i)
		raw[2], raw[3] = byte(i>>8), byte(i)
		tr.forward(l, delta, raw, int64(i))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/subs, "ns/fwd-pkt")
}
