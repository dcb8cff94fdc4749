package sfu

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack sends one Track to one subscriber. It implements
// webrtc.TrackLocal so Pion negotiates it like any local track. The
// subscriber sees one continuous stream whichever layer it forwards: layers
// change only at keyframes, and sequence numbers, timestamps and VP8 picture
// ids are rewritten so that they run on without a jump.
type DownTrack struct {
	track   *Track
	sub     *Subscriber
	binding atomic.Pointer[binding]
	sender  *webrtc.RTPSender

	sentBytes atomic.Uint64 // for the subscriber's receive rate
	rate      rateSampler

	mu      sync.Mutex
	target  int // layer wanted, -1 paused
	current int // layer being forwarded, -1 none (waiting for a keyframe)
	started bool
	// Offsets from the current layer's numbers to the subscriber's.
	seqOff   uint16
	tsOff    uint32
	picOff   uint16
	tl0Off   uint8
	startSeq uint16 // first packet of the current segment, publisher's numbering
	// The newest packet sent, subscriber's numbering.
	lastSeq uint16
	lastTs  uint32
	lastPic uint16
	lastTl0 uint8
	lastAt  int64
	hist    *[histSize]sent // what each sent sequence number was, for NACKs

	// Only readRTCP uses these, to resend.
	nackBuf     []byte
	nackPkt     rtp.Packet
	nackScratch writeScratch

	// Only the subscriber's allocation loop uses this, to pad (probe.go).
	rtxSeq uint16
}

// rewrite is how one packet is renumbered for one subscriber: its sequence
// number there, and what its timestamp, picture id and TL0PICIDX move by.
type rewrite struct {
	seq    uint16
	tsOff  uint32
	picOff uint16
	tl0Off uint8
}

// writeScratch is where a packet is renumbered on its way out. Each
// writing goroutine has its own (a layer's read loop, a DownTrack's RTCP
// loop), so the send itself holds no lock; locals would escape through the
// writer interface and allocate once per packet.
type writeScratch struct {
	hdr     rtp.Header
	ext     [2]rtp.Extension
	payload [1500]byte
}

// histSize is how many sent packets a DownTrack can map back to the layer
// cache (a power of two, at least the cache's size).
const histSize = 512

type sent struct {
	rewrite        // rewrite.seq is the number as sent
	orig    uint16 // as the layer numbered it
	layer   int8
	valid   bool
}

// binding is what negotiation decided for this subscriber: its SSRC, payload
// type and the stream to write to. Replaced as a whole, read without locks.
type binding struct {
	ssrc   uint32
	pt     uint8
	stream webrtc.TrackLocalWriter
	// The retransmission stream, if the subscriber negotiated one: it
	// carries the padding of bandwidth probes (probe.go).
	rtxSSRC uint32
	rtxPT   uint8
}

var errNoCodec = errors.New("sfu: subscriber does not support the codec")

func newDownTrack(t *Track, s *Subscriber) *DownTrack {
	return &DownTrack{track: t, sub: s, target: len(t.layers) - 1, current: -1, hist: new([histSize]sent)}
}

// Bind implements webrtc.TrackLocal.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.track.codec.MimeType) {
			b := &binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), stream: ctx.WriteStream()}
			if pt, ok := rtxPayloadType(ctx.CodecParameters(), c.PayloadType); ok && ctx.SSRCRetransmission() != 0 {
				b.rtxSSRC, b.rtxPT = uint32(ctx.SSRCRetransmission()), pt
			}
			d.binding.Store(b)
			// A new subscriber needs a keyframe to show anything.
			d.requestKeyframe()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, errNoCodec
}

// rtxPayloadType is the payload type of the retransmissions of pt, if
// negotiated.
func rtxPayloadType(codecs []webrtc.RTPCodecParameters, pt webrtc.PayloadType) (uint8, bool) {
	for _, c := range codecs {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeRTX) && c.SDPFmtpLine == fmt.Sprintf("apt=%d", pt) {
			return uint8(c.PayloadType), true
		}
	}
	return 0, false
}

// Unbind implements webrtc.TrackLocal.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.binding.Store(nil)
	return nil
}

