package sfu

import (
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// Why probe: the congestion controller (GCC) raises its estimate to at
// most 1.5 times the rate it sees arrive. A subscriber whose estimate once
// fell (a loaded machine, a moment of congestion) is sent its videos'
// smallest layers; the next layer costs two to three times as much, more
// than 1.5 times what now flows, so the estimate can never reach it: the
// subscriber stays at thumbnails for the rest of the meeting. Browsers'
// own senders, and other SFUs, probe for that reason.
//
// A probe sends padding on top of the media until the estimate reaches
// the next step the videos on screen want (the most important one's
// layer), or gives up: when the estimate falls
// instead (the link is full), or after probeFor. A failed probe waits,
// longer after each failure, so that a link that is full is not kept full
// by probes. Padding goes out on the retransmission stream (RTX) of a video
// the subscriber receives, as browsers send theirs: its own sequence
// numbers leave the video's untouched, the browser drops it at once, and
// it counts for the transport-wide feedback that the estimate is made of.

const (
	// probeFor is how long a probe may take: GCC raises its estimate by
	// some 8 % a second, so quadrupling takes about 18 s; a probe ends as
	// soon as the estimate arrives.
	probeFor = 20 * time.Second
	// A failed probe waits probeBackoffMin before the next, doubled after
	// each further failure up to probeBackoffMax.
	probeBackoffMin = 4 * time.Second
	probeBackoffMax = time.Minute
	// probeAfter is how long the estimate must have been short before a
	// probe starts.
	probeAfter = 3 * time.Second
	// maxProbeRate bounds the padding: probing is for the steps between a
	// few layers, not for finding a link's full capacity.
	maxProbeRate = 3_000_000
	minProbeRate = 50_000
	// The estimate falling below this share of where the probe started
	// means the link is full; GCC's estimate swings by a fifth on its own
	// on a busy machine.
	probeFailShare = 0.7
	// padEvery is how often padding goes out during a probe.
	padEvery = 20 * time.Millisecond
	// padSize is the padding of one packet: the most one RTP padding
	// length byte can say.
	padSize = 255
)

// prober decides when a subscriber probes and at what rate. Only the
// subscriber's allocation loop uses it.
type prober struct {
	rate    int64 // padding now, bits/s; 0 when not probing
	need    int64 // the estimate the probe is for
	floor   int64 // the estimate the probe started from
	until   time.Time
	next    time.Time // no probe starts before
	backoff time.Duration
	short   time.Time // since when the estimate is short of a step; zero if not
}

// update is called after each allocation with the estimate (for video),
// what the chosen layers use, and what raising the most important video
// that is below the layer it wants to that layer would add (step; 0 when
// none is below). It returns the padding rate from now on.
func (p *prober) update(now time.Time, estimate, used, step int64) int64 {
	if p.rate > 0 {
		switch {
		case estimate >= p.need:
			// Arrived: the allocation raises the layer now. The next
			// probe, if more is wanted, may come once the raised layer
			// flows.
			p.rate, p.backoff = 0, 0
			p.next = now.Add(2 * time.Second)
		case float64(estimate) < probeFailShare*float64(p.floor) || !now.Before(p.until):
			p.rate = 0
			p.backoff = min(max(2*p.backoff, probeBackoffMin), probeBackoffMax)
			p.next = now.Add(p.backoff)
		}
		return p.rate
	}
	need := used + step
	if step <= 0 || need <= estimate {
		p.short = time.Time{}
		return 0
	}
	// Short of bandwidth for a while, not just at a moment (a new
	// subscriber's estimate settles first; a video just resized waits for
	// its keyframe).
	if p.short.IsZero() {
		p.short = now
	}
	if now.Sub(p.short) < probeAfter || now.Before(p.next) {
		return 0
	}
	// Padding of one step on top of the media lets the estimate reach
	// the step (GCC goes up to 1.5 times what arrives).
	p.need, p.floor, p.until = need, estimate, now.Add(probeFor)
	p.rate = min(max(step, minProbeRate), maxProbeRate)
	return p.rate
}

// shortfall is what items use at their chosen layers (used), and what
// raising the first (most important) item that is below its desired layer
// to the best layer it has up to that one would add (step).
func shortfall(items []allocItem, chosen []int) (used, step int64) {
	for i, it := range items {
		if chosen[i] < 0 {
			continue
		}
		used += it.rates[chosen[i]]
		if step > 0 {
			continue
		}
		for l := min(it.desired, len(it.rates)-1); l > chosen[i]; l-- {
			if it.rates[l] > 0 {
				step = it.rates[l] - it.rates[chosen[i]]
				break
			}
		}
	}
	return used, step
}

// pad sends n padding packets on d's retransmission stream, and reports
// how many went out: none if the subscriber negotiated no RTX or nothing
// has been sent yet. Only the subscriber's allocation loop pads, with its
// own scratch header.
func (d *DownTrack) pad(n int, hdr *rtp.Header) int {
	b := d.binding.Load()
	if b == nil || b.rtxSSRC == 0 {
		return 0
	}
	d.mu.Lock()
	started, ts := d.started, d.lastTs
	d.mu.Unlock()
	if !started {
		return 0
	}
	sent := 0
	for range n {
		d.rtxSeq++
		// As the estimator must see it (paddingInterceptor).
		*hdr = rtp.Header{Version: 2, PayloadType: b.rtxPT, SequenceNumber: d.rtxSeq, Timestamp: ts, SSRC: b.ssrc}
		if _, err := b.stream.WriteRTP(hdr, zeros[:padSize]); err != nil {
			break
		}
		sent++
	}
	return sent
}

var zeros [padSize]byte

// paddingInterceptor puts probe packets on the wire as padding. The
// estimator counts a packet's payload only, and its pacer sends only on
// the SSRCs of the videos themselves; so a probe packet passes them as a
// packet of the video's SSRC with the payload type of its retransmissions
// and zeros for payload, and this, the last interceptor before
// encryption, makes it what the browser gets: a packet of the
// retransmission stream with nothing but padding. Media never has that
// payload type (NACKs are answered on the video's own stream).
type paddingInterceptor struct{ interceptor.NoOp }

type paddingFactory struct{}

func (paddingFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &paddingInterceptor{}, nil
}

// BindLocalStream implements interceptor.Interceptor.
func (*paddingInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	ssrc, rtx, pt := info.SSRC, info.SSRCRetransmission, info.PayloadTypeRetransmission
	if rtx == 0 || pt == 0 {
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if h.PayloadType == pt && h.SSRC == ssrc && !h.Padding && len(payload) > 0 && len(payload) <= padSize {
			h.SSRC, h.Padding, h.PaddingSize = rtx, true, byte(len(payload))
			payload = nil
		}
		return w.Write(h, payload, a)
	})
}

// padder spreads a probe's padding over time: each tick sends what the
// rate allows since the last, in whole packets. Only the subscriber's
// allocation loop uses it.
type padder struct {
	last time.Time
	owed float64 // bits
	hdr  rtp.Header
}

func (p *padder) send(d *DownTrack, rate int64, now time.Time) {
	if rate <= 0 || d == nil {
		p.last, p.owed = time.Time{}, 0
		return
	}
	if !p.last.IsZero() {
		p.owed += float64(rate) * min(now.Sub(p.last), 10*padEvery).Seconds()
	}
	p.last = now
	const bits = (12 + padSize) * 8
	if n := int(p.owed / bits); n > 0 {
		p.owed -= float64(n * bits)
		d.pad(n, &p.hdr)
	}
}
