package sfu

import (
	"fmt"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// PublisherParams configures a Publisher. Callbacks run on Pion's or the
// track's goroutines and must not block for long.
type PublisherParams struct {
	// Label names the owner (a participant id); it becomes Track.Publisher
	// and the stream id subscribers see.
	Label string
	// OnTrack is called when a published track starts receiving media.
	OnTrack func(*Track)
	// OnTrackEnded is called when a track has ended and left every subscriber.
	OnTrackEnded func(*Track)
	// OnFailed is called once if the media connection fails.
	OnFailed func()
}

// Publisher is the peer connection on which one participant sends its
// tracks. The participant always offers; the publisher answers.
type Publisher struct {
	params PublisherParams
	pc     *webrtc.PeerConnection
	stats  *Stats

	mu      sync.Mutex
	sources map[string]string // mid -> source, from the latest offer
	seq     int
	wg      sync.WaitGroup // track read loops
	pending candidateQueue
}

// NewPublisher creates a publish peer connection.
func (e *Engine) NewPublisher(params PublisherParams) (*Publisher, error) {
	pc, err := e.newPeerConnection()
	if err != nil {
		return nil, fmt.Errorf("publisher peer connection: %w", err)
	}
	p := &Publisher{params: params, pc: pc, sources: map[string]string{}, stats: &e.stats}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(onFailedOnce(params.OnFailed))
	return p, nil
}

// HandleOffer applies the participant's offer and returns the answer, with
// all server candidates in it. sources maps each m-line's mid to its source.
func (p *Publisher) HandleOffer(offer string, sources map[string]string) (string, error) {
	p.mu.Lock()
	p.sources = sources
	p.mu.Unlock()
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	<-gathered
	p.mu.Lock()
	p.pending.flush(p.pc)
	p.mu.Unlock()
	return p.pc.LocalDescription().SDP, nil
}

// AddCandidate adds a trickled candidate of the participant.
func (p *Publisher) AddCandidate(c webrtc.ICECandidateInit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending.add(p.pc, c)
}

// Close ends the connection and waits until all its tracks have ended.
func (p *Publisher) Close() error {
	err := p.pc.Close()
	p.wg.Wait()
	return err
}

func (p *Publisher) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	mid := ""
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
			break
		}
	}
	p.mu.Lock()
	source, ok := p.sources[mid]
	if !ok {
		// Only announced tracks are forwarded, which also bounds how many
		// tracks one participant can make the server carry.
		p.mu.Unlock()
		return
	}
	p.seq++
	t := &Track{
		id:        fmt.Sprintf("%s-%d", p.params.Label, p.seq),
		publisher: p.params.Label,
		source:    source,
		kind:      remote.Kind(),
		codec:     remote.Codec().RTPCodecCapability,
		remote:    remote,
		pc:        p.pc,
		stats:     p.stats,
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		if ext.URI == AudioLevelURI {
			t.levelExt = uint8(ext.ID)
		}
	}
	p.wg.Add(1)
	p.mu.Unlock()
	if p.params.OnTrack != nil {
		p.params.OnTrack(t)
	}
	go func() {
		defer p.wg.Done()
		t.run(p.params.OnTrackEnded)
	}()
}

// onFailedOnce turns connection state changes into one call of f when the
// connection fails.
func onFailedOnce(f func()) func(webrtc.PeerConnectionState) {
	var once sync.Once
	return func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed && f != nil {
			once.Do(func() { go f() })
		}
	}
}

// candidateQueue holds candidates that arrive before the remote description.
type candidateQueue struct{ queued []webrtc.ICECandidateInit }

const maxQueuedCandidates = 32

func (q *candidateQueue) add(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit) error {
	// Checked now, so a bad candidate is reported even before the offer.
	if _, err := ice.UnmarshalCandidate(c.Candidate); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	if pc.RemoteDescription() == nil {
		if len(q.queued) >= maxQueuedCandidates {
			return ErrTooManyCandidates
		}
		q.queued = append(q.queued, c)
		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	return nil
}

func (q *candidateQueue) flush(pc *webrtc.PeerConnection) {
	for _, c := range q.queued {
		// A bad queued candidate cannot be reported any more; it is skipped.
		_ = pc.AddICECandidate(c)
	}
	q.queued = nil
}
