package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
	"golang.org/x/image/vp8"

	"plausch.dev/plausch/internal/sample"
	"plausch.dev/plausch/internal/signal"
)

// Publish starts sending the sample media as the given sources
// ("microphone", "camera", "screen") and renegotiates the publish
// connection. Media is paced in real time until the client closes or the
// source is unpublished.
func (c *Client) Publish(ctx context.Context, sources ...string) error {
	if c.pub == nil {
		c.mu.Lock()
		cfg := c.pcConfig()
		c.mu.Unlock()
		pc, err := c.api.NewPeerConnection(cfg)
		if err != nil {
			return err
		}
		c.pub = pc
	}
	for _, src := range sources {
		if err := c.addSource(src); err != nil {
			return err
		}
	}
	return c.offerPublish(ctx)
}

// Unpublish stops sending a source and renegotiates.
func (c *Client) Unpublish(ctx context.Context, source string) error {
	tr, ok := c.senders[source]
	if !ok {
		return fmt.Errorf("%s is not published", source)
	}
	delete(c.senders, source)
	for _, p := range c.pacers[source] {
		close(p.stop)
	}
	delete(c.pacers, source)
	if err := c.pub.RemoveTrack(tr.Sender()); err != nil {
		return err
	}
	return c.offerPublish(ctx)
}

// Loudness values for SetLoudness, in -dBov as RFC 6464 has it.
const (
	Loud   = 20  // clear speech
	Silent = 127 // digital silence
)

// SetLoudness sets the audio level (0 loudest .. 127 silent) that the
// microphone track announces in its RFC 6464 header extension.
func (c *Client) SetLoudness(dBov int) { c.loudness.Store(int32(dBov)) }

// encoding is one stream of a published source: the whole source, or one
// simulcast layer of the camera.
type encoding struct {
	rid    string
	frames []sample.Frame
}

func (c *Client) addSource(src string) error {
	mime, clock := webrtc.MimeTypeVP8, uint32(90000)
	var encs []encoding
	switch {
	case src == signal.SourceMicrophone:
		mime, clock = webrtc.MimeTypeOpus, 48000
		frames, err := sample.Audio()
		if err != nil {
			return err
		}
		encs = []encoding{{frames: frames}}
	case src == signal.SourceCamera && c.opts.Simulcast:
		for _, rid := range sample.Layers {
			frames, err := sample.VideoLayer(rid)
			if err != nil {
				return err
			}
			encs = append(encs, encoding{rid: rid, frames: frames})
		}
	default:
		frames, err := sample.Video()
		if err != nil {
			return err
		}
		encs = []encoding{{frames: frames}}
	}
	var tr *webrtc.RTPTransceiver
	var pacers []*pacer
	for i, enc := range encs {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if enc.rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(enc.rid))
		}
		track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: clock}, src, c.ID, opts...)
		if err != nil {
			return err
		}
		if i == 0 {
			tr, err = c.pub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		} else {
			err = tr.Sender().AddEncoding(track)
		}
		if err != nil {
			return err
		}
		var payloader rtp.Payloader = &codecs.VP8Payloader{EnablePictureID: true}
		if mime == webrtc.MimeTypeOpus {
			payloader = &codecs.OpusPayloader{}
		}
		p := rtp.NewPacketizer(1200, 0, 0, payloader, rtp.NewRandomSequencer(), clock)
		pace := &pacer{c: c, tr: tr, sender: tr.Sender(), rid: enc.rid, track: track, p: p, clock: clock, frames: enc.frames,
			stop: make(chan struct{}), src: src, counts: i == 0}
		pacers = append(pacers, pace)
		c.wg.Add(2)
		go func() { defer c.wg.Done(); pace.readRTCP(enc.rid) }()
		go func() { defer c.wg.Done(); pace.run() }()
	}
	c.senders[src] = tr
	c.pacers[src] = pacers
	return nil
}

// pacer sends one encoding's frames in a loop at their real duration.
type pacer struct {
	c        *Client
	tr       *webrtc.RTPTransceiver
	sender   *webrtc.RTPSender
	rid      string
	track    *webrtc.TrackLocalStaticRTP
	p        rtp.Packetizer
	clock    uint32
	frames   []sample.Frame
	stop     chan struct{}
	keyframe atomic.Bool // the receiver asked for one
	src      string
	counts   bool // this encoding's frames count as the source's sent frames
}

