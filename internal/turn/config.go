package turn

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"
)

// Config is what a TURN server needs. The zero value of every field but
// RelayIP is replaced by its default (Defaults).
type Config struct {
	// Secret signs the credentials (HMAC-SHA1, the TURN REST scheme). Empty:
	// random per process, which is all the built-in server needs. An
	// external coturn with use-auth-secret and static-auth-secret=<the same
	// secret> accepts credentials made with it.
	Secret []byte
	// Realm is the long-term-credential realm; a request for another realm
	// is refused.
	Realm string

	// RelayIP is the relayed address announced to clients: the server's
	// public IP. It also decides the address family of relay sockets.
	RelayIP netip.Addr
	// ListenIP is where relay sockets are bound; the unspecified address of
	// RelayIP's family by default, so that a server behind 1:1 NAT can
	// announce a public RelayIP it cannot bind.
	ListenIP netip.Addr
	// RelayPorts is the inclusive range of relay socket ports (open it in
	// the firewall); 0, 0 lets the kernel pick any free port.
	RelayPorts [2]uint16

	// CredentialTTL is how long a credential stays valid. Browsers refresh
	// allocations and permissions with the credential they were given, so
	// a credential that expires during a meeting ends its relayed media.
	CredentialTTL time.Duration

	// Own are the server's own media addresses (the SFU's UDP port): always
	// allowed as peers, even when loopback or private. The relay guard lets
	// nothing else through to the server's own IPs, except the relayed
	// addresses of other allocations.
	Own []netip.AddrPort
	// SelfIPs are the server's own addresses, to which only Own ports may
	// be relayed. Nil: every interface address, read in New; RelayIP,
	// ListenIP and Own's IPs are always added.
	SelfIPs []netip.Addr
	// Allow opens prefixes that the relay guard refuses by default (private
	// networks, say, for a server inside a company network). Deny refuses
	// prefixes that would otherwise be allowed. Deny wins over Allow; Own
	// wins over both.
	Allow, Deny []netip.Prefix

	// MaxAllocationsPerUser is how many allocations one user (participant)
	// may hold at once; -1 is no limit.
	MaxAllocationsPerUser int
	// MaxBitrate is the limit, in bits per second, of each direction of each
	// allocation; packets beyond it are dropped. -1 is no limit.
	MaxBitrate int64
	// IdleTimeout closes a TCP or TLS connection that holds no allocation
	// for this long: from its start, or from the end of its last
	// allocation. While it holds one, the allocation's lifetime decides.
	IdleTimeout time.Duration

	// Log receives the server's few lines; they never carry an address, a
	// username or a participant id. Pion's own log lines name addresses
	// and are dropped.
	Log *slog.Logger
}

// The defaults, and why.
const (
	defaultRealm = "plausch"
	// Longer than any meeting: a credential expiring mid-meeting ends the
	// relayed media at the next refresh. Under a day, so a credential
	// copied out of a browser is useless tomorrow; leaving revokes it at
	// once in any case (EndUser).
	defaultCredentialTTL = 12 * time.Hour
	// A browser makes one allocation per peer connection, TURN URL and
	// local network: 3 peer connections x 3 URLs (UDP, TCP, TLS) x 2
	// networks = 18, plus room for an ICE restart's new allocations while
	// the old ones are being released.
	defaultMaxAllocations = 24
	// Above what one peer connection of a participant carries (a subscribe
	// connection of nine 640x360 videos is about 7 Mbit/s). Beyond it the
	// drops read as a 20 Mbit/s link to the SFU's congestion control, which
	// adapts: a cap on abuse, not a failure for heavy users.
	defaultMaxBitrate = 20_000_000
	// A browser allocates within a few round trips of connecting; a
	// connection that has not done so in 30 s is not a browser's.
	defaultIdleTimeout = 30 * time.Second
	// minSecret is the shortest secret accepted: 128 bits.
	minSecret = 16
)

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	if c.Realm == "" {
		c.Realm = defaultRealm
	}
	if c.CredentialTTL == 0 {
		c.CredentialTTL = defaultCredentialTTL
	}
	if c.MaxAllocationsPerUser == 0 {
		c.MaxAllocationsPerUser = defaultMaxAllocations
	}
	if c.MaxBitrate == 0 {
		c.MaxBitrate = defaultMaxBitrate
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = defaultIdleTimeout
	}
	if !c.ListenIP.IsValid() && c.RelayIP.IsValid() {
		if c.RelayIP.Unmap().Is4() {
			c.ListenIP = netip.IPv4Unspecified()
		} else {
			c.ListenIP = netip.IPv6Unspecified()
		}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every problem of a filled-in Config.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Secret) > 0 && len(c.Secret) < minSecret {
		bad("turn: secret of %d bytes: at least %d needed", len(c.Secret), minSecret)
	}
	if c.Realm == "" {
		bad("turn: empty realm")
	}
	relay := c.RelayIP.Unmap()
	switch {
	case !relay.IsValid():
		bad("turn: no relay IP")
	case relay.IsUnspecified() || relay.IsMulticast():
		bad("turn: relay IP %v is not a unicast address", relay)
	}
	if c.ListenIP.IsValid() && relay.IsValid() && c.ListenIP.Unmap().Is4() != relay.Is4() {
		bad("turn: listen IP %v and relay IP %v are of different families", c.ListenIP, relay)
	}
	if lo, hi := c.RelayPorts[0], c.RelayPorts[1]; (lo == 0) != (hi == 0) || lo > hi {
		bad("turn: relay ports %d-%d: give both ends, lowest first, or neither", lo, hi)
	}
	if c.CredentialTTL < time.Minute {
		bad("turn: credential lifetime %v: at least a minute", c.CredentialTTL)
	}
	for _, o := range c.Own {
		if !o.IsValid() || o.Port() == 0 || o.Addr().Unmap().IsUnspecified() {
			bad("turn: own media address %v: an IP and a port are needed (the SFU on one UDP port)", o)
		}
	}
	for _, p := range append(append([]netip.Prefix(nil), c.Allow...), c.Deny...) {
		if !p.IsValid() {
			bad("turn: invalid prefix %v", p)
		}
	}
	if c.MaxAllocationsPerUser < -1 || c.MaxAllocationsPerUser == 0 {
		bad("turn: allocations per user %d: positive, or -1 for no limit", c.MaxAllocationsPerUser)
	}
	if c.MaxBitrate < -1 || c.MaxBitrate == 0 {
		bad("turn: bitrate %d: positive, or -1 for no limit", c.MaxBitrate)
	} else if c.MaxBitrate > 0 && c.MaxBitrate < minBitrate {
		bad("turn: bitrate %d bit/s: at least %d", c.MaxBitrate, minBitrate)
	}
	if c.IdleTimeout <= 0 {
		bad("turn: idle timeout %v: positive", c.IdleTimeout)
	}
	return errors.Join(errs...)
}
