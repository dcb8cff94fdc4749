package hostile

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/sample"
)

// stream sends one layer (or the only stream) of an m-line: the bundled
// sample media at its own pace, or a flood of packets.
type stream struct {
	tr     *webrtc.RTPTransceiver
	track  *webrtc.TrackLocalStaticRTP
	rid    string
	frames []sample.Frame
	clock  uint32
	flood  int // packets a second; 0 paces the sample
	sent   atomic.Int64
}

// newStream takes the sample's frames for the layer: the sample layer of
// the same position, the largest one for the layers beyond it.
func newStream(tr *webrtc.RTPTransceiver, track *webrtc.TrackLocalStaticRTP, rid string, layer, flood int) (*stream, error) {
	s := &stream{tr: tr, track: track, rid: rid, flood: flood, clock: 90000}
	var err error
	if track.Kind() == webrtc.RTPCodecTypeAudio {
		s.clock = 48000
		s.frames, err = sample.Audio()
	} else {
		s.frames, err = sample.VideoLayer(sample.Layers[min(layer, len(sample.Layers)-1)])
	}
	return s, err
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
		n := 0
		for n < burst || burst == 0 {
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
			n++
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
	if err := s.track.WriteRTP(pkt); err != nil {
		return false
	}
	s.sent.Add(1)
	return true
}
