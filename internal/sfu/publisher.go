package sfu

import (
	"fmt"
	"slices"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
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
	tracks  map[*webrtc.RTPReceiver]*Track
	seq     int
	wg      sync.WaitGroup // track read loops
	pending candidateQueue
}

// NewPublisher creates a publish peer connection.
func (e *Engine) NewPublisher(params PublisherParams) (*Publisher, error) {
	pc, err := e.newPublisherPC()
	if err != nil {
		return nil, fmt.Errorf("publisher peer connection: %w", err)
	}
	p := &Publisher{params: params, pc: pc, sources: map[string]string{}, tracks: map[*webrtc.RTPReceiver]*Track{}, stats: &e.stats,
		pending: newCandidateQueue(e.policy)}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(onFailedOnce(params.OnFailed))
	return p, nil
}

// HandleOffer applies the participant's offer and returns the answer, with
// all server candidates in it. sources maps each m-line's mid to its source.
// An offer beyond the limits (checkOffer) is refused as a whole; remote
// candidates the server will not use are left out of it.
func (p *Publisher) HandleOffer(offer string, sources map[string]string) (string, error) {
	desc := &sdp.SessionDescription{}
	if err := desc.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	if err := checkOffer(desc, sources); err != nil {
		return "", err
	}
	p.mu.Lock()
	p.sources = sources
	offer, err := p.pending.filter(desc, offer)
	p.mu.Unlock()
	if err != nil {
		return "", err
	}
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

// onTrack runs for each incoming stream: once for a plain track, once per
// layer for simulcast (each with its rid). The first stream of an m-line
// makes the Track; later layers join it.
func (p *Publisher) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	p.mu.Lock()
	t, known := p.tracks[receiver]
	if known && t.ended() {
		// The m-line was reused for a new track.
		known = false
	}
	if !known {
		t = p.newTrackLocked(remote, receiver)
		if t == nil {
			p.discardLocked(remote)
			p.mu.Unlock()
			return
		}
		p.tracks[receiver] = t
	}
	l := t.layerFor(remote.RID())
	if l == nil || !t.start(l, remote) {
		p.discardLocked(remote)
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	if !known && p.params.OnTrack != nil {
		p.params.OnTrack(t)
	}
	go func() {
		defer p.wg.Done()
		t.run(l, p.params.OnTrackEnded)
	}()
}

// discardLocked reads a stream nobody forwards, until it ends, and drops
// what it reads: Pion buffers up to a megabyte of every stream that is not
// read, for as long as the connection lives. checkOffer refuses offers
// that would send such streams; this is for what slips through (packets
// on an m-line that no longer sends, a layer that already runs).
func (p *Publisher) discardLocked(remote *webrtc.TrackRemote) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := remote.Read(buf); err != nil {
				return
			}
		}
	}()
}

// newTrackLocked makes the Track for an m-line, with one layer per rid the
// offer announced (at most MaxLayers); nil if the m-line was not announced
// as a source, which also bounds how many tracks one participant can make
// the server carry.
func (p *Publisher) newTrackLocked(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) *Track {
	mid := ""
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			mid = tr.Mid()
			break
		}
	}
	source, ok := p.sources[mid]
	if !ok {
		return nil
	}
	p.seq++
	t := &Track{
		id:        fmt.Sprintf("%s-%d", p.params.Label, p.seq),
		publisher: p.params.Label,
		source:    source,
		kind:      remote.Kind(),
		codec:     remote.Codec().RTPCodecCapability,
		pc:        p.pc,
		stats:     p.stats,
	}
	var rids []string
	for _, r := range receiver.Tracks() {
		rids = append(rids, r.RID())
	}
	ordered := orderLayers(rids)
	for i, rid := range ordered[:min(len(ordered), MaxLayers)] {
		t.layers = append(t.layers, &layer{index: i, rid: rid, cache: &packetCache{}})
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		if ext.URI == AudioLevelURI {
			t.levelExt = uint8(ext.ID)
		}
	}
	return t
}

// layerRank orders the rids Plausch clients use: quarter, half, full size.
var layerRank = map[string]int{"q": 0, "h": 1, "f": 2}

// orderLayers puts rids smallest layer first: by Plausch's names when all
// are known, else in the order of the offer (which browsers keep as given,
// conventionally smallest first).
func orderLayers(rids []string) []string {
	if len(rids) == 0 {
		return []string{""}
	}
	for _, r := range rids {
		if _, ok := layerRank[r]; !ok {
			return rids
		}
	}
	out := slices.Clone(rids)
	slices.SortFunc(out, func(a, b string) int { return layerRank[a] - layerRank[b] })
	return out
}

func (t *Track) layerFor(rid string) *layer {
	for _, l := range t.layers {
		if l.rid == rid {
			return l
		}
	}
	return nil
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

// candidateQueue holds candidates that arrive before the remote
// description, and guards all remote candidates of the connection.
type candidateQueue struct {
	guard  candidateGuard
	queued []webrtc.ICECandidateInit
}

const maxQueuedCandidates = 32

func newCandidateQueue(p candidatePolicy) candidateQueue {
	return candidateQueue{guard: newCandidateGuard(p)}
}

// add takes a trickled candidate. One the server does not use (an address
// it does not send to, one over the budget) is dropped without a word: a
// browser sends its private addresses too, and that is no fault.
func (q *candidateQueue) add(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit) error {
	// Checked now, so a bad candidate is reported even before the offer.
	parsed, err := ice.UnmarshalCandidate(c.Candidate)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	if !q.guard.policy.usable(parsed) {
		return nil
	}
	if pc.RemoteDescription() == nil {
		if len(q.queued) >= maxQueuedCandidates {
			return ErrTooManyCandidates
		}
		q.queued = append(q.queued, c)
		return nil
	}
	if !q.guard.admit(parsed) {
		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	return nil
}

// filter leaves out of a remote description (desc, parsed from raw) the
// candidates the guard does not admit, and returns the description to
// apply.
func (q *candidateQueue) filter(desc *sdp.SessionDescription, raw string) (string, error) {
	if q.guard.filterDescription(desc) == 0 {
		return raw, nil
	}
	b, err := desc.Marshal()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	return string(b), nil
}

func (q *candidateQueue) flush(pc *webrtc.PeerConnection) {
	for _, c := range q.queued {
		// A bad queued candidate cannot be reported any more; it is skipped.
		if parsed, err := ice.UnmarshalCandidate(c.Candidate); err == nil && q.guard.admit(parsed) {
			_ = pc.AddICECandidate(c)
		}
	}
	q.queued = nil
}
