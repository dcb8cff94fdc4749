package sfu

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/pion/transport/v5/packetio"
)

// The buffers of one connection share their budget of unread bytes: what
// one holds, another cannot; reading gives it back.
func TestBuffersShareABudget(t *testing.T) {
	c := newConnBuffers()
	a := c.newBuffer(packetio.RTPBufferPacket, 1)
	pkt := make([]byte, 1198) // 1200 bytes as counted
	for i := 0; ; i++ {
		if _, err := a.Write(pkt); err != nil {
			if !errors.Is(err, packetio.ErrFull) {
				t.Fatal(err)
			}
			if i*1200 > rtpBufferLimit {
				t.Fatalf("a stream took %d bytes", i*1200)
			}
			break
		}
	}
	// Pion's limit is a megabyte a stream: the third fills the budget.
	b, third := c.newBuffer(packetio.RTPBufferPacket, 2), c.newBuffer(packetio.RTPBufferPacket, 3)
	for _, x := range []io.Writer{b, third} {
		for {
			if _, err := x.Write(pkt); err != nil {
				break
			}
		}
	}
	if got := c.rtp.unread.Load(); got > maxUnreadRTP || got < maxUnreadRTP-1200 {
		t.Fatalf("%d bytes unread when full, budget %d", got, maxUnreadRTP)
	}
	if _, err := c.newBuffer(packetio.RTCPBufferPacket, 4).Write(pkt); err != nil {
		t.Errorf("RTCP has a budget of its own: %v", err)
	}
	buf := make([]byte, 1500)
	if n, err := a.Read(buf); err != nil || n != len(pkt) {
		t.Fatalf("read %d, %v", n, err)
	}
	if _, err := third.Write(pkt); err != nil {
		t.Errorf("no room after a read: %v", err)
	}
	held := c.rtp.unread.Load()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := c.rtp.unread.Load(); got >= held {
		t.Errorf("closing gave nothing back: %d unread, %d before", got, held)
	}
	if _, err := b.Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("read after close: %v", err)
	}
}

// A buffer whose data waits abandonAfter for its reader is emptied and
// takes nothing more; one whose reader keeps up never is.
func TestUnreadBufferIsAbandoned(t *testing.T) {
	c := newConnBuffers()
	now := int64(0)
	c.now = func() int64 { return now }
	read := c.newBuffer(packetio.RTPBufferPacket, 1)
	unread := c.newBuffer(packetio.RTPBufferPacket, 2)
	pkt, buf := make([]byte, 100), make([]byte, 1500)
	for range 20 { // up to abandonAfter
		for _, b := range []io.ReadWriteCloser{read, unread} {
			if _, err := b.Write(pkt); err != nil {
				t.Fatalf("at %v: %v", time.Duration(now), err)
			}
		}
		if _, err := read.Read(buf); err != nil {
			t.Fatal(err)
		}
		now += int64(abandonAfter / 20)
	}
	now = int64(abandonAfter) + 1
	if _, err := unread.Write(pkt); !errors.Is(err, packetio.ErrFull) {
		t.Fatalf("an unread buffer still takes packets: %v", err)
	}
	if got := c.rtp.unread.Load(); got != 0 {
		t.Errorf("%d bytes still counted", got)
	}
	if _, err := unread.Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("reading an abandoned buffer: %v", err)
	}
	if _, err := read.Write(pkt); err != nil {
		t.Errorf("the read buffer: %v", err)
	}
}

// BenchmarkReceiveBuffer is what a received packet costs in its stream's
// buffer: written by Pion's SRTP session, read by the track's read loop;
// against Pion's own buffer.
func BenchmarkReceiveBuffer(b *testing.B) {
	pkt, buf := make([]byte, 1200), make([]byte, 1500)
	for _, c := range []struct {
		name string
		rw   io.ReadWriter
	}{
		{"pion", func() io.ReadWriter { p := packetio.NewBuffer(); p.SetLimitSize(rtpBufferLimit); return pionBuffer{p} }()},
		{"shared", newConnBuffers().newBuffer(packetio.RTPBufferPacket, 1)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.rw.Write(pkt); err != nil {
					b.Fatal(err)
				}
				if _, err := c.rw.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// pionBuffer is Pion's buffer as SRTP uses it, without attributes.
type pionBuffer struct{ *packetio.Buffer }

func (p pionBuffer) Write(b []byte) (int, error) { return p.Buffer.Write(b, nil) }

func (p pionBuffer) Read(b []byte) (int, error) {
	n, _, err := p.Buffer.Read(b, nil)
	return n, err
}
