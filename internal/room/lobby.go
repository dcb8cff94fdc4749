package room

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/time/rate"
)

// Errors of joining a meeting with a password or a lobby.
var (
	ErrPasswordRequired = errors.New("room: this meeting has a password")
	ErrWrongPassword    = errors.New("room: wrong password")
	ErrLobbyFull        = errors.New("room: too many people are waiting")
	ErrE2EERequired     = errors.New("room: this meeting requires end-to-end encrypted media")
)

// TooManyAttemptsError says that password attempts are used up for now.
type TooManyAttemptsError struct{ RetryAfter time.Duration }

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("room: too many password attempts, retry after %v", e.RetryAfter)
}

// Password attempt budgets. A person who mistypes has a few tries at once;
// guessing is slowed to a handful a minute per connection and per meeting.
const (
	ConnectionAttemptsPerMinute = 5
	meetingAttemptsPerMinute    = 20
	maxWaiting                  = 50
)

// NewAttemptLimiter is the per-connection password attempt budget.
func NewAttemptLimiter() *rate.Limiter {
	return rate.NewLimiter(rate.Every(time.Minute/ConnectionAttemptsPerMinute), ConnectionAttemptsPerMinute)
}

// enterLocked lets p in, or into the lobby, if the password allows.
func (r *Room) enterLocked(p *Participant, password string, attempts *rate.Limiter, max int) error {
	if max > 0 && len(r.parts) >= max {
		return ErrRoomFull
	}
	if r.e2ee && !p.e2ee {
		return ErrE2EERequired
	}
	if r.password != nil {
		if password == "" {
			return ErrPasswordRequired
		}
		// The budgets are checked before the comparison, so a guesser
		// learns nothing once they are used up.
		if err := spendAttempt(attempts, r.attempts); err != nil {
			return err
		}
		if !hmac.Equal(r.hashPassword(password), r.password) {
			return ErrWrongPassword
		}
	}
	p.room = r
	if r.lobby && len(r.parts) > 0 {
		if len(r.waiting) >= maxWaiting {
			return ErrLobbyFull
		}
		r.waiting = append(r.waiting, p)
		p.sink.Waiting()
		r.tellDrainingLocked(p)
		r.tellModeratorsLocked(func(m Sink) { m.Knock(p.id, p.name) })
		return nil
	}
	r.admitLocked(p)
	return nil
}

// spendAttempt takes one attempt from every budget, or none if any is empty.
func spendAttempt(limiters ...*rate.Limiter) error {
	now := time.Now()
	var wait time.Duration
	reservations := make([]*rate.Reservation, 0, len(limiters))
	for _, l := range limiters {
		if l == nil {
			continue
		}
		res := l.ReserveN(now, 1)
		reservations = append(reservations, res)
		wait = max(wait, res.DelayFrom(now))
	}
	if wait > 0 {
		for _, res := range reservations {
			res.CancelAt(now)
		}
		return &TooManyAttemptsError{RetryAfter: wait}
	}
	return nil
}

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

// SetLobby switches the lobby; switching it off admits everyone waiting.
func (r *Room) SetLobby(by *Participant, on bool) error {
	return r.moderate(by, func() error {
		if r.lobby == on {
			return nil
		}
		r.lobby = on
		r.broadcastSettingsLocked()
		if !on {
			for len(r.waiting) > 0 {
				r.admitWaitingLocked(r.waiting[0])
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
