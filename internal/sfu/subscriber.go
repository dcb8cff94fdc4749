package sfu

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Errors a participant can cause; the signalling layer maps them to codes.
var (
	ErrBadSDP            = errors.New("sfu: bad sdp")
	ErrBadCandidate      = errors.New("sfu: bad ice candidate")
	ErrTooManyCandidates = errors.New("sfu: too many candidates before the description")
	ErrNoOffer           = errors.New("sfu: no offer is waiting for an answer")
)

// OfferedTrack says whose track an m-line of a subscribe offer carries.
type OfferedTrack struct {
	Mid       string
	Publisher string
	Source    string
	Kind      string
}

// SubscriberParams configures a Subscriber.
type SubscriberParams struct {
	// SendOffer delivers an offer to the participant. It must not block.
	SendOffer func(sdp string, tracks []OfferedTrack)
	// OnFailed is called once if the media connection fails.
	OnFailed func()
	// OnForwarded is called when the videos sent, or their layers, change.
	// It must not block.
	OnForwarded func([]Forwarded)
}

// Subscriber is the peer connection on which one participant receives
// everyone else's tracks. The server always offers, one offer at a time.
type Subscriber struct {
	params SubscriberParams
	pc     *webrtc.PeerConnection
	bwe    cc.BandwidthEstimator
	link   linkStats
	wake   chan struct{} // the wants changed: allocate now

	mu          sync.Mutex
	downs       map[*Track]*DownTrack
	negotiating bool // an offer is out, waiting for its answer
	again       bool // something changed since that offer
	restart     bool // the next offer restarts ICE
	lastSDP     string
	lastTracks  []OfferedTrack
	offerSent   bool      // lastSDP is the offer now waiting for its answer
	offeredAt   time.Time // when it was (last) sent
	closed      bool
	closing     chan struct{}
	pending     candidateQueue
	wg          sync.WaitGroup
	wants       []Want // once viewSet: the videos shown, most important first
	viewSet     bool   // before the first SetWants every video is sent
	forwarded   []Forwarded
	probe       prober // bandwidth probing (probe.go); the allocation decides, under mu
}

// NewSubscriber creates a subscribe peer connection.
func (e *Engine) NewSubscriber(params SubscriberParams) (*Subscriber, error) {
	pc, bwe, err := e.newSubscriberPC()
	if err != nil {
		return nil, fmt.Errorf("subscriber peer connection: %w", err)
	}
	s := &Subscriber{params: params, pc: pc, bwe: bwe, downs: map[*Track]*DownTrack{},
		closing: make(chan struct{}), wake: make(chan struct{}, 1), pending: newCandidateQueue(e.policy)}
	pc.OnConnectionStateChange(onFailedOnce(params.OnFailed))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.allocateLoop()
	}()
	return s, nil
}

// AddTrack starts sending t to this subscriber. A track that has already
// ended is ignored.
func (s *Subscriber) AddTrack(t *Track) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if _, ok := s.downs[t]; ok {
		return nil
	}
	d := newDownTrack(t, s)
	// Subscribing under s.mu orders this against the track's end, which
	// calls removeDown and so waits for s.mu.
	if !t.subscribe(d) {
		return nil
	}
	sender, err := s.pc.AddTrack(d)
	if err != nil {
		t.unsubscribe(d)
		return fmt.Errorf("add track: %w", err)
	}
	d.sender = sender
	s.downs[t] = d
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		d.readRTCP()
	}()
	s.negotiateLocked()
	return nil
}

// removeDown stops sending d's track; called when the track ends.
func (s *Subscriber) removeDown(d *DownTrack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.downs[d.track] != d {
		return
	}
	delete(s.downs, d.track)
	if s.closed {
		return
	}
	// An error here means the connection is closing; nothing to renegotiate.
	if s.pc.RemoveTrack(d.sender) == nil {
		s.negotiateLocked()
	}
}

