package room

import (
	"slices"
	"time"

	"plausch.dev/plausch/internal/sfu"
)

// Video is one remote video a participant shows, and its size in device
// pixels.
type Video struct {
	Participant, Source string
	Width, Height       int
}

// SetView records which videos p shows, and lastN (0: no limit) how many
// cameras at most; p then receives just those.
func (r *Room) SetView(p *Participant, videos []Video, lastN int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.view, p.lastN, p.viewSet = slices.Clone(videos), lastN, true
	r.applyViewLocked(p)
}

// applyViewLocked tells p's subscriber which tracks to send, most important
// first: screen shares, then cameras by how recently their owner spoke
// (the dominant speaker first), cut to lastN cameras.
func (r *Room) applyViewLocked(p *Participant) {
	if !p.viewSet {
		return
	}
	var screens, cameras []sfu.Want
	for _, v := range p.view {
		o := r.partByIDLocked(v.Participant)
		if o == nil || o == p {
			continue
		}
		for _, t := range o.tracks {
			if t.Source() != v.Source {
				continue
			}
			w := sfu.Want{Track: t, Width: v.Width, Height: v.Height}
			if v.Source == "screen" {
				screens = append(screens, w)
			} else {
				cameras = append(cameras, w)
			}
		}
	}
	slices.SortStableFunc(cameras, func(a, b sfu.Want) int {
		return r.speakerRankLocked(a.Track.Publisher()) - r.speakerRankLocked(b.Track.Publisher())
	})
	if p.lastN > 0 && len(cameras) > p.lastN {
		cameras = cameras[:p.lastN]
	}
	p.sub.SetWants(append(screens, cameras...))
}

// speakerRankLocked orders participants by how recently they spoke: the
// dominant speaker 0, then the others who spoke, latest first; those who
// never spoke come last, in the order of the view.
func (r *Room) speakerRankLocked(id string) int {
	if id == r.dominant {
		return 0
	}
	if i := slices.Index(r.recent, id); i >= 0 {
		return i + 1
	}
	return len(r.recent) + 1
}

func (r *Room) partByIDLocked(id string) *Participant {
	for _, o := range r.parts {
		if o.id == id {
			return o
		}
	}
	return nil
}

// applyViewsLocked refits everyone's subscriptions, after tracks or the
// speaker order changed.
func (r *Room) applyViewsLocked() {
	for _, p := range r.parts {
		r.applyViewLocked(p)
		r.applyAudioLocked(p)
	}
}

// applyAudioLocked forwards to p only the microphones of the audioLastN
// who spoke last, when the server limits audio.
func (r *Room) applyAudioLocked(p *Participant) {
	if r.audioLastN <= 0 {
		return
	}
	loud := r.recent[:min(r.audioLastN, len(r.recent))]
	for _, o := range r.parts {
		if o == p {
			continue
		}
		for _, t := range o.tracks {
			if t.Source() == "microphone" {
				p.sub.SetPaused(t, !slices.Contains(loud, o.id))
			}
		}
	}
}

// dominantTicks is how many speaker checks in a row someone must be the
// loudest to become the dominant speaker: at the default 250 ms, most of a
// second, so a cough or a "hm" does not switch the speaker view.
const dominantTicks = 3

// updateDominantLocked follows who speaks: the recency order for last-N,
// and the dominant speaker, the loudest of those speaking, with
// hysteresis.
func (r *Room) updateDominantLocked(speaking []string, loudest string) {
	orderChanged := false
	for _, id := range speaking {
		if len(r.recent) > 0 && r.recent[0] == id {
			continue
		}
		r.recent = slices.DeleteFunc(r.recent, func(s string) bool { return s == id })
		r.recent = slices.Insert(r.recent, 0, id)
		orderChanged = true
	}
	switch {
	case loudest == "" || loudest == r.dominant:
		r.candidate, r.candidateTicks = "", 0
	case loudest == r.candidate:
		r.candidateTicks++
	default:
		r.candidate, r.candidateTicks = loudest, 1
	}
	if r.candidateTicks >= dominantTicks || (r.dominant == "" && loudest != "") {
		r.dominant, r.candidate, r.candidateTicks = loudest, "", 0
		for _, p := range r.parts {
			p.sink.Dominant(loudest)
		}
		orderChanged = true
	}
	if orderChanged {
		r.applyViewsLocked()
	}
}

// forgetSpeakerLocked drops a participant who left from the speaker order.
func (r *Room) forgetSpeakerLocked(id string) {
	r.recent = slices.DeleteFunc(r.recent, func(s string) bool { return s == id })
	if r.candidate == id {
		r.candidate, r.candidateTicks = "", 0
	}
	if r.dominant == id {
		r.dominant = ""
	}
}

// Quality is what the server measured of one participant's connection.
type Quality struct {
	ID       string
	Up, Down sfu.LinkQuality
}

// qualityEvery is how often everyone gets the connection figures.
const qualityEvery = 2 * time.Second

// sendQuality gives everyone the connection figures of everyone.
func (r *Room) sendQuality() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.parts) == 0 {
		return
	}
	list := make([]Quality, 0, len(r.parts))
	for _, p := range r.parts {
		if p.quality == nil {
			continue
		}
		up, down := p.quality()
		list = append(list, Quality{ID: p.id, Up: up, Down: down})
	}
	for _, p := range r.parts {
		p.sink.Quality(list)
	}
}
