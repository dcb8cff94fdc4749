package turn

import (
	"errors"
	"net"
	"sync"
	"time"
)

var (
	errQuota   = errors.New("turn: allocation quota reached")
	errRevoked = errors.New("turn: user has left")
	errClosed  = errors.New("turn: server closed")
)

// registry is the server's bookkeeping per user: live relay sockets (for
// the quota and EndUser), by port (for the guard and permission events), the stream
// connections that carry allocations, and the users who have left. Pion
// keeps allocations by 5-tuple only; this is how they are found by user.
type registry struct {
	mu      sync.Mutex
	max     int // allocations per user; -1: no limit
	closed  bool
	users   map[string]map[*relayConn]struct{}
	ports   map[uint16]*relayConn // live relay sockets (of one family: one per port)
	streams map[string]*streamConn
	// revoked holds users who left, until every credential made for them
	// before has expired (the value).
	revoked   map[string]time.Time
	nextPrune time.Time
	totals    counters // of relay sockets already closed
}

func newRegistry(max int) *registry {
	return &registry{
		max:     max,
		users:   map[string]map[*relayConn]struct{}{},
		ports:   map[uint16]*relayConn{},
		streams: map[string]*streamConn{},
		revoked: map[string]time.Time{},
	}
}

// underQuota says whether user may allocate once more; pion asks before it
// allocates, so that a refusal gets the proper 486 answer. add enforces it
// again, atomically.
func (r *registry) underQuota(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max < 0 || len(r.users[user]) < r.max
}

// add registers a new relay socket of user, or refuses it.
func (r *registry) add(c *relayConn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return errClosed
	case r.isRevoked(c.user):
		// Authenticated before the user left, allocating after.
		return errRevoked
	case r.max >= 0 && len(r.users[c.user]) >= r.max:
		return errQuota
	}
	set := r.users[c.user]
	if set == nil {
		set = map[*relayConn]struct{}{}
		r.users[c.user] = set
	}
	set[c] = struct{}{}
	r.ports[c.port] = c
	return nil
}

// remove forgets a closed relay socket and keeps its counts.
func (r *registry) remove(c *relayConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := r.users[c.user]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(r.users, c.user)
	}
	if r.ports[c.port] == c {
		delete(r.ports, c.port)
	}
	r.totals.add(c.counts.snapshot())
}

// relayPort says whether port belongs to a live relay socket.
func (r *registry) relayPort(port uint16) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ports[port] != nil
}

// relay is the live relay socket at the relayed address addr, or nil.
func (r *registry) relay(addr net.Addr) *relayConn {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ports[uint16(ua.Port)]
}

// revoke marks user as gone until until, and returns its relay sockets
// and stream connections for the caller to close outside the lock.
func (r *registry) revoke(user string, now, until time.Time) (relays []*relayConn, streams []*streamConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked[user] = until
	if now.After(r.nextPrune) {
		for u, t := range r.revoked {
			if now.After(t) {
				delete(r.revoked, u)
			}
		}
		r.nextPrune = now.Add(time.Minute)
	}
	for c := range r.users[user] {
		relays = append(relays, c)
	}
	for _, s := range r.streams {
		if s.belongsTo(user) {
			streams = append(streams, s)
		}
	}
	return relays, streams
}

// unrevoke lets a user back in: new credentials were made for it (a
// rejoin under the same id).
func (r *registry) unrevoke(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.revoked, user)
}

func (r *registry) revokedUser(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isRevoked(user)
}

func (r *registry) isRevoked(user string) bool {
	_, ok := r.revoked[user]
	return ok
}

// addStream registers an accepted stream connection.
func (r *registry) addStream(s *streamConn) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errClosed
	}
	r.streams[s.key] = s
	return nil
}

func (r *registry) removeStream(s *streamConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.streams[s.key] == s {
		delete(r.streams, s.key)
	}
}

// allocated tells the stream connection behind a new or deleted
// allocation (if it came over TCP or TLS) about it.
func (r *registry) allocated(src, dst net.Addr, user string, delta int) {
	r.mu.Lock()
	s := r.streams[streamKey(src, dst)]
	r.mu.Unlock()
	if s != nil {
		s.allocated(user, delta)
	}
}

// close refuses everything from now on and returns what is still open.
func (r *registry) close() (relays []*relayConn, streams []*streamConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, set := range r.users {
		for c := range set {
			relays = append(relays, c)
		}
	}
	for _, s := range r.streams {
		streams = append(streams, s)
	}
	return relays, streams
}

// stats adds the live relay sockets' counts to the closed ones'.
func (r *registry) stats() (live int, c counters) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c = r.totals
	for _, set := range r.users {
		live += len(set)
		for rc := range set {
			c.add(rc.counts.snapshot())
		}
	}
	return live, c
}
