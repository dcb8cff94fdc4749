package room

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// The gate: who gets into a meeting, who waits at its lobby, and the rules
// per source (a client's address as package source names it, or "" when
// unknown, to which no per-source rule applies).

// Errors of joining a meeting with a password or a lobby.
var (
	ErrPasswordRequired = errors.New("room: this meeting has a password")
	ErrWrongPassword    = errors.New("room: wrong password")
	ErrLobbyFull        = errors.New("room: too many people are waiting")
	ErrE2EERequired     = errors.New("room: this meeting requires end-to-end encrypted media")
)

// TooManyAttemptsError says that password attempts are used up for now
// and there is no place to knock at the lobby either.
type TooManyAttemptsError struct{ RetryAfter time.Duration }

func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("room: too many password attempts, retry after %v", e.RetryAfter)
}

// WaitReason says why someone waits at the lobby.
type WaitReason int

// Reasons to wait.
const (
	WaitLobby WaitReason = iota // the meeting's lobby is on
	// WaitPassword: out of password attempts, so the password was not
	// even compared: a moderator decides instead.
	WaitPassword
	// WaitRemoved: someone from the same source was removed from this
	// meeting lately.
	WaitRemoved
)

// ConnectionAttemptsPerMinute is the wrong passwords one connection may
// send a minute (all at once, too).
const ConnectionAttemptsPerMinute = 5

// NewAttemptLimiter is the per-connection budget of wrong passwords. A
// connection belongs to one source, whose own budget also applies; this
// one still counts where the source is unknown.
func NewAttemptLimiter() *rate.Limiter {
	return rate.NewLimiter(rate.Every(time.Minute/ConnectionAttemptsPerMinute), ConnectionAttemptsPerMinute)
}

// enterLocked lets p in, or has it wait at the lobby, if the rules allow.
func (r *Room) enterLocked(p *Participant, password string, conn *rate.Limiter, max int) error {
	if max > 0 && len(r.parts) >= max {
		return ErrRoomFull
	}
	if r.e2ee && !p.e2ee {
		return ErrE2EERequired
	}
	why, retry := WaitLobby, time.Duration(0)
	if r.password != nil {
		if password == "" {
			return ErrPasswordRequired
		}
		checked, wait, err := r.checkPasswordLocked(p, password, conn)
		if err != nil {
			return err
		}
		if !checked {
			why, retry = WaitPassword, wait
		}
	}
	if why == WaitLobby && p.source != "" && r.removed != nil && r.removed.Marked(p.source) {
		why = WaitRemoved
	}
	// The first one in has nobody to knock at, and a new meeting has no
	// password, lobby or removal yet.
	if len(r.parts) > 0 && (r.lobby || why != WaitLobby) {
		return r.knockLocked(p, why, retry)
	}
	p.room = r
	r.admitLocked(p)
	return nil
}

// checkPasswordLocked compares password with the meeting's, if every
// budget of wrong guesses has one left: the connection's, the source's in
// this meeting, and the meeting's for all sources together. When one is
// spent the password is not compared at all (checked false, with the time
// until it has one again), so a guesser learns nothing more. A wrong
// password costs one of each; the right one costs nothing, so many people
// joining from one address (a school class behind its router) are never
// held up by their own success.
func (r *Room) checkPasswordLocked(p *Participant, password string, conn *rate.Limiter) (checked bool, wait time.Duration, err error) {
	now := r.now()
	wait = max(limiterDelay(conn, now), limiterDelay(r.meetingAttempts, now))
	if p.source != "" && r.sourceAttempts != nil {
		wait = max(wait, r.sourceAttempts.Delay(p.source))
	}
	if wait > 0 {
		return false, wait, nil
	}
	if hmac.Equal(r.hashPassword(password), r.password) {
		return true, 0, nil
	}
	for _, l := range []*rate.Limiter{conn, r.meetingAttempts} {
		if l != nil {
			l.AllowN(now, 1)
		}
	}
	if p.source != "" && r.sourceAttempts != nil {
		r.sourceAttempts.Allow(p.source)
	}
	return true, 0, ErrWrongPassword
}

// limiterDelay is how long until l has a token; 0 if it has one or is nil.
func limiterDelay(l *rate.Limiter, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 || l.Limit() <= 0 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.Limit()) * float64(time.Second))
}

// knockLocked puts p in the lobby, if there is a place for it: the lobby
// has a size, and one source may take only some of its places, so nobody
// fills it for everyone else.
func (r *Room) knockLocked(p *Participant, why WaitReason, retry time.Duration) error {
	if !r.lobbyPlaceLocked(p.source) {
		if why == WaitPassword {
			return &TooManyAttemptsError{RetryAfter: max(retry, time.Second)}
		}
		return ErrLobbyFull
	}
	p.room = r
	p.wait, p.waitingSince = why, r.now()
	r.waiting = append(r.waiting, p)
	p.sink.Waiting(why)
	r.tellDrainingLocked(p)
	r.tellModeratorsLocked(func(m Sink) { m.Knock(p.id, p.name, why) })
	return nil
}

func (r *Room) lobbyPlaceLocked(src string) bool {
	if r.cfg.MaxWaiting > 0 && len(r.waiting) >= r.cfg.MaxWaiting {
		return false
	}
	if src == "" || r.cfg.MaxWaitingPerSource <= 0 {
		return true
	}
	n := 0
	for _, w := range r.waiting {
		if w.source == src {
			n++
		}
	}
	return n < r.cfg.MaxWaitingPerSource
}

// expireWaiting turns away whoever has waited at the lobby longer than the
// time limit: a waiting place is not for ever.
func (r *Room) expireWaiting() {
	if r.cfg.LobbyTimeout <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for len(r.waiting) > 0 && now.Sub(r.waiting[0].waitingSince) >= r.cfg.LobbyTimeout {
		r.turnAwayLocked(r.waiting[0], LobbyTimedOut)
	}
}