// readRTCP notes keyframe requests until the sender stops.
func (s *pacer) readRTCP(rid string) {
	buf := make([]byte, 1500)
	for {
		var n int
		var err error
		if rid == "" {
			n, _, err = s.sender.Read(buf)
		} else {
			n, _, err = s.sender.ReadSimulcast(buf, rid)
		}
		if err != nil {
			// Pion ends a simulcast layer's RTCP at once; its keyframe
			// requests are then not seen, and the recording's own
			// keyframes (one a second) have to do.
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.keyframe.Store(true)
			}
		}
	}
}

func (s *pacer) run() {
	t := time.NewTicker(s.frames[0].Duration)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(s.frames) {
		select {
		case <-s.c.ctx.Done():
			return
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.keyframe.Swap(false) {
			// A recorded stream cannot make a new keyframe; going back to
			// the one that began this group of pictures is as good.
			for i > 0 && !isVP8Keyframe(s.frames[i].Data) {
				i--
			}
		}
		levelExt := extensionID(s.sender, sdp.AudioLevelURI)
		midExt, ridExt := extensionID(s.sender, sdp.SDESMidURI), extensionID(s.sender, sdp.SDESRTPStreamIDURI)
		for _, pkt := range s.p.Packetize(s.frames[i].Data, uint32(s.frames[i].Duration.Seconds()*float64(s.clock))) {
			if levelExt != 0 {
				_ = pkt.Header.SetExtension(levelExt, []byte{0x80 | byte(s.c.loudness.Load()&0x7f)})
			}
			if s.rid != "" && midExt != 0 && ridExt != 0 {
				// Pion does not add these itself; the server knows a
				// layer by them (RFC 8852).
				_ = pkt.Header.SetExtension(midExt, []byte(s.tr.Mid()))
				_ = pkt.Header.SetExtension(ridExt, []byte(s.rid))
			}
			if err := s.track.WriteRTP(pkt); err != nil {
				return
			}
		}
		if s.counts {
			s.c.mu.Lock()
			s.c.state.Sent[s.src]++
			s.c.mu.Unlock()
		}
	}
}

// extensionID is the negotiated id of the header extension uri, or 0.
func extensionID(s *webrtc.RTPSender, uri string) uint8 {
	for _, e := range s.GetParameters().HeaderExtensions {
		if e.URI == uri {
			return uint8(e.ID)
		}
	}
	return 0
}

// RestartICE restarts ICE on both connections, as after a network change:
// the publish connection with a new offer, the subscribe one by asking the
// server for one.
func (c *Client) RestartICE(ctx context.Context) error {
	if err := c.Send(map[string]string{"type": "restart", "pc": "subscribe"}); err != nil {
		return err
	}
	if c.pub == nil {
		return nil
	}
	return c.offerPublishWith(ctx, &webrtc.OfferOptions{ICERestart: true})
}

func (c *Client) offerPublish(ctx context.Context) error { return c.offerPublishWith(ctx, nil) }

func (c *Client) offerPublishWith(ctx context.Context, opts *webrtc.OfferOptions) error {
	offer, err := c.pub.CreateOffer(opts)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(c.pub)
	if err := c.pub.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	tracks := []signal.PublishedTrack{}
	for src, tr := range c.senders {
		tracks = append(tracks, signal.PublishedTrack{Mid: tr.Mid(), Source: src})
	}
	if err := c.Send(map[string]any{"type": "publish.offer", "sdp": withoutSimulcastSSRCs(c.pub.LocalDescription().SDP), "tracks": tracks}); err != nil {
		return err
	}
	select {
	case answer := <-c.pubAnswers:
		return c.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
	case <-ctx.Done():
		return fmt.Errorf("no publish.answer (errors %v): %w", c.State().Errors, ctx.Err())
	case <-c.ctx.Done():
		return errors.New("connection closed before publish.answer")
	}
}

// OfferError is the server's error reply to a publish offer.
type OfferError struct{ signal.ErrorMessage }

func (e *OfferError) Error() string { return string(e.Code) + ": " + e.Message }

// OfferPublish sends a publish offer as it is, made by a peer connection
// the caller owns (the attack tests offer what no browser would), and
// returns the server's answer, or the first error the server sends
// meanwhile as an *OfferError.
func (c *Client) OfferPublish(ctx context.Context, sdp string, tracks []signal.PublishedTrack) (string, error) {
	seen := len(c.State().Errors)
	if err := c.Send(map[string]any{"type": "publish.offer", "sdp": sdp, "tracks": tracks}); err != nil {
		return "", err
	}
	for {
		c.mu.Lock()
		changed, errs := c.changed, c.state.Errors
		c.mu.Unlock()
		if len(errs) > seen {
			return "", &OfferError{errs[seen]}
		}
		select {
		case answer := <-c.pubAnswers:
			return answer, nil
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("no publish.answer: %w", ctx.Err())
		case <-c.ctx.Done():
			return "", errors.New("connection closed before publish.answer")
		}
	}
}

// withoutSimulcastSSRCs drops the a=ssrc lines of simulcast m-sections, as
// browsers send them: the layers are known by rid alone. (Pion, receiving
// both, waits for the rids and never reads the declared SSRCs.)
func withoutSimulcastSSRCs(sdp string) string {
	sections := strings.SplitAfter(sdp, "\r\nm=")
	for i, sec := range sections {
		if !strings.Contains(sec, "a=simulcast:") {
			continue
		}
		lines := strings.SplitAfter(sec, "\r\n")
		kept := lines[:0]
		for _, l := range lines {
			if !strings.HasPrefix(l, "a=ssrc") {
				kept = append(kept, l)
			}
		}
		sections[i] = strings.Join(kept, "")
	}
	return strings.Join(sections, "")
}

// answerSubscribe runs on the read loop, so offers are handled in order.
func (c *Client) answerSubscribe(sdp string, tracks []signal.SubscribedTrack) error {
	c.mu.Lock()
	if c.sub == nil {
		pc, err := c.api.NewPeerConnection(c.pcConfig())
		if err != nil {
			c.mu.Unlock()
			return err
		}
		pc.OnTrack(c.onTrack)
		c.sub = pc
	}
	pc := c.sub
	c.mids = make(map[string]signal.SubscribedTrack, len(tracks))
	for _, t := range tracks {
		c.mids[t.Mid] = t
	}
	c.state.Offers++
	c.mu.Unlock()

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-c.ctx.Done():
		return nil
	}
	return c.Send(map[string]any{"type": "subscribe.answer", "sdp": pc.LocalDescription().SDP})
}

