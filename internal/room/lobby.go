package room

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"slices"
)

func (r *Room) hashPassword(pw string) []byte {
	m := hmac.New(sha256.New, r.salt[:])
	m.Write([]byte(pw))
	return m.Sum(nil)
}

// SetPassword sets the meeting password, or removes it when pw is empty.
// Only the hash stays in memory.
func (r *Room) SetPassword(by *Participant, pw string) error {
	return r.moderate(by, func() error {
		if pw == "" {
			r.password = nil
		} else {
			_, _ = rand.Read(r.salt[:])
			r.password = r.hashPassword(pw)
		}
		r.broadcastSettingsLocked()
		return nil
	})
}

// SetLobby switches the lobby; switching it off admits everyone waiting
// for the lobby alone. Whose password was not checked, or whose source was
// removed lately, still waits for a moderator's own decision.
func (r *Room) SetLobby(by *Participant, on bool) error {
	return r.moderate(by, func() error {
		if r.lobby == on {
			return nil
		}
		r.lobby = on
		r.broadcastSettingsLocked()
		if !on {
			for _, w := range slices.Clone(r.waiting) {
				if w.wait == WaitLobby {
					r.admitWaitingLocked(w)
				}
			}
		}
		return nil
	})
}

// Admit lets a waiting person in.
func (r *Room) Admit(by *Participant, id string) error {
	return r.withWaiting(by, id, r.admitWaitingLocked)
}

// Deny turns a waiting person away.
func (r *Room) Deny(by *Participant, id string) error {
	return r.withWaiting(by, id, func(w *Participant) { r.turnAwayLocked(w, Denied) })
}

// withWaiting runs f on the waiting person id, if by may moderate.
func (r *Room) withWaiting(by *Participant, id string, f func(*Participant)) error {
	return r.moderate(by, func() error {
		i := slices.IndexFunc(r.waiting, func(w *Participant) bool { return w.id == id })
		if i < 0 {
			return ErrNotFound
		}
		f(r.waiting[i])
		return nil
	})
}

// turnAwayLocked takes w out of the lobby and tells it why.
func (r *Room) turnAwayLocked(w *Participant, why Reason) {
	r.waiting = slices.DeleteFunc(r.waiting, func(o *Participant) bool { return o == w })
	r.tellModeratorsLocked(func(m Sink) { m.KnockGone(w.id) })
	w.sink.Kicked(why)
}

func (r *Room) admitWaitingLocked(w *Participant) {
	r.waiting = slices.DeleteFunc(r.waiting, func(o *Participant) bool { return o == w })
	r.tellModeratorsLocked(func(m Sink) { m.KnockGone(w.id) })
	r.admitLocked(w)
}

func (r *Room) broadcastSettingsLocked() {
	s := r.settingsLocked()
	for _, o := range r.parts {
		o.sink.SettingsChanged(s)
	}
}

func (r *Room) tellModeratorsLocked(f func(Sink)) {
	for _, o := range r.parts {
		if o.moderator {
			f(o.sink)
		}
	}
}
