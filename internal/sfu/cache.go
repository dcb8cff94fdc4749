package sfu

import "sync"

// cacheSize is how many recent packets each layer keeps for retransmission
// (a power of two): at 1.5 Mbit/s about 2 s of video, more for the smaller
// layers, 5 s of audio; older packets would arrive too late to help anyway.
const cacheSize = 256

// packetCache keeps the latest packets of one incoming stream, once for all
// its subscribers; a NACK from any of them is answered from here. Slots are
// reused, so a warm cache allocates nothing.
type packetCache struct {
	mu    sync.Mutex
	slots [cacheSize]cacheSlot
}

type cacheSlot struct {
	seq   uint16
	valid bool
	buf   []byte
}

// put stores a copy of the raw packet with sequence number seq.
func (c *packetCache) put(seq uint16, raw []byte) {
	c.mu.Lock()
	s := &c.slots[seq%cacheSize]
	if cap(s.buf) < len(raw) {
		// Audio packets are small: a slot grows to a full MTU only when
		// a packet needs it.
		size := 256
		if len(raw) > size {
			size = 1500
		}
		s.buf = make([]byte, len(raw), max(len(raw), size))
	}
	s.buf = s.buf[:len(raw)]
	copy(s.buf, raw)
	s.seq, s.valid = seq, true
	c.mu.Unlock()
}

// get copies the packet with sequence number seq into dst and returns it, or
// nil if it is no longer (or was never) cached.
func (c *packetCache) get(seq uint16, dst []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &c.slots[seq%cacheSize]
	if !s.valid || s.seq != seq {
		return nil
	}
	return append(dst[:0], s.buf...)
}
