package room

import (
	"errors"
	"slices"
)

// Errors of moderation and messaging.
var (
	ErrForbidden = errors.New("room: only a moderator may do this")
	ErrNotFound  = errors.New("room: no such participant")
)

func (r *Room) mayModerateLocked(by *Participant) error {
	if !by.moderator || !slices.Contains(r.parts, by) {
		return ErrForbidden
	}
	return nil
}

// moderate runs f under the room's lock if by may moderate.
func (r *Room) moderate(by *Participant, f func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.mayModerateLocked(by); err != nil {
		return err
	}
	return f()
}

// onParticipant runs f on the participant id, if by may moderate.
func (r *Room) onParticipant(by *Participant, id string, f func(*Participant)) error {
	return r.moderate(by, func() error {
		p := r.findLocked(id)
		if p == nil {
			return ErrNotFound
		}
		f(p)
		return nil
	})
}

func (r *Room) findLocked(id string) *Participant {
	i := slices.IndexFunc(r.parts, func(p *Participant) bool { return p.id == id })
	if i < 0 {
		return nil
	}
	return r.parts[i]
}

// Mute switches off someone's microphone (kind "audio") or camera
// ("video"). Only they can switch it on again.
func (r *Room) Mute(by *Participant, id, kind string) error {
	return r.onParticipant(by, id, func(p *Participant) {
		r.muteLocked(by, p, kind)
	})
}

// MuteAll mutes everyone but the moderator who asks.
func (r *Room) MuteAll(by *Participant, kind string) error {
	return r.moderate(by, func() error {
		for _, p := range r.parts {
			if p != by {
				r.muteLocked(by, p, kind)
			}
		}
		return nil
	})
}

func (r *Room) muteLocked(by, p *Participant, kind string) {
	if kind == "audio" {
		if !p.audio {
			return
		}
		p.audio = false
	} else {
		if !p.video {
			return
		}
		p.video = false
	}
	applyMedia(p)
	p.sink.Muted(kind, by.id)
	r.broadcastUpdateLocked(p)
}

// Remove takes someone out of the meeting at once: their media stops being
// forwarded before their connection has even closed. They do not come
// straight back either: for a while, joins from their source knock at the
// lobby, whatever its setting.
func (r *Room) Remove(by *Participant, id string) error {
	return r.onParticipant(by, id, func(p *Participant) {
		r.removeLocked(p, Removed)
		if p.source != "" && r.removed != nil {
			r.removed.Mark(p.source)
		}
	})
}

// removeLocked makes p leave at once: its media stops being forwarded
// before its connection has even closed, and it is told why.
func (r *Room) removeLocked(p *Participant, why Reason) {
	for _, t := range p.tracks {
		t.SetPaused(true)
	}
	r.dropLocked(p)
	p.sink.Kicked(why)
}

// Grant makes someone a moderator.
func (r *Room) Grant(by *Participant, id string) error {
	return r.onParticipant(by, id, func(p *Participant) {
		if !p.moderator {
			r.makeModeratorLocked(p)
		}
	})
}

// makeModeratorLocked gives p the role, tells everyone (p too, so its app
// shows the controls) and shows p who is waiting.
func (r *Room) makeModeratorLocked(p *Participant) {
	p.moderator = true
	info := p.infoLocked()
	for _, o := range r.parts {
		o.sink.ParticipantUpdated(info)
	}
	for _, w := range r.waiting {
		p.sink.Knock(w.id, w.name, w.wait)
	}
}

// end ends the meeting for everyone, admitted or waiting.
func (r *Room) end(by *Participant) error {
	return r.moderate(by, func() error {
		for _, w := range r.waiting {
			w.sink.Kicked(Ended)
		}
		for _, p := range r.parts {
			for _, t := range p.tracks {
				t.SetPaused(true)
			}
			p.sink.Kicked(Ended)
		}
		r.parts, r.waiting = nil, nil
		return nil
	})
}

// RequireE2EE switches the requirement of end-to-end encrypted media.
// Switching it on removes everyone whose browser cannot do it: the meeting
// never carries unencrypted media silently.
func (r *Room) RequireE2EE(by *Participant, on bool) error {
	return r.moderate(by, func() error {
		if on && !by.e2ee {
			return ErrE2EERequired // it would remove the one who asks
		}
		if r.e2ee == on {
			return nil
		}
		r.e2ee = on
		if on {
			for _, w := range slices.Clone(r.waiting) {
				if !w.e2ee {
					r.turnAwayLocked(w, E2EERequired)
				}
			}
			for _, p := range slices.Clone(r.parts) {
				if !p.e2ee {
					r.removeLocked(p, E2EERequired)
				}
			}
		}
		r.broadcastSettingsLocked()
		return nil
	})
}

// AllowP2P allows or forbids direct media between two participants.
func (r *Room) AllowP2P(by *Participant, on bool) error {
	return r.moderate(by, func() error {
		if r.p2p == on {
			return nil
		}
		r.p2p = on
		r.broadcastSettingsLocked()
		r.updateModeLocked()
		return nil
	})
}

// Chat relays an encrypted message to everyone else, or to one participant.
func (r *Room) Chat(from *Participant, to, data string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.parts, from) {
		return ErrForbidden
	}
	if to == "" {
		for _, o := range r.parts {
			if o != from {
				o.sink.Chat(from.id, "", data)
			}
		}
		return nil
	}
	p := r.findLocked(to)
	if p == nil {
		return ErrNotFound
	}
	p.sink.Chat(from.id, to, data)
	return nil
}

// Relay passes opaque data (the browsers' key exchange) to one participant.
func (r *Room) Relay(from *Participant, to, data string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.parts, from) {
		return ErrForbidden
	}
	p := r.findLocked(to)
	if p == nil {
		return ErrNotFound
	}
	p.sink.Relay(from.id, data)
	return nil
}