// HandleAnswer applies the participant's answer to the latest offer.
func (s *Subscriber) HandleAnswer(answer string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.negotiating {
		return ErrNoOffer
	}
	desc := &sdp.SessionDescription{}
	if err := desc.UnmarshalString(answer); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	answer, err := s.pending.filter(desc, answer)
	if err != nil {
		return err
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	s.negotiating = false
	s.pending.flush(s.pc)
	if s.again {
		s.again = false
		s.negotiateLocked()
	}
	return nil
}

// AddCandidate adds a trickled candidate of the participant.
func (s *Subscriber) AddCandidate(c webrtc.ICECandidateInit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending.add(s.pc, c)
}

// Close ends the connection and waits for its goroutines.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	downs := s.downs
	s.downs = map[*Track]*DownTrack{}
	s.mu.Unlock()
	for t, d := range downs {
		t.unsubscribe(d)
	}
	err := s.pc.Close()
	s.wg.Wait()
	return err
}

func (s *Subscriber) negotiateLocked() {
	if s.closed {
		return
	}
	if s.negotiating {
		s.again = true
		return
	}
	s.negotiating = true
	s.offerSent = false
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.offer()
	}()
}

// offer creates and sends an offer. The track list is taken in the same
// critical section as the offer, so it describes exactly that offer.
func (s *Subscriber) offer() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	offer, err := s.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: s.restart})
	s.restart = false
	var gathered <-chan struct{}
	if err == nil {
		gathered = webrtc.GatheringCompletePromise(s.pc)
		err = s.pc.SetLocalDescription(offer)
	}
	if err != nil {
		s.negotiating = false
		s.mu.Unlock()
		return // only fails when the connection is closing
	}
	tracks := s.offeredTracksLocked()
	s.mu.Unlock()

	select {
	case <-gathered:
	case <-s.closing:
		return
	}
	sdp := s.pc.LocalDescription().SDP
	s.mu.Lock()
	s.lastSDP, s.lastTracks = sdp, tracks
	s.offerSent, s.offeredAt = true, time.Now()
	s.mu.Unlock()
	s.params.SendOffer(sdp, tracks)
}

// ResendOffer sends the offer still waiting for an answer again, for a
// participant back on a new connection that may have missed it.
func (s *Subscriber) ResendOffer() {
	s.mu.Lock()
	sdp, tracks := s.lastSDP, s.lastTracks
	waiting := s.negotiating && s.offerSent
	s.mu.Unlock()
	if waiting {
		s.params.SendOffer(sdp, tracks)
	}
}

// offerPatience is how long an offer may wait for its answer before it is
// sent again: the answer (or the offer) may have been lost, and until it
// comes no other change reaches the participant.
var offerPatience = 10 * time.Second

// resendStaleOffer sends the waiting offer again once it has waited
// offerPatience.
func (s *Subscriber) resendStaleOffer(now time.Time) {
	s.mu.Lock()
	stale := s.negotiating && s.offerSent && now.Sub(s.offeredAt) > offerPatience
	if stale {
		s.offeredAt = now
	}
	sdp, tracks := s.lastSDP, s.lastTracks
	s.mu.Unlock()
	if stale {
		s.params.SendOffer(sdp, tracks)
	}
}

// RestartICE makes the next offer restart ICE (after a network change).
func (s *Subscriber) RestartICE() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restart = true
	s.negotiateLocked()
}

func (s *Subscriber) offeredTracksLocked() []OfferedTrack {
	tracks := make([]OfferedTrack, 0, len(s.downs))
	for _, tr := range s.pc.GetTransceivers() {
		sender := tr.Sender()
		if sender == nil || tr.Mid() == "" {
			continue
		}
		d, ok := sender.Track().(*DownTrack)
		if !ok || s.downs[d.track] != d {
			continue
		}
		tracks = append(tracks, OfferedTrack{
			Mid: tr.Mid(), Publisher: d.track.publisher, Source: d.track.source, Kind: d.track.kind.String(),
		})
	}
	return tracks
}
