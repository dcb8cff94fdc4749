package sfu

import (
	"math"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// script reads a fuzz input as a sequence of small numbers; past its end
// every number is 0.
type script []byte

func (s *script) byte() byte {
	if len(*s) == 0 {
		return 0
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return b
}

func (s *script) u16() uint16 { return uint16(s.byte())<<8 | uint16(s.byte()) }

// FuzzMediaPath drives what a publisher's packets go through, for any
// number of layers, any sizes and rates, and any sequence of packets, layer
// choices and NACKs: the read loop's forward (parsing, counting, caching),
// each DownTrack's place and rewrite and send, the allocation of layers to
// a bandwidth, and the answers to NACKs. Nothing may panic, allocation
// must pick a layer the track has, a subscriber may switch layers only at
// a keyframe, and the stream it sees runs on without a jump where a new
// segment starts. (Four layers once crashed allocation; the offer fuzzer
// could not find it, since allocation never ran there.)
func FuzzMediaPath(f *testing.F) {
	f.Add([]byte{3, 0, 2, 0, 1, 1, 1, 0, 1, 5, 1, 1, 1, 0, 1, 1, 4, 0, 200, 0, 0, 0, 100, 1, 2, 1, 3, 1, 1, 1, 5, 1, 2})
	// Four layers, a packet on the smallest, then an allocation: the crash
	// of issue 10.
	f.Add([]byte{3, 0, 0, 0, 0, 1, 1, 1, 0, 4, 0, 100, 0, 0})
	f.Add([]byte{7, 1, 3, 0, 1, 255, 9, 1, 0, 2, 3, 200, 2, 129, 4, 255, 255, 0, 0, 5, 0, 0, 6})
	f.Add([]byte{0, 2, 0, 1, 1, 1, 1, 2, 1, 0, 1, 1, 1, 5, 0, 1, 3, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		s := script(in)
		n := 1 + int(s.byte()%8) // layers, beyond MaxLayers too
		tr := testTrack(n)
		switch s.byte() % 3 {
		case 1:
			tr.codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}
		case 2:
			tr.kind, tr.codec = webrtc.RTPCodecTypeAudio, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}
			tr.levelExt = 1
		}
		for _, l := range tr.layers {
			l.remote.Store(&webrtc.TrackRemote{})
			// No publisher behind the track: keyframe requests are
			// throttled away rather than written to a connection.
			l.lastKeyframeReq.Store(math.MaxInt64)
		}
		downs := make([]*DownTrack, 1+int(s.byte()%3))
		outs := make([]*capture, len(downs))
		for i := range downs {
			outs[i] = &capture{}
			downs[i] = newDownTrack(tr, nil)
			downs[i].binding.Store(&binding{ssrc: uint32(7 + i), pt: 96, stream: outs[i]})
			if !tr.subscribe(downs[i]) {
				t.Fatal("subscribe")
			}
		}
		now := int64(1e12)
		seqs := make([]uint16, n)
		tss := make([]uint32, n)
		for len(s) > 0 {
			switch op := s.byte() % 8; op {
			case 0, 1, 2: // a packet on some layer
				l := int(s.byte()) % n
				seqs[l] += uint16(int8(s.byte()))
				tss[l] += uint32(s.byte()) * 300
				now += int64(s.byte()) * 1e6
				var pkt *rtp.Packet
				if flags := s.byte(); flags&1 != 0 {
					pkt = vp8Packet(seqs[l], tss[l], s.u16(), flags&2 != 0, flags&4 != 0)
				} else {
					pkt = &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seqs[l], Timestamp: tss[l]},
						Payload: []byte(s[:min(len(s), int(flags>>1))])}
					if tr.levelExt != 0 {
						_ = pkt.SetExtension(tr.levelExt, []byte{s.byte()})
					}
				}
				forwardChecked(t, tr, downs, outs, l, pkt, now)
			case 3: // a layer chosen for one subscriber, anything at all
				downs[int(s.byte())%len(downs)].SetLayer(int(int8(s.byte())))
			case 4: // allocation over every subscriber's want
				budget := int64(s.u16()) * 1000
				var items []allocItem
				for range downs {
					items = append(items, allocItem{rates: layerRates(tr, now), desired: desiredLayer(tr, int(s.u16()))})
					if it := items[len(items)-1]; it.desired < 0 || it.desired >= n {
						t.Fatalf("desired layer %d of %d", it.desired, n)
					}
				}
				for i, l := range allocate(budget, items) {
					if l < -1 || l >= n || l < 0 && lowestLayer(items[i].rates) >= 0 {
						t.Fatalf("allocated layer %d of %d (rates %v)", l, n, items[i].rates)
					}
					downs[i].SetLayer(l)
				}
			case 5: // a NACK
				d := downs[int(s.byte())%len(downs)]
				d.resend([]uint16{d.lastSeq - uint16(s.byte()), s.u16()})
			case 6:
				tr.SetPaused(s.byte()&1 != 0)
			case 7: // a keyframe seen on a layer, and its size
				l := tr.layers[int(s.byte())%n]
				l.height.Store(int32(s.u16()))
			}
		}
	})
}

// forwardChecked forwards pkt from layer l as the read loop does, and
// checks what each subscriber got: one packet at most, a new layer only
// from a keyframe, and a new segment that goes on from where the last one
// stopped.
func forwardChecked(t *testing.T, tr *Track, downs []*DownTrack, outs []*capture, l int, pkt *rtp.Packet, now int64) {
	t.Helper()
	type state struct {
		current, sent int
		started       bool
		lastSeq       uint16
		lastTs        uint32
	}
	before := make([]state, len(downs))
	for i, d := range downs {
		before[i] = state{d.current, len(outs[i].sent), d.started, d.lastSeq, d.lastTs}
	}
	raw, err := pkt.Marshal()
	if err != nil {
		return
	}
	var parsed rtp.Packet
	if parsed.Unmarshal(raw) != nil {
		return
	}
	tr.forward(tr.layers[l], &parsed, raw, now)
	for i, d := range downs {
		b := before[i]
		got := len(outs[i].sent) - b.sent
		if got > 1 {
			t.Fatalf("one packet went out %d times", got)
		}
		if got == 0 || b.current == l {
			continue
		}
		// A new segment: it starts at a keyframe of the layer, and its
		// numbers follow the last packet sent.
		if d.current != l {
			t.Fatalf("sent from layer %d while forwarding %d", l, d.current)
		}
		info := packetInfo{keyframe: tr.kind != webrtc.RTPCodecTypeVideo}
		switch {
		case tr.kind != webrtc.RTPCodecTypeVideo:
		case tr.codec.MimeType == webrtc.MimeTypeVP8:
			desc, ok := parseVP8(parsed.Payload)
			info.keyframe = ok && desc.keyframe
		default:
			info.keyframe = h264Keyframe(parsed.Payload)
		}
		if !info.keyframe {
			t.Fatalf("switched to layer %d (from %d) without a keyframe", l, b.current)
		}
		out := outs[i].sent[len(outs[i].sent)-1]
		if b.started && out.SequenceNumber != b.lastSeq+1 {
			t.Fatalf("a new segment starts at sequence %d after %d", out.SequenceNumber, b.lastSeq)
		}
		if b.started && int32(out.Timestamp-b.lastTs) <= 0 {
			t.Fatalf("a new segment starts at timestamp %d after %d", out.Timestamp, b.lastTs)
		}
	}
}
