package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// short makes p short of a step for probeAfter, so the next update may
// start a probe.
func short(p *prober, now time.Time, estimate, used, step int64) time.Time {
	p.update(now, estimate, used, step)
	return now.Add(probeAfter)
}

// A subscriber held below the layer its most important video wants probes
// for that step, once short of it for a while, and stops once the
// estimate is there.
func TestProbeReachesTheNextStep(t *testing.T) {
	var p prober
	now := time.Unix(1000, 0)
	if r := p.update(now, 2_000_000, 900_000, 0); r != 0 {
		t.Fatalf("probes at %d bits/s with nothing wanted", r)
	}
	if r := p.update(now, 2_000_000, 900_000, 500_000); r != 0 {
		t.Fatalf("probes at %d bits/s with the estimate above the step", r)
	}
	// The estimate (250k) is below the step (150k + 600k).
	if r := p.update(now, 250_000, 150_000, 600_000); r != 0 {
		t.Fatal("probed at once, before the estimate had a moment to settle")
	}
	now = now.Add(probeAfter)
	if r := p.update(now, 250_000, 150_000, 600_000); r != 600_000 {
		t.Fatalf("padding %d bits/s, want the step, 600000", r)
	}
	now = now.Add(5 * time.Second)
	if r := p.update(now, 600_000, 150_000, 600_000); r != 600_000 {
		t.Fatalf("stopped at %d bits/s while the estimate rises", r)
	}
	now = now.Add(5 * time.Second)
	if r := p.update(now, 760_000, 150_000, 600_000); r != 0 {
		t.Fatalf("still padding (%d bits/s) once the estimate arrived", r)
	}
	// A further step waits until the raised layer flows, and is short a while.
	now = now.Add(time.Second)
	if r := p.update(now, 760_000, 750_000, 500_000); r != 0 {
		t.Fatal("probed again before the raised layer flowed")
	}
	now = now.Add(probeAfter)
	if r := p.update(now, 760_000, 750_000, 500_000); r != 500_000 {
		t.Fatalf("second probe pads %d bits/s, want 500000", r)
	}
}

// A probe that makes the estimate fall gives up, and each failure waits
// longer before the next, up to a minute.
func TestProbeBacksOff(t *testing.T) {
	var p prober
	now := short(&p, time.Unix(1000, 0), 400_000, 300_000, 700_000)
	var waits []time.Duration
	for range 6 {
		if p.update(now, 400_000, 300_000, 700_000) == 0 {
			t.Fatal("no probe")
		}
		now = now.Add(time.Second)
		if r := p.update(now, 250_000, 300_000, 700_000); r != 0 {
			t.Fatalf("still padding %d bits/s with the estimate falling", r)
		}
		failed := now
		for p.update(now, 400_000, 300_000, 700_000) == 0 {
			now = now.Add(100 * time.Millisecond)
		}
		waits = append(waits, now.Sub(failed).Round(time.Second))
	}
	want := []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits between probes %v, want %v", waits, want)
		}
	}
}

// A probe whose estimate neither arrives nor falls ends after probeFor.
func TestProbeEnds(t *testing.T) {
	var p prober
	now := short(&p, time.Unix(1000, 0), 400_000, 300_000, 700_000)
	p.update(now, 400_000, 300_000, 700_000)
	if p.update(now.Add(probeFor-time.Millisecond), 420_000, 300_000, 700_000) == 0 {
		t.Fatal("ended early")
	}
	if p.update(now.Add(probeFor), 420_000, 300_000, 700_000) != 0 {
		t.Fatal("did not end after probeFor")
	}
}

// Padding is bounded both ways.
func TestProbeRateBounds(t *testing.T) {
	var p prober
	now := short(&p, time.Unix(1, 0), 100_000, 100_000, 50_000_000)
	if r := p.update(now, 100_000, 100_000, 50_000_000); r != maxProbeRate {
		t.Errorf("padding %d bits/s, want at most %d", r, maxProbeRate)
	}
	p = prober{}
	now = short(&p, time.Unix(1, 0), 100_000, 95_000, 10_000)
	if r := p.update(now, 100_000, 95_000, 10_000); r != minProbeRate {
		t.Errorf("padding %d bits/s, want %d", r, minProbeRate)
	}
}

func TestShortfall(t *testing.T) {
	items := []allocItem{
		{rates: []int64{150, 500, 1500}, desired: 2}, // at its layer
		{rates: []int64{150, 500, 0}, desired: 2},    // top not sent: 500 is the best it has
		{rates: []int64{150, 500, 1500}, desired: 1}, // below: but not the first
		{rates: []int64{0, 0, 0}, desired: 2},        // nothing sent
	}
	used, step := shortfall(items, []int{2, 0, 0, -1})
	if used != 1500+150+150 || step != 500-150 {
		t.Errorf("used %d step %d, want 1800 and 350", used, step)
	}
	if _, step := shortfall(items[:1], []int{2}); step != 0 {
		t.Errorf("step %d with every video at its layer", step)
	}
}

