package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
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
		pc, err := c.api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
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

func (c *Client) addSource(src string) error {
	frames, err := sample.Video()
	mime, clock, payloader := webrtc.MimeTypeVP8, uint32(90000), rtp.Payloader(&codecs.VP8Payloader{EnablePictureID: true})
	if src == signal.SourceMicrophone {
		frames, err = sample.Audio()
		mime, clock, payloader = webrtc.MimeTypeOpus, 48000, &codecs.OpusPayloader{}
	}
	if err != nil {
		return err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: clock}, src, c.ID)
	if err != nil {
		return err
	}
	tr, err := c.pub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return err
	}
	c.senders[src] = tr
	stop := make(chan struct{})
	p := rtp.NewPacketizer(1200, 0, 0, payloader, rtp.NewRandomSequencer(), clock)
	c.wg.Add(2)
	go func() { defer c.wg.Done(); drainRTCP(tr.Sender()); close(stop) }()
	go func() { defer c.wg.Done(); c.pace(src, tr.Sender(), track, p, clock, frames, stop) }()
	return nil
}

// pace packetizes and writes frames in a loop at their real duration.
func (c *Client) pace(src string, sender *webrtc.RTPSender, track *webrtc.TrackLocalStaticRTP, p rtp.Packetizer, clock uint32,
	frames []sample.Frame, stop <-chan struct{}) {
	t := time.NewTicker(frames[0].Duration)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(frames) {
		select {
		case <-c.ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		levelExt := audioLevelID(sender)
		for _, pkt := range p.Packetize(frames[i].Data, uint32(frames[i].Duration.Seconds()*float64(clock))) {
			if levelExt != 0 {
				_ = pkt.Header.SetExtension(levelExt, []byte{0x80 | byte(c.loudness.Load()&0x7f)})
			}
			if err := track.WriteRTP(pkt); err != nil {
				return
			}
		}
		c.mu.Lock()
		c.state.Sent[src]++
		c.mu.Unlock()
	}
}

// audioLevelID is the negotiated id of the audio level extension, or 0.
func audioLevelID(s *webrtc.RTPSender) uint8 {
	for _, e := range s.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			return uint8(e.ID)
		}
	}
	return 0
}

func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
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
	if err := c.Send(map[string]any{"type": "publish.offer", "sdp": c.pub.LocalDescription().SDP, "tracks": tracks}); err != nil {
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

// answerSubscribe runs on the read loop, so offers are handled in order.
func (c *Client) answerSubscribe(sdp string, tracks []signal.SubscribedTrack) error {
	c.mu.Lock()
	if c.sub == nil {
		pc, err := c.api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
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
	var info signal.SubscribedTrack
	for _, tr := range c.sub.GetTransceivers() {
		if tr.Receiver() == receiver {
			info = c.mids[tr.Mid()]
		}
	}
	key := Key{Participant: info.Participant, Source: info.Source}
	stats := &TrackStats{Kind: remote.Kind().String()}
	c.state.Received[key] = stats
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.receive(remote, stats)
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
		if sb == nil {
			whole = [][]byte{pkt.Payload}
		} else {
			sb.Push(&pkt)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
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
		for _, w := range whole {
			if sb != nil {
				stats.observeFrame(now)
			}
			if known[sha256.Sum256(w)] {
				stats.Frames++
			} else {
				stats.BadFrames++
			}
		}
		for _, k := range keyframes {
			if len(stats.Keyframes) < maxKeyframes {
				stats.Keyframes = append(stats.Keyframes, k)
			}
		}
		c.mu.Unlock()
	}
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

var knownPayloads = sync.OnceValue(func() map[[32]byte]bool {
	known := map[[32]byte]bool{}
	v, _ := sample.Video()
	a, _ := sample.Audio()
	for _, f := range append(v, a...) {
		known[sha256.Sum256(f.Data)] = true
	}
	return known
})
