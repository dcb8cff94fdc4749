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
// publisher, one stream per simulcast layer, and writes each packet to every
// subscriber's DownTrack, which picks the layer it forwards.
type Track struct {
	id        string
	publisher string
	source    string
	kind      webrtc.RTPCodecType
	codec     webrtc.RTPCodecCapability
	pc        *webrtc.PeerConnection // the publisher's, for keyframe requests
	levelExt  uint8                  // RFC 6464 extension id, 0 if not negotiated
	stats     *Stats
	layers    []*layer // smallest first; one for a track without simulcast

	// downs is copy-on-write: the read loops load it once per packet without
	// a lock; subscribe/unsubscribe replace it under mu.
	downs   atomic.Pointer[[]*DownTrack]
	mu      sync.Mutex
	closed  bool
	running int // layer read loops still running, under mu

	paused atomic.Bool  // not forwarded (muted by the room)
	level  atomic.Int32 // smoothed audio level, 0 (silence) .. 127 (loud), <<8 fixed point
}

// layer is one simulcast encoding of a track (or its only one).
type layer struct {
	index  int
	rid    string
	remote atomic.Pointer[webrtc.TrackRemote] // nil until its first packet
	cache  *packetCache                       // NACKs are answered from here

	width, height   atomic.Int32 // from the latest keyframe, 0 until one came
	bitrate         atomic.Int64 // bits per second over the last second
	lastPacket      atomic.Int64 // unix nanos
	lastKeyframeReq atomic.Int64 // unix nanos
	lossPermille    atomic.Int32 // packets lost on the way in, last second

	// Only the layer's read loop touches these.
	scratch        writeScratch
	windowStart    int64
	windowBytes    int64
	windowPackets  int
	windowExpected int
	maxSeq         uint16
	seqStarted     bool
}

// Source is "microphone", "camera", "screen" or "screen-audio".
func (t *Track) Source() string { return t.source }

// Kind is audio or video.
func (t *Track) Kind() webrtc.RTPCodecType { return t.kind }

// Publisher is the label of the publisher that sends this track.
func (t *Track) Publisher() string { return t.publisher }

// AudioLevel is the recent loudness, 0 (silence) to 127 (loudest), from the
// RFC 6464 header extension; 0 for video or when the extension is missing.
func (t *Track) AudioLevel() int { return int(t.level.Load() >> 8) }

// Bitrate is what the publisher sends now, all layers together, in bits/s.
func (t *Track) Bitrate() int64 {
	var sum int64
	for _, l := range t.layers {
		sum += l.currentBitrate()
	}
	return sum
}

// SetPaused stops or resumes forwarding. The room pauses the tracks of a
// muted participant, so muting holds whatever that participant's client
// does. Resumed video starts with a keyframe.
func (t *Track) SetPaused(paused bool) {
	was := t.paused.Swap(paused)
	if paused && !was {
		for _, d := range t.loadDowns() {
			d.restart()
		}
	}
	if was && !paused {
		t.RequestKeyframe()
	}
}

// RequestKeyframe asks the publisher for a keyframe on every layer.
func (t *Track) RequestKeyframe() {
	for _, l := range t.layers {
		t.requestKeyframe(l)
	}
}

// requestKeyframe asks for a keyframe on one layer, at most once per
// keyframeInterval.
func (t *Track) requestKeyframe(l *layer) {
	if t.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	remote := l.remote.Load()
	if remote == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastKeyframeReq.Load()
	if now-last < int64(keyframeInterval) || !l.lastKeyframeReq.CompareAndSwap(last, now) {
		return
	}
	// An error means the publisher is going away; its track ends by itself.
	_ = t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}})
}

// currentBitrate is the layer's rate, or 0 if it has gone quiet (a browser
// stops its top layers when its uplink or CPU is short).
func (l *layer) currentBitrate() int64 {
	if time.Now().UnixNano()-l.lastPacket.Load() > int64(time.Second) {
		return 0
	}
	return l.bitrate.Load()
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

func (t *Track) ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// start attaches a layer's incoming stream; false if the track has ended
// (or that layer already runs), in which case the caller must not run it.
func (t *Track) start(l *layer, remote *webrtc.TrackRemote) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || l.remote.Load() != nil {
		return false
	}
	l.remote.Store(remote)
	t.running++
	return true
}

// run forwards one layer's packets until its stream ends. The track ends
// with its last running layer.
func (t *Track) run(l *layer, onEnd func(*Track)) {
	defer t.layerDone(onEnd)
	remote := l.remote.Load()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		t.forward(l, &pkt, buf[:n], time.Now().UnixNano())
	}
}

// packetInfo is what the read loop learns about a packet once, for all
// subscribers.
type packetInfo struct {
	layer    int
	keyframe bool // a subscriber may start (or switch to) this layer here
	vp8      vp8Desc
	isVP8    bool
}

// forward is the hot path: one packet to every subscriber, no allocation.
func (t *Track) forward(l *layer, pkt *rtp.Packet, raw []byte, now int64) {
	t.stats.Received.Add(1)
	l.lastPacket.Store(now)
	l.count(pkt.SequenceNumber, len(raw), now)
	l.cache.put(pkt.SequenceNumber, raw)
	info := packetInfo{layer: l.index, keyframe: true}
	if t.kind == webrtc.RTPCodecTypeVideo {
		info.keyframe = false
		switch t.codec.MimeType {
		case webrtc.MimeTypeVP8:
			if d, ok := parseVP8(pkt.Payload); ok {
				info.vp8, info.isVP8, info.keyframe = d, true, d.keyframe
				if w, h, ok := vp8Size(pkt.Payload, d); ok {
					l.width.Store(int32(w))
					l.height.Store(int32(h))
				}
			}
		default:
			info.keyframe = h264Keyframe(pkt.Payload)
		}
	} else if t.levelExt != 0 {
		t.observeLevel(pkt)
	}
	if t.paused.Load() {
		return
	}
	var sent uint64
	for _, d := range t.loadDowns() {
		if d.write(pkt, &info, now, &l.scratch) {
			sent++
		}
	}
	if sent > 0 {
		t.stats.Forwarded.Add(sent)
	}
}

// count keeps the layer's rate and loss (from gaps in the sequence
// numbers) over windows of a second.
func (l *layer) count(seq uint16, size int, now int64) {
	l.windowBytes += int64(size)
	l.windowPackets++
	switch diff := int16(seq - l.maxSeq); {
	case !l.seqStarted:
		l.seqStarted, l.maxSeq = true, seq
		l.windowExpected++
	case diff > 0:
		l.windowExpected += int(diff)
		l.maxSeq = seq
	}
	if d := now - l.windowStart; d >= int64(time.Second) {
		l.bitrate.Store(l.windowBytes * 8 * int64(time.Second) / d)
		lost := 0
		if l.windowExpected > l.windowPackets {
			lost = (l.windowExpected - l.windowPackets) * 1000 / l.windowExpected
		}
		l.lossPermille.Store(int32(lost))
		l.windowStart, l.windowBytes, l.windowPackets, l.windowExpected = now, 0, 0, 0
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

func (t *Track) layerDone(onEnd func(*Track)) {
	t.mu.Lock()
	t.running--
	if t.running > 0 || t.closed {
		t.mu.Unlock()
		return
	}
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
