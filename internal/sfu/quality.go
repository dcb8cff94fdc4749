package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// linkStats is what a subscriber's receiver reports say about the path to
// it: the latest round trip and loss.
type linkStats struct {
	mu   sync.Mutex
	rtt  time.Duration
	loss float64 // 0..1
	at   time.Time
}

// observeReports takes the report blocks of a receiver report about what
// this subscriber receives.
func (s *Subscriber) observeReports(reports []rtcp.ReceptionReport) {
	now := time.Now()
	for _, r := range reports {
		s.link.mu.Lock()
		s.link.loss = float64(r.FractionLost) / 256
		if r.LastSenderReport != 0 {
			// RFC 3550 6.4.1: in 1/65536 s, the middle 32 bits of NTP time.
			rtt := ntpMiddle(now) - r.LastSenderReport - r.Delay
			if d := time.Duration(rtt) * time.Second / 65536; d >= 0 && d < 10*time.Second {
				s.link.rtt = d
			}
		}
		s.link.at = now
		s.link.mu.Unlock()
	}
}

func ntpMiddle(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, in seconds
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return uint32(secs<<16 | frac>>16)
}

// LinkQuality is what the server measures of one direction of a media
// connection.
type LinkQuality struct {
	Bitrate   int64         // bits/s
	Loss      float64       // 0..1
	RTT       time.Duration // 0 if not known
	Bandwidth int           // estimate, bits/s; 0 if not known
}

// Quality is the link to this subscriber: what it is sent, the loss and
// round trip it reports, and the bandwidth estimate.
func (s *Subscriber) Quality() LinkQuality {
	var q LinkQuality
	s.mu.Lock()
	for _, d := range s.downs {
		q.Bitrate += d.rate.sample(int64(d.sentBytes.Load()))
	}
	s.mu.Unlock()
	s.link.mu.Lock()
	if time.Since(s.link.at) < 10*time.Second {
		q.Loss, q.RTT = s.link.loss, s.link.rtt
	}
	s.link.mu.Unlock()
	q.Bandwidth = s.bwe.GetTargetBitrate()
	return q
}

// Quality is the link from this publisher: what it sends and the share of
// packets lost on the way.
func (p *Publisher) Quality() LinkQuality {
	var q LinkQuality
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tracks {
		if t.ended() {
			continue
		}
		q.Bitrate += t.Bitrate()
		for _, l := range t.layers {
			q.Loss = max(q.Loss, float64(l.lossPermille.Load())/1000)
		}
	}
	return q
}

// rateSampler turns a growing byte counter into bits/s between calls.
type rateSampler struct {
	mu    sync.Mutex
	bytes int64
	at    time.Time
	rate  int64
}

func (r *rateSampler) sample(total int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if el := now.Sub(r.at); !r.at.IsZero() && el >= 500*time.Millisecond {
		r.rate = (total - r.bytes) * 8 * int64(time.Second) / int64(el)
	}
	if r.at.IsZero() || now.Sub(r.at) >= 500*time.Millisecond {
		r.bytes, r.at = total, now
	}
	return r.rate
}
