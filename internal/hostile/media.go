package hostile

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/sample"
)

// localTrack is one encoding of a hostile m-line. Unlike Pion's own local
// tracks it lets packets go out with any SSRC, on the transport Pion
// negotiated for it.
type localTrack struct {
	id, rid string
	codec   webrtc.RTPCodecCapability

	mu   sync.Mutex
	ssrc uint32
	pt   uint8
	w    webrtc.TrackLocalWriter
}

var errNotBound = errors.New("hostile: track not negotiated")

// Bind implements webrtc.TrackLocal.
func (t *localTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, t.codec.MimeType) {
			t.mu.Lock()
			t.ssrc, t.pt, t.w = uint32(ctx.SSRC()), uint8(c.PayloadType), ctx.WriteStream()
			t.mu.Unlock()
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (t *localTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	t.w = nil
	t.mu.Unlock()
	return nil
}

// ID implements webrtc.TrackLocal.
func (t *localTrack) ID() string { return t.id }

// RID implements webrtc.TrackLocal.
func (t *localTrack) RID() string { return t.rid }

// StreamID implements webrtc.TrackLocal.
func (t *localTrack) StreamID() string { return "hostile" }

// Kind implements webrtc.TrackLocal.
func (t *localTrack) Kind() webrtc.RTPCodecType {
	if strings.HasPrefix(t.codec.MimeType, "audio/") {
		return webrtc.RTPCodecTypeAudio
	}
	return webrtc.RTPCodecTypeVideo
}

// write sends pkt with ssrc, or the negotiated SSRC when it is 0.
func (t *localTrack) write(pkt *rtp.Packet, ssrc uint32) error {
	t.mu.Lock()
	w, own, pt := t.w, t.ssrc, t.pt
	t.mu.Unlock()
	if w == nil {
		return errNotBound
	}
	if ssrc == 0 {
		ssrc = own
	}
	pkt.SSRC, pkt.PayloadType = ssrc, pt
	_, err := w.WriteRTP(&pkt.Header, pkt.Payload)
	return err
}

// stream sends one layer (or the only stream) of an m-line, or a stray
// SSRC on its transport: the bundled sample media at its own pace, or a
// flood of packets.
type stream struct {
	tr     *webrtc.RTPTransceiver
	track  *localTrack
	rid    string // as the rid header extension says it
	ssrc   uint32 // 0: the negotiated one
	frames []sample.Frame
	clock  uint32
	flood  int // packets a second; 0 paces the sample
	sent   atomic.Int64
}

// newStream takes the sample's frames for the layer: the sample layer of
// the same position, the largest one for the layers beyond it and for a
// flood (its frames make packets of the full 1200 bytes).
func newStream(tr *webrtc.RTPTransceiver, track *localTrack, rid string, layer, flood int) (*stream, error) {
	s := &stream{tr: tr, track: track, rid: rid, flood: flood, clock: 90000}
	if flood > 0 {
		layer = len(sample.Layers) - 1
	}
	var err error
	if track.Kind() == webrtc.RTPCodecTypeAudio {
		s.clock = 48000
		s.frames, err = sample.Audio()
	} else {
		s.frames, err = sample.VideoLayer(sample.Layers[min(layer, len(sample.Layers)-1)])
	}
	return s, err
}

// stray is a stream on an SSRC that no offer declared, on the transport of
// s's m-line, with a rid that the m-line does not have.
func (s *stream) stray(i int) *stream {
	frames := s.frames
	if s.clock == 90000 {
		frames, _ = sample.VideoLayer(sample.Layers[len(sample.Layers)-1]) // loaded already
	}
	return &stream{tr: s.tr, track: s.track, rid: fmt.Sprintf("stray%d", i), ssrc: rand.Uint32() | 1,
		frames: frames, clock: s.clock, flood: s.flood}
}

// run sends until stop is closed or the connection ends.
func (s *stream) run(stop <-chan struct{}) {
	var payloader rtp.Payloader = &codecs.VP8Payloader{EnablePictureID: true}
	if s.clock == 48000 {
		payloader = &codecs.OpusPayloader{}
	}
	p := rtp.NewPacketizer(1200, 0, 0, payloader, rtp.NewRandomSequencer(), s.clock)
	every, burst := s.frames[0].Duration, 0
	if s.flood > 0 {
		// In bursts every 10 ms: a ticker per packet would not keep up.
		every, burst = 10*time.Millisecond, max(1, s.flood/100)
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	midExt, ridExt := s.extensions()
	var queue []*rtp.Packet
	for i := 0; ; {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for n := 0; n < burst || burst == 0; n++ {
			if len(queue) == 0 {
				f := s.frames[i%len(s.frames)]
				i++
				queue = p.Packetize(f.Data, uint32(f.Duration.Seconds()*float64(s.clock)))
			}
			pkt := queue[0]
			queue = queue[1:]
			if !s.write(pkt, midExt, ridExt) {
				return
			}
			if burst == 0 && len(queue) == 0 {
				break // one whole frame per tick
			}
		}
	}
}

// extensions are the negotiated ids of the mid and rid header extensions.
func (s *stream) extensions() (mid, rid uint8) {
	for _, e := range s.tr.Sender().GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			mid = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			rid = uint8(e.ID)
		}
	}
	return mid, rid
}

// write sends one packet with the header extensions that name its m-line
// and layer (RFC 8852; Pion does not add them itself).
func (s *stream) write(pkt *rtp.Packet, midExt, ridExt uint8) bool {
	if midExt != 0 {
		_ = pkt.Header.SetExtension(midExt, []byte(s.tr.Mid()))
	}
	if ridExt != 0 && s.rid != "" {
		_ = pkt.Header.SetExtension(ridExt, []byte(s.rid))
	}
	if err := s.track.write(pkt, s.ssrc); err != nil {
		return false
	}
	s.sent.Add(1)
	return true
}