func (c *Client) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	var info signal.SubscribedTrack
	for _, tr := range c.sub.GetTransceivers() {
		if tr.Receiver() == receiver {
			info = c.mids[tr.Mid()]
		}
	}
	key := Key{Participant: info.Participant, Source: info.Source}
	stats := &TrackStats{Kind: remote.Kind().String(), Layer: -1, lastPicID: -1}
	c.state.Received[key] = stats
	// Under mu, so not after Close has begun to wait.
	c.wg.Add(2)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		c.receive(remote, stats)
	}()
	go func() {
		defer c.wg.Done()
		// Pion's interceptors see incoming RTCP only as it is read: the
		// sender reports must pass through, or the receiver reports
		// carry no timing for the server's round-trip measurement.
		buf := make([]byte, 1500)
		for {
			if _, _, err := receiver.Read(buf); err != nil {
				return
			}
		}
	}()
}

// receive counts packets and checks that every reassembled frame (video) or
// packet (audio) is byte for byte one that a sample publisher sends.
func (c *Client) receive(remote *webrtc.TrackRemote, stats *TrackStats) {
	defer c.update(func(*State) { stats.Ended = true })
	known := knownPayloads()
	var sb *samplebuilder.SampleBuilder
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		sb = samplebuilder.New(64, &codecs.VP8Packet{}, 90000)
		if c.opts.KeyframeEvery > 0 {
			c.wg.Add(1)
			go func() { defer c.wg.Done(); c.askKeyframes(remote) }()
		}
	}
	buf := make([]byte, 1500)
	var ends frameEnds
	for {
		n, _, err := remote.Read(buf)
		if err != nil {
			return
		}
		// The sample builder keeps packets, so each needs its own bytes.
		var pkt rtp.Packet
		if pkt.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
			continue
		}
		var whole [][]byte
		var keyframes []Keyframe
		cut := 0
		if sb == nil {
			whole = [][]byte{pkt.Payload}
		} else {
			if pkt.Marker {
				ends.add(pkt.Timestamp)
			}
			sb.Push(&pkt)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				if !ends.has(s.PacketTimestamp) {
					cut++
					continue
				}
				whole = append(whole, s.Data)
				if c.opts.InspectKeyframes && isVP8Keyframe(s.Data) {
					keyframes = append(keyframes, inspectKeyframe(s.Data, s.PacketTimestamp))
				}
			}
		}
		// Per packet only the lock, no change notification: waiters poll.
		c.mu.Lock()
		now := time.Now()
		stats.observe(pkt.SequenceNumber, now)
		stats.Bytes += len(pkt.Payload)
		stats.CutShort += cut
		if sb != nil {
			stats.observePictureID(pkt.Payload)
		}
		for _, w := range whole {
			if sb != nil {
				stats.frameArrived(now)
			}
			stats.observeFrame(known, w)
		}
		for _, k := range keyframes {
			if len(stats.Keyframes) < maxKeyframes {
				stats.Keyframes = append(stats.Keyframes, k)
			}
		}
		c.mu.Unlock()
	}
}