// wire passes what a DownTrack writes through paddingInterceptor, as the
// subscriber's connection does, into out.
type wire struct{ w interceptor.RTPWriter }

func (w wire) WriteRTP(h *rtp.Header, payload []byte) (int, error) { return w.w.Write(h, payload, nil) }
func (w wire) Write(b []byte) (int, error)                         { return len(b), nil }

func onWire(out *capture) wire {
	info := &interceptor.StreamInfo{SSRC: 7, SSRCRetransmission: 8, PayloadTypeRetransmission: 97}
	return wire{(&paddingInterceptor{}).BindLocalStream(info, interceptor.RTPWriterFunc(
		func(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
			return out.WriteRTP(h, payload)
		}))}
}

// Padding goes out on the retransmission stream, numbered on its own,
// with the timestamp of the last video packet: the video's numbering runs
// on untouched. The estimator, before paddingInterceptor, sees the bytes
// as payload.
func TestPadOnTheRetransmissionStream(t *testing.T) {
	tr := testTrack(1)
	out := &capture{}
	d := newDownTrack(tr, nil)
	d.binding.Store(&binding{ssrc: 7, pt: 96, stream: onWire(out)})
	d.SetLayer(0)
	var sc writeScratch
	if n := d.pad(3, &sc.hdr); n != 0 {
		t.Fatalf("padded %d packets without an RTX stream", n)
	}
	d.binding.Store(&binding{ssrc: 7, pt: 96, stream: onWire(out), rtxSSRC: 8, rtxPT: 97})
	if n := d.pad(3, &sc.hdr); n != 0 {
		t.Fatalf("padded %d packets before any video went out", n)
	}
	now := int64(1e12)
	feed(tr, d, 0, vp8Packet(100, 5000, 1, true, true), now)
	if n := d.pad(3, &sc.hdr); n != 3 {
		t.Fatalf("padded %d packets, want 3", n)
	}
	feed(tr, d, 0, vp8Packet(101, 8000, 2, true, false), now)
	if len(out.sent) != 5 {
		t.Fatalf("sent %d packets, want 5", len(out.sent))
	}
	if out.sent[4].SequenceNumber != out.sent[0].SequenceNumber+1 {
		t.Errorf("video numbering jumped: %d after %d", out.sent[4].SequenceNumber, out.sent[0].SequenceNumber)
	}
	for _, i := range []int{0, 4} {
		if p := out.sent[i]; p.SSRC != 7 || p.PayloadType != 96 || p.Padding || len(p.Payload) == 0 {
			t.Errorf("packet %d: ssrc %d pt %d padding %v", i, p.SSRC, p.PayloadType, p.Padding)
		}
	}
	for i, p := range out.sent[1:4] {
		if p.SSRC != 8 || p.PayloadType != 97 || !p.Padding || p.Header.PaddingSize != padSize || len(p.Payload) != 0 {
			t.Errorf("padding %d: ssrc %d pt %d padding %v size %d payload %d", i, p.SSRC, p.PayloadType, p.Padding, p.Header.PaddingSize, len(p.Payload))
		}
		if p.Timestamp != out.sent[0].Timestamp {
			t.Errorf("padding %d: timestamp %d, want the last video packet's %d", i, p.Timestamp, out.sent[0].Timestamp)
		}
		if i > 0 && p.SequenceNumber != out.sent[i].SequenceNumber+1 {
			t.Errorf("padding %d: seq %d after %d", i, p.SequenceNumber, out.sent[i].SequenceNumber)
		}
	}
	// What reaches the browser is a padding-only packet of 255 bytes.
	raw, err := out.sent[1].Marshal()
	if err != nil || len(raw) != 12+padSize || raw[0]&0x20 == 0 || raw[len(raw)-1] != padSize {
		t.Errorf("padding packet on the wire: %d bytes, err %v", len(raw), err)
	}
}

// The padder sends what the rate allows over time, in whole packets.
func TestPadderRate(t *testing.T) {
	tr := testTrack(1)
	out := &capture{}
	d := newDownTrack(tr, nil)
	d.binding.Store(&binding{ssrc: 7, pt: 96, stream: onWire(out), rtxSSRC: 8, rtxPT: 97})
	d.SetLayer(0)
	feed(tr, d, 0, vp8Packet(100, 5000, 1, true, true), 1e12)
	var p padder
	now := time.Unix(1000, 0)
	for range 50 { // one second
		p.send(d, 1_000_000, now)
		now = now.Add(padEvery)
	}
	bits := (len(out.sent) - 1) * (12 + padSize) * 8
	if bits < 900_000 || bits > 1_000_000 {
		t.Errorf("padded %d bits in a second at 1 Mbit/s", bits)
	}
}
