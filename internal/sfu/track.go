package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// keyframeInterval throttles keyframe requests to a publisher: every PLI makes
// the encoder spend a burst of bits, and many subscribers asking at once need
// only one.
const keyframeInterval = 300 * time.Millisecond

// Track is one published track (an "up track"): it reads RTP from the
// publisher and writes each packet to every subscriber's DownTrack.
type Track struct {
	id        string
	publisher string
	source    string
	kind      webrtc.RTPCodecType
	codec     webrtc.RTPCodecCapability
	remote    *webrtc.TrackRemote
	pc        *webrtc.PeerConnection // the publisher's, for keyframe requests
	levelExt  uint8                  // RFC 6464 extension id, 0 if not negotiated
	stats     *Stats

	// downs is copy-on-write: the read loop loads it once per packet without
	// a lock; subscribe/unsubscribe replace it under mu.
	downs  atomic.Pointer[[]*DownTrack]
	mu     sync.Mutex
	closed bool

	paused          atomic.Bool  // not forwarded (muted by the room)
	lastKeyframeReq atomic.Int64 // unix nanos
	level           atomic.Int32 // smoothed audio level, 0 (silence) .. 127 (loud), <<8 fixed point
}

// Source is "microphone", "camera", "screen" or "screen-audio".
func (t *Track) Source() string { return t.source }

// Kind is audio or video.
func (t *Track) Kind() webrtc.RTPCodecType { return t.kind }

// AudioLevel is the recent loudness, 0 (silence) to 127 (loudest), from the
// RFC 6464 header extension; 0 for video or when the extension is missing.
func (t *Track) AudioLevel() int { return int(t.level.Load() >> 8) }

// SetPaused stops or resumes forwarding. The room pauses the tracks of a
// muted participant, so muting holds whatever that participant's client
// does. Resumed video starts with a keyframe.
func (t *Track) SetPaused(paused bool) {
	if t.paused.Swap(paused) && !paused {
		t.RequestKeyframe()
	}
}

// RequestKeyframe asks the publisher for a keyframe, at most once per
// keyframeInterval.
func (t *Track) RequestKeyframe() {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := t.lastKeyframeReq.Load()
	if now-last < int64(keyframeInterval) || !t.lastKeyframeReq.CompareAndSwap(last, now) {
		return
	}
	// An error means the publisher is going away; its track ends by itself.
	_ = t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
}

// subscribe adds d to the fan-out; false if the track has already ended.
func (t *Track) subscribe(d *DownTrack) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	old := t.loadDowns()
	next := make([]*DownTrack, 0, len(old)+1)
	next = append(append(next, old...), d)
	t.downs.Store(&next)
	return true
}

func (t *Track) unsubscribe(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.loadDowns()
	next := make([]*DownTrack, 0, len(old))
	for _, o := range old {
		if o != d {
			next = append(next, o)
		}
	}
	t.downs.Store(&next)
}

func (t *Track) loadDowns() []*DownTrack {
	if p := t.downs.Load(); p != nil {
		return *p
	}
	return nil
}

// run forwards packets until the publisher's track ends, then removes the
// track from every subscriber.
func (t *Track) run(onEnd func(*Track)) {
	defer t.end(onEnd)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		t.forward(&pkt)
	}
}

// forward is the hot path: one packet to every subscriber, no allocation.
func (t *Track) forward(pkt *rtp.Packet) {
	t.stats.Received.Add(1)
	if t.levelExt != 0 {
		t.observeLevel(pkt)
	}
	if t.paused.Load() {
		return
	}
	var sent uint64
	for _, d := range t.loadDowns() {
		if d.write(pkt) {
			sent++
		}
	}
	if sent > 0 {
		t.stats.Forwarded.Add(sent)
	}
}

func (t *Track) observeLevel(pkt *rtp.Packet) {
	ext := pkt.GetExtension(t.levelExt)
	if len(ext) == 0 {
		return
	}
	// The extension carries -dBov in 7 bits (0 loudest, 127 silent); an
	// exponential average over ~15 packets (300 ms) smooths syllables.
	loud := int32(127-ext[0]&0x7f) << 8
	old := t.level.Load()
	t.level.Store(old + (loud-old)/15)
}

func (t *Track) end(onEnd func(*Track)) {
	t.mu.Lock()
	t.closed = true
	downs := t.loadDowns()
	t.downs.Store(nil)
	t.mu.Unlock()
	for _, d := range downs {
		d.sub.removeDown(d)
	}
	if onEnd != nil {
		onEnd(t)
	}
}
