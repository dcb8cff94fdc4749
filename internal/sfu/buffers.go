package sfu

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5/packetio"
)

// Pion gives every stream (SSRC) that arrives on a connection a buffer, for
// RTP and for RTCP, and keeps the stream until the connection closes, read
// or not. A stream it cannot place (an SSRC nobody declared, a layer the
// m-line lacks, RTCP about a sender that is gone) is never read and fills
// its buffer up to Pion's limit, a megabyte for RTP: a client that sends
// on ever new SSRCs holds ever more of the server's memory.
//
// connBuffers is one connection's buffer factory. Its buffers keep Pion's
// limit each, and all of them together hold at most maxUnreadRTP (or
// maxUnreadRTCP) bytes not yet read: a packet beyond that is dropped, as
// when one buffer is full. A buffer whose data has waited abandonAfter
// without its reader taking any is abandoned: emptied, and what comes for
// it from then on is dropped, so that streams nobody reads (a browser's
// last packets on an m-line it just stopped, too) cannot use up the budget
// of those that are read.
type connBuffers struct {
	rtp, rtcp budget
	now       func() int64 // unix nanos
}

const (
	rtpBufferLimit  = 1_000_000 // Pion's own (srtp)
	rtcpBufferLimit = 100_000
	// Seconds of everything a publisher sends, should its readers fall
	// behind; nothing the server reads comes near it.
	maxUnreadRTP  = 2 << 20
	maxUnreadRTCP = 1 << 20
	// Far beyond any pause of a reader that is alive.
	abandonAfter = 10 * time.Second
)

// budget is the unread bytes of one connection's buffers of one kind.
type budget struct {
	unread atomic.Int64
	limit  int64
}

func newConnBuffers() *connBuffers {
	c := &connBuffers{now: func() int64 { return time.Now().UnixNano() }}
	c.rtp.limit, c.rtcp.limit = maxUnreadRTP, maxUnreadRTCP
	return c
}

// newBuffer is a webrtc.SettingEngine BufferFactory.
func (c *connBuffers) newBuffer(t packetio.BufferPacketType, _ uint32) io.ReadWriteCloser {
	b := &sharedBuffer{budget: &c.rtp, now: c.now}
	buf := packetio.NewBuffer()
	if t == packetio.RTCPBufferPacket {
		b.budget = &c.rtcp
		buf.SetLimitSize(rtcpBufferLimit)
	} else {
		buf.SetLimitSize(rtpBufferLimit)
	}
	b.buf.Store(buf)
	return b
}

// sharedBuffer is a packet buffer whose unread bytes count against its
// connection's budget.
type sharedBuffer struct {
	budget *budget
	now    func() int64
	buf    atomic.Pointer[packetio.Buffer] // nil once abandoned or closed

	mu sync.Mutex
	// held is what the buffer has counted against the budget: its size,
	// but for packets read and not yet settled.
	held int64
	// waiting is since when data has waited for the reader: when the
	// buffer last went from empty to not, or the reader last took a packet.
	waiting int64
}

// WriteWithAttributes queues a packet, or drops it (packetio.ErrFull)
// when the connection's budget or the buffer is full, or nobody reads it.
func (b *sharedBuffer) WriteWithAttributes(p []byte, attrs packetio.Attributes) (int, error) {
	size := int64(len(p) + 2) // as packetio counts: two framing bytes
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := b.buf.Load()
	if buf == nil {
		return 0, packetio.ErrFull
	}
	now := b.now()
	if b.held > 0 && now-b.waiting > int64(abandonAfter) {
		b.releaseLocked()
		return 0, packetio.ErrFull
	}
	if b.budget.unread.Add(size) > b.budget.limit {
		b.budget.unread.Add(-size)
		return 0, packetio.ErrFull
	}
	n, err := buf.Write(p, attrs)
	if err != nil {
		b.budget.unread.Add(-size)
		return n, err
	}
	if b.held == 0 {
		b.waiting = now
	}
	b.held += size
	return n, nil
}

// ReadWithAttributes takes the next packet and gives its bytes back to
// the budget. An abandoned or closed buffer reads as the end.
func (b *sharedBuffer) ReadWithAttributes(p []byte, attrs packetio.Attributes) (int, packetio.Attributes, error) {
	buf := b.buf.Load()
	if buf == nil {
		return 0, nil, io.EOF
	}
	n, attrs, err := buf.Read(p, attrs)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Load() == buf { // else released already
		size := int64(buf.Size())
		b.budget.unread.Add(size - b.held)
		b.held = size
		if size > 0 {
			// What is left waits from now; an empty buffer starts
			// waiting at its next write.
			b.waiting = b.now()
		}
	}
	return n, attrs, err
}

// releaseLocked drops the buffer, and with it what it holds.
func (b *sharedBuffer) releaseLocked() {
	if buf := b.buf.Swap(nil); buf != nil {
		b.budget.unread.Add(-b.held)
		b.held = 0
		_ = buf.Close() // a reader waiting in it ends
	}
}

func (b *sharedBuffer) Write(p []byte) (int, error) { return b.WriteWithAttributes(p, nil) }

func (b *sharedBuffer) Read(p []byte) (int, error) {
	n, _, err := b.ReadWithAttributes(p, nil)
	return n, err
}

// Close ends the buffer and gives all it held back to the budget.
func (b *sharedBuffer) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releaseLocked()
	return nil
}

// SetReadDeadline passes the stream's read deadline on to the buffer.
func (b *sharedBuffer) SetReadDeadline(t time.Time) error {
	if buf := b.buf.Load(); buf != nil {
		return buf.SetReadDeadline(t)
	}
	return nil
}