// observeFrame checks one whole frame (or audio packet) against the sample
// and follows which layer it came from.
func (s *TrackStats) observeFrame(known map[[32]byte]int, w []byte) {
	layer, ok := known[sha256.Sum256(w)]
	if !ok {
		s.BadFrames++
		return
	}
	s.Frames++
	if layer >= 0 && s.Layer >= 0 && layer != s.Layer {
		s.LayerSwitches++
		if !isVP8Keyframe(w) {
			s.SwitchesNotAtKeyframes++
		}
	}
	if layer >= 0 {
		s.Layer = layer
	}
}

// frameEnds remembers the RTP timestamps of the latest packets with the
// marker bit, which ends a video frame. A reassembled frame without one was
// cut short: the server switched layers in its middle, so its last packets
// were never sent. A browser's jitter buffer drops such a frame before
// decoding; so do the checks here.
type frameEnds struct {
	ts [64]uint32
	n  int
}

func (f *frameEnds) add(ts uint32) {
	f.ts[f.n%len(f.ts)] = ts
	f.n++
}

func (f *frameEnds) has(ts uint32) bool {
	for _, t := range f.ts[:min(f.n, len(f.ts))] {
		if t == ts {
			return true
		}
	}
	return false
}

// isVP8Keyframe reads the frame tag: bit 0 clear marks a keyframe (RFC 6386).
func isVP8Keyframe(frame []byte) bool { return len(frame) >= 10 && frame[0]&1 == 0 }

func inspectKeyframe(frame []byte, ts uint32) Keyframe {
	sum := sha256.Sum256(frame)
	d := vp8.NewDecoder()
	d.Init(bytes.NewReader(frame), len(frame))
	_, err := d.DecodeFrameHeader()
	if err == nil {
		_, err = d.DecodeFrame()
	}
	return Keyframe{Timestamp: ts, SHA256: hex.EncodeToString(sum[:]), Bytes: len(frame), Decodes: err == nil}
}

// askKeyframes sends a PLI for remote every KeyframeEvery.
func (c *Client) askKeyframes(remote *webrtc.TrackRemote) {
	t := time.NewTicker(c.opts.KeyframeEvery)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		sub := c.sub
		c.mu.Unlock()
		if sub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}}) != nil {
			return
		}
	}
}

// knownPayloads maps the hash of every frame a sample publisher sends to
// its video layer (-1 for audio).
var knownPayloads = sync.OnceValue(func() map[[32]byte]int {
	known := map[[32]byte]int{}
	for i, rid := range sample.Layers {
		v, _ := sample.VideoLayer(rid)
		for _, f := range v {
			known[sha256.Sum256(f.Data)] = i
		}
	}
	a, _ := sample.Audio()
	for _, f := range a {
		known[sha256.Sum256(f.Data)] = -1
	}
	return known
})

// observePictureID checks that each new frame's VP8 picture id (RFC 7741)
// follows the previous frame's, as a subscriber must see however the
// server switches layers.
func (s *TrackStats) observePictureID(p []byte) {
	// X, I and S bits, partition 0: the first packet of a frame with an id.
	if len(p) < 3 || p[0]&0x80 == 0 || p[1]&0x80 == 0 || p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return
	}
	id, mod := int(p[2]&0x7f), 1<<7
	if p[2]&0x80 != 0 {
		if len(p) < 4 {
			return
		}
		id, mod = int(p[2]&0x7f)<<8|int(p[3]), 1<<15
	}
	if s.lastPicID >= 0 && id != (s.lastPicID+1)%mod {
		s.PictureIDJumps++
	}
	s.lastPicID = id
}

// pcConfig is the configuration of the client's peer connections: with
// RelayVia, the TURN servers of joined it accepts and nothing else. c.mu
// is held.
func (c *Client) pcConfig() webrtc.Configuration {
	cfg := webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle}
	if c.opts.RelayVia != nil {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
		for _, s := range c.state.ICEServers {
			urls := slices.DeleteFunc(slices.Clone(s.URLs), func(u string) bool { return !c.opts.RelayVia(u) })
			if len(urls) > 0 {
				cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
			}
		}
	}
	return cfg
}