// ID implements webrtc.TrackLocal.
func (d *DownTrack) ID() string { return d.track.id }

// RID implements webrtc.TrackLocal.
func (d *DownTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: one stream per publisher, so the
// browser can lip-sync a participant's audio and video.
func (d *DownTrack) StreamID() string { return d.track.publisher }

// Kind implements webrtc.TrackLocal.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.track.kind }

// Layer is the layer being forwarded now, -1 for none.
func (d *DownTrack) Layer() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current
}

// SetLayer sets the layer to forward (clamped to the track's), or pauses
// with -1. A change takes effect at the target layer's next keyframe, which
// is requested at once.
func (d *DownTrack) SetLayer(target int) {
	target = min(target, len(d.track.layers)-1)
	d.mu.Lock()
	if d.target == target {
		d.mu.Unlock()
		return
	}
	d.target = target
	if target < 0 {
		d.current = -1
	}
	d.mu.Unlock()
	if target >= 0 {
		d.track.requestKeyframe(d.track.layers[target])
	}
}

// restart makes the next packet start a new segment (after a pause of the
// whole track), so the numbering runs on without a gap.
func (d *DownTrack) restart() {
	d.mu.Lock()
	d.current = -1
	d.mu.Unlock()
}

func (d *DownTrack) requestKeyframe() {
	d.mu.Lock()
	target := d.target
	d.mu.Unlock()
	if target >= 0 {
		d.track.requestKeyframe(d.track.layers[target])
	}
}

// write sends pkt, from layer info.layer, if this subscriber forwards that
// layer, and reports whether it went out. sc is the calling read loop's.
func (d *DownTrack) write(pkt *rtp.Packet, info *packetInfo, now int64, sc *writeScratch) bool {
	b := d.binding.Load()
	if b == nil {
		return false
	}
	rw, ok, askKeyframe := d.place(pkt, info, now)
	if askKeyframe {
		d.track.requestKeyframe(d.track.layers[info.layer])
	}
	return ok && d.send(b, pkt, info, rw, sc)
}

// place decides whether pkt goes to this subscriber and with which
// numbers, and keeps the state for the next packet and for NACKs.
// askKeyframe: nothing shows until the target layer's keyframe.
func (d *DownTrack) place(pkt *rtp.Packet, info *packetInfo, now int64) (rw rewrite, ok, askKeyframe bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// Checked under mu: a packet racing SetPaused(true) must not undo restart.
	if d.target < 0 || d.track.paused.Load() {
		return rw, false, false
	}
	if info.layer != d.current {
		if info.layer != d.target {
			return rw, false, false
		}
		if !info.keyframe {
			return rw, false, d.current < 0
		}
		d.startSegment(pkt, info, now)
	} else if int16(pkt.SequenceNumber-d.startSeq) < 0 {
		return rw, false, false // from before the switch
	}
	if len(pkt.Payload) == 0 {
		// Padding only (bandwidth probes): not forwarded. When in order,
		// the next packet takes its number, so the subscriber sees no gap.
		if pkt.SequenceNumber+d.seqOff == d.lastSeq+1 {
			d.seqOff--
		}
		return rw, false, false
	}
	rw = rewrite{seq: pkt.SequenceNumber + d.seqOff, tsOff: d.tsOff, picOff: d.picOff, tl0Off: d.tl0Off}
	d.hist[rw.seq%histSize] = sent{rewrite: rw, orig: pkt.SequenceNumber, layer: int8(info.layer), valid: true}
	if !d.started || int16(rw.seq-d.lastSeq) > 0 {
		d.started = true
		d.lastSeq, d.lastTs, d.lastAt = rw.seq, pkt.Timestamp+d.tsOff, now
		if info.isVP8 && info.vp8.picIdx >= 0 {
			d.lastPic = info.vp8.picID(pkt.Payload) + d.picOff
		}
		if info.isVP8 && info.vp8.tl0Idx >= 0 {
			d.lastTl0 = pkt.Payload[info.vp8.tl0Idx] + d.tl0Off
		}
	}
	return rw, true, false
}

