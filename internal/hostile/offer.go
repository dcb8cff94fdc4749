package hostile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/signal"
)

// MLine is one m-line of a hostile offer. Every stream on it sends RTP once
// the server answers.
type MLine struct {
	Kind webrtc.RTPCodecType // audio or video
	// Source is what publish.offer's tracks announce the m-line as; empty
	// leaves it out of tracks.
	Source string
	// RIDs make it simulcast, one stream per rid, any names and any number
	// (Pion refuses duplicate and empty rids: Offer.Edit makes those).
	RIDs []string
	// Flood, when set, sends this many packets a second on each stream,
	// most of them 1200 bytes (the largest sample layer's), instead of the
	// sample media at its own pace.
	Flood int
	// Strays are further streams on the m-line's transport, each on an
	// SSRC that the offer does not declare and with a rid the m-line does
	// not have: RTP that nothing on the server reads.
	Strays int
}

// Offer is everything a hostile publisher offers.
type Offer struct {
	MLines []MLine
	// Candidates are a=candidate values (see Candidate) put into the
	// offer's first m-line, which carries the ICE details of the bundle,
	// before the peer's own.
	Candidates []string
	// Edit, when set, rewrites the finished offer last.
	Edit func(sdp string) string
}

// Publisher is a hostile participant's publish connection: its own Pion
// peer, whose offer goes to the server over the participant's signalling.
type Publisher struct {
	c       *client.Client
	pc      *webrtc.PeerConnection
	streams []*stream
	// Offer and Answer are the SDP sent and the server's reply.
	Offer, Answer string

	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	mu   sync.Mutex // streams, once sending
}

// Publish offers o over c and, once the server answers, sends RTP on every
// stream until Close. A refusal by the server is a *client.OfferError; the
// Publisher is returned with it, to be closed.
func Publish(ctx context.Context, c *client.Client, o Offer) (*Publisher, error) {
	api, err := newAPI()
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		return nil, err
	}
	p := &Publisher{c: c, pc: pc, stop: make(chan struct{})}
	var tracks []signal.PublishedTrack
	var announced []*webrtc.RTPTransceiver
	full := map[int]bool{} // m-lines sent in full: the announced ones
	for i, m := range o.MLines {
		tr, streams, err := addMLine(pc, i, m)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("m-line %d: %w", i, err)
		}
		p.streams = append(p.streams, streams...)
		if m.Source != "" {
			full[i] = true
			announced = append(announced, tr)
			tracks = append(tracks, signal.PublishedTrack{Source: m.Source})
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		p.Close()
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		p.Close()
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	}
	for i, tr := range announced {
		tracks[i].Mid = tr.Mid()
	}
	p.Offer = withCandidates(compact(withoutSimulcastSSRCs(pc.LocalDescription().SDP), full), o.Candidates)
	if o.Edit != nil {
		p.Offer = o.Edit(p.Offer)
	}
	p.Answer, err = c.OfferPublish(ctx, p.Offer, tracks)
	if err != nil {
		return p, err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: p.Answer}); err != nil {
		return p, fmt.Errorf("the server's answer: %w", err)
	}
	p.mu.Lock()
	for _, s := range p.streams {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); s.run(p.stop) }()
	}
	p.mu.Unlock()
	return p, nil
}

// Stray starts n more stray streams (see MLine.Strays) on the first
// m-line, sending flood packets a second each.
func (p *Publisher) Stray(n, flood int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		s := p.streams[0].stray(len(p.streams))
		s.flood = flood
		p.streams = append(p.streams, s)
		p.wg.Add(1)
		go func() { defer p.wg.Done(); s.run(p.stop) }()
	}
}

// Trickle sends candidates (a=candidate values, see Candidate) for the
// publish connection, one message each.
func (p *Publisher) Trickle(candidates ...string) error {
	mid, index := "0", uint16(0)
	for _, c := range candidates {
		err := p.c.Send(map[string]any{"type": "candidate", "pc": signal.PCPublish,
			"candidate": signal.ICECandidate{Candidate: c, SDPMid: &mid, SDPMLineIndex: &index}})
		if err != nil {
			return err
		}
	}
	return nil
}

// Connected reports whether the media connection to the server is up.
func (p *Publisher) Connected() bool {
	return p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
}

// Sent is how many RTP packets the publisher has sent so far.
func (p *Publisher) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.streams {
		n += int(s.sent.Load())
	}
	return n
}

// Close stops the media and the connection.
func (p *Publisher) Close() {
	p.once.Do(func() { close(p.stop) })
	_ = p.pc.Close()
	p.wg.Wait()
}

// newAPI is a peer with only Opus and VP8, so that an m-line costs little
// of the offer's 64 KiB, and ICE on loopback only: tests must not leave the
// host, whatever the server is made to do.
func newAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	codecs := []struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
			PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			PayloadType: 96}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.c, c.kind); err != nil {
			return nil, err
		}
	}
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI} {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				return nil, err
			}
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" || name == "lo0" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)), nil
}

// addMLine adds one sending transceiver for m, with a stream per layer.
func addMLine(pc *webrtc.PeerConnection, i int, m MLine) (*webrtc.RTPTransceiver, []*stream, error) {
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if m.Kind == webrtc.RTPCodecTypeAudio {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	}
	rids := m.RIDs
	if len(rids) == 0 {
		rids = []string{""}
	}
	id := fmt.Sprintf("hostile-%d", i)
	var tr *webrtc.RTPTransceiver
	var streams []*stream
	for layer, rid := range rids {
		track := &localTrack{id: id, rid: rid, codec: codec}
		var err error
		if layer == 0 {
			tr, err = pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		} else {
			err = tr.Sender().AddEncoding(track)
		}
		if err != nil {
			return nil, nil, err
		}
		s, err := newStream(tr, track, rid, layer, m.Flood)
		if err != nil {
			return nil, nil, err
		}
		streams = append(streams, s)
	}
	if tr == nil {
		return nil, nil, errors.New("no stream")
	}
	for i := range m.Strays {
		streams = append(streams, streams[0].stray(i))
	}
	return tr, streams, nil
}
