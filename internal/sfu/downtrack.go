package sfu

import (
	"errors"
	"strings"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrack sends one Track to one subscriber. It implements
// webrtc.TrackLocal so Pion negotiates it like any local track.
type DownTrack struct {
	track   *Track
	sub     *Subscriber
	binding atomic.Pointer[binding]
	sender  *webrtc.RTPSender
	// hdr is scratch space for write, which only the track's read loop
	// calls; a local would escape through the writer interface and
	// allocate once per packet.
	hdr rtp.Header
}

// binding is what negotiation decided for this subscriber: its SSRC, payload
// type and the stream to write to. Replaced as a whole, read without locks.
type binding struct {
	ssrc   uint32
	pt     uint8
	stream webrtc.TrackLocalWriter
}

var errNoCodec = errors.New("sfu: subscriber does not support the codec")

// Bind implements webrtc.TrackLocal.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.track.codec.MimeType) {
			d.binding.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), stream: ctx.WriteStream()})
			// A new subscriber needs a keyframe to show anything.
			d.track.RequestKeyframe()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, errNoCodec
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

// write sends pkt with this subscriber's SSRC and payload type and reports
// whether it went out. Header
// extensions are dropped: their ids were negotiated with the publisher, and
// the subscriber's interceptors add their own.
func (d *DownTrack) write(pkt *rtp.Packet) bool {
	b := d.binding.Load()
	if b == nil {
		return false
	}
	d.hdr = pkt.Header
	d.hdr.SSRC = b.ssrc
	d.hdr.PayloadType = b.pt
	d.hdr.Extension = false
	d.hdr.Extensions = nil
	// A write error means the subscriber is going away; it is removed elsewhere.
	_, err := b.stream.WriteRTP(&d.hdr, pkt.Payload)
	return err == nil
}

// readRTCP passes the subscriber's keyframe requests to the publisher until
// the sender stops. NACKs are answered by the NACK interceptor before this.
func (d *DownTrack) readRTCP() {
	buf := make([]byte, 1500)
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
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.track.RequestKeyframe()
			}
		}
	}
}