// startSegment makes pkt, the first packet of a keyframe on the target
// layer, continue the numbering of what was sent before.
func (d *DownTrack) startSegment(pkt *rtp.Packet, info *packetInfo, now int64) {
	if d.started {
		d.seqOff = d.lastSeq + 1 - pkt.SequenceNumber
		// The time that passed, at least 1 ms: the old layer's last frame
		// may show the same moment, and two frames must not share a
		// timestamp.
		gap := uint32((now - d.lastAt) * int64(d.track.codec.ClockRate) / int64(time.Second))
		d.tsOff = d.lastTs + max(gap, d.track.codec.ClockRate/1000) - pkt.Timestamp
		if info.isVP8 && info.vp8.picIdx >= 0 {
			d.picOff = d.lastPic + 1 - info.vp8.picID(pkt.Payload)
		}
		if info.isVP8 && info.vp8.tl0Idx >= 0 {
			d.tl0Off = d.lastTl0 + 1 - pkt.Payload[info.vp8.tl0Idx]
		}
	}
	d.current = info.layer
	d.startSeq = pkt.SequenceNumber
}

// send writes pkt renumbered by rw for this subscriber. Header extensions
// are dropped: their ids were negotiated with the publisher, and the
// subscriber's interceptors add their own.
func (d *DownTrack) send(b *binding, pkt *rtp.Packet, info *packetInfo, rw rewrite, sc *writeScratch) bool {
	sc.hdr = pkt.Header
	sc.hdr.SSRC = b.ssrc
	sc.hdr.PayloadType = b.pt
	sc.hdr.SequenceNumber = rw.seq
	sc.hdr.Timestamp = pkt.Timestamp + rw.tsOff
	sc.hdr.Padding, sc.hdr.PaddingSize = false, 0
	sc.hdr.Extension = false
	sc.hdr.Extensions = sc.ext[:0]
	payload := pkt.Payload
	if info.isVP8 && (rw.picOff != 0 && info.vp8.picIdx >= 0 || rw.tl0Off != 0 && info.vp8.tl0Idx >= 0) {
		payload = sc.payload[:copy(sc.payload[:], payload)]
		if info.vp8.picIdx >= 0 {
			info.vp8.setPicID(payload, info.vp8.picID(payload)+rw.picOff)
		}
		if info.vp8.tl0Idx >= 0 {
			payload[info.vp8.tl0Idx] += rw.tl0Off
		}
	}
	// A write error means the subscriber is going away; it is removed elsewhere.
	_, err := b.stream.WriteRTP(&sc.hdr, payload)
	if err == nil {
		d.sentBytes.Add(uint64(len(payload) + 12))
	}
	return err == nil
}

// resend answers a NACK from the layer cache; only readRTCP calls it.
func (d *DownTrack) resend(seqs []uint16) {
	b := d.binding.Load()
	if b == nil {
		return
	}
	for _, seq := range seqs {
		d.mu.Lock()
		s := d.hist[seq%histSize]
		d.mu.Unlock()
		if !s.valid || s.seq != seq || int(s.layer) < 0 || int(s.layer) >= len(d.track.layers) {
			continue
		}
		d.nackBuf = d.track.layers[s.layer].cache.get(s.orig, d.nackBuf[:0])
		if d.nackBuf == nil || d.nackPkt.Unmarshal(d.nackBuf) != nil {
			continue
		}
		info := packetInfo{layer: int(s.layer)}
		if d.track.codec.MimeType == webrtc.MimeTypeVP8 {
			info.vp8, info.isVP8 = parseVP8(d.nackPkt.Payload)
		}
		d.track.stats.Retransmitted.Add(1)
		d.send(b, &d.nackPkt, &info, s.rewrite, &d.nackScratch)
	}
}

// readRTCP handles the subscriber's feedback until the sender stops:
// keyframe requests go to the publisher, NACKs are answered from the cache.
func (d *DownTrack) readRTCP() {
	buf := make([]byte, 1500)
	var seqs []uint16
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.requestKeyframe()
			case *rtcp.TransportLayerNack:
				seqs = seqs[:0]
				for _, pair := range p.Nacks {
					pair.Range(func(s uint16) bool { seqs = append(seqs, s); return true })
				}
				d.resend(seqs)
			case *rtcp.ReceiverReport:
				d.sub.observeReports(p.Reports)
			}
		}
	}
}
