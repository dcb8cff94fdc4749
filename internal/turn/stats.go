package turn

import "sync/atomic"

// Stats are the server's counters since New: numbers only, nothing about
// who relayed what to whom.
type Stats struct {
	Allocations      int    // live now
	AllocationsTotal uint64 // made since New
	// Payload bytes and packets relayed, per direction.
	BytesToPeers, BytesFromPeers     uint64
	PacketsToPeers, PacketsFromPeers uint64
	// Packets dropped by the relay guard (per packet) and by the bitrate
	// limit.
	GuardDropped, RateDropped uint64
	// Requests refused: permissions and channel binds by the relay guard,
	// allocations by the per-user quota, and failed authentications
	// (expired, forged, wrong realm, user who left).
	PermissionsRefused, QuotaRefused, AuthFailures uint64
}

// counters are one relay socket's, written by its own reading and writing
// goroutines only: no counter is shared between allocations, so relaying
// does not contend on a cache line.
type counters struct {
	bytesOut, bytesIn, pktsOut, pktsIn, guardDrops, rateDrops uint64
}

func (c *counters) add(o counters) {
	c.bytesOut += o.bytesOut
	c.bytesIn += o.bytesIn
	c.pktsOut += o.pktsOut
	c.pktsIn += o.pktsIn
	c.guardDrops += o.guardDrops
	c.rateDrops += o.rateDrops
}

type atomicCounters struct {
	bytesOut, bytesIn, pktsOut, pktsIn, guardDrops, rateDrops atomic.Uint64
}

func (a *atomicCounters) snapshot() counters {
	return counters{
		bytesOut: a.bytesOut.Load(), bytesIn: a.bytesIn.Load(),
		pktsOut: a.pktsOut.Load(), pktsIn: a.pktsIn.Load(),
		guardDrops: a.guardDrops.Load(), rateDrops: a.rateDrops.Load(),
	}
}

// serverCounters are the request-level counts, rare enough to share.
type serverCounters struct {
	allocations, permissionsRefused, quotaRefused, authFailures atomic.Uint64
}
