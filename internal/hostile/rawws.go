package hostile

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// WebSocket opcodes (RFC 6455, 5.2), including ones no opcode means, so
// that a test can send them.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Frame is one WebSocket frame as it goes over the wire.
type Frame struct {
	Fin     bool
	RSV     byte // the three reserved bits, 0..7; no extension gives them a meaning
	Opcode  byte
	Payload []byte
	// Unmasked sends a client frame without a mask, which RFC 6455 forbids.
	Unmasked bool
}

// Encode returns the frame's bytes, masked with a random key unless
// Unmasked. Floods encode a frame once and send the bytes many times.
func (f Frame) Encode() []byte {
	b := make([]byte, 0, 14+len(f.Payload))
	first := f.Opcode&0x0f | (f.RSV&7)<<4
	if f.Fin {
		first |= 0x80
	}
	b = append(b, first)
	var mask byte
	if !f.Unmasked {
		mask = 0x80
	}
	switch n := len(f.Payload); {
	case n < 126:
		b = append(b, mask|byte(n))
	case n <= 0xffff:
		b = append(b, mask|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if f.Unmasked {
		return append(b, f.Payload...)
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range f.Payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// DialOptions shape the handshake of DialWS.
type DialOptions struct {
	// DialContext opens the TCP connection; nil uses a plain net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	Host        string      // the Host header; empty sends the address dialled
	Origin      string      // the Origin header; empty sends none (as non-browser clients do)
	Header      http.Header // further request headers
}

// HandshakeError is a refused upgrade: the server answered with something
// other than 101.
type HandshakeError struct {
	Status int
	Header http.Header
	Body   string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("websocket handshake refused: %d %q", e.Status, e.Body)
}

// RawWS is a WebSocket client that speaks the wire format by hand over a
// plain net.Conn: after the handshake it sends whatever frames it is told
// to, control frames, fragments and bad opcodes included, and never waits
// for an answer. Reading is separate (ReadFrame or Drain), so a flood can
// go on while the answers pile up.
type RawWS struct {
	conn net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
}

// DialWS opens addr (host:port) and upgrades path to a WebSocket. A refusal
// is a *HandshakeError.
func DialWS(ctx context.Context, addr, path string, opts DialOptions) (*RawWS, error) {
	dial := opts.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var keyBytes [16]byte
	_, _ = rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])
	host := opts.Host
	if host == "" {
		host = addr
	}
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, host)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if opts.Origin != "" {
		fmt.Fprintf(&req, "Origin: %s\r\n", opts.Origin)
	}
	for k, vs := range opts.Header {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		conn.Close()
		return nil, &HandshakeError{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	}
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != acceptKey(key) {
		conn.Close()
		return nil, fmt.Errorf("websocket handshake: bad Sec-WebSocket-Accept %q", got)
	}
	_ = conn.SetDeadline(time.Time{})
	return &RawWS{conn: conn, br: br}, nil
}

func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// WriteFrame sends one frame.
func (c *RawWS) WriteFrame(f Frame) error { return c.WriteRaw(f.Encode()) }

// WriteRaw sends bytes as they are: encoded frames, or anything at all.
func (c *RawWS) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.conn.Write(b)
	return err
}

// WriteText sends a whole text message in one frame.
func (c *RawWS) WriteText(s string) error {
	return c.WriteFrame(Frame{Fin: true, Opcode: OpText, Payload: []byte(s)})
}

// Flood sends the frame n times as fast as the connection takes it, in
// batches (one write per batch keeps the attacker's own cost down), and
// returns how many went out before ctx ended or a write failed (the server
// hung up).
func (c *RawWS) Flood(ctx context.Context, f Frame, n int) (int, error) {
	one := f.Encode()
	const batch = 64
	buf := make([]byte, 0, batch*len(one))
	for range batch {
		buf = append(buf, one...)
	}
	sent := 0
	for sent < n {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		k := min(batch, n-sent)
		if err := c.WriteRaw(buf[:k*len(one)]); err != nil {
			return sent, err
		}
		sent += k
	}
	return sent, nil
}

// ReadFrame reads the next frame from the server, whatever it is.
func (c *RawWS) ReadFrame() (Frame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: h[0]&0x80 != 0, RSV: h[0] >> 4 & 7, Opcode: h[0] & 0x0f}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(c.br, ext[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if h[1]&0x80 != 0 {
		return f, errors.New("server sent a masked frame")
	}
	if n > 1<<24 {
		return f, fmt.Errorf("frame of %d bytes", n)
	}
	f.Payload = make([]byte, n)
	_, err := io.ReadFull(c.br, f.Payload)
	return f, err
}

// wireSize is the frame's size on the wire, as the server sent it (unmasked).
func (f Frame) wireSize() int {
	switch n := len(f.Payload); {
	case n < 126:
		return 2 + n
	case n <= 0xffff:
		return 4 + n
	default:
		return 10 + n
	}
}

// Tally counts what the server sent on a drained connection.
type Tally struct {
	mu          sync.Mutex
	frames      map[byte]int
	bytes       map[byte]int
	closeCode   int // -1 until a close frame arrives
	closeReason string
	done        chan struct{}
	err         error
}

// Drain reads every frame the server sends, on a goroutine of its own,
// until the connection ends, and counts them by opcode. It keeps the
// connection alive as any client does, answering the server's pings; a
// close frame is answered, as the protocol asks, and then the connection is
// closed.
func (c *RawWS) Drain() *Tally { return c.drain(true) }

// DrainIgnoringClose is Drain for a client that ignores the server's close
// frame: it neither answers nor hangs up, and reads on until the server
// cuts the connection.
func (c *RawWS) DrainIgnoringClose() *Tally { return c.drain(false) }

func (c *RawWS) drain(answerClose bool) *Tally {
	t := &Tally{frames: map[byte]int{}, bytes: map[byte]int{}, closeCode: -1, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for {
			f, err := c.ReadFrame()
			if err != nil {
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
				return
			}
			t.mu.Lock()
			t.frames[f.Opcode]++
			t.bytes[f.Opcode] += f.wireSize()
			if f.Opcode == OpClose {
				t.closeCode, t.closeReason = 1005, ""
				if len(f.Payload) >= 2 {
					t.closeCode, t.closeReason = int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
				}
			}
			t.mu.Unlock()
			// Answers go out on goroutines of their own: a flood may hold the
			// writer, blocked until the server reads, and the server may be
			// waiting for this reader to take its frames.
			if f.Opcode == OpPing {
				go func() { _ = c.WriteFrame(Frame{Fin: true, Opcode: OpPong, Payload: f.Payload}) }()
			}
			if f.Opcode == OpClose && answerClose {
				go func() {
					_ = c.WriteFrame(Frame{Fin: true, Opcode: OpClose, Payload: f.Payload[:min(2, len(f.Payload))]})
					c.Close()
				}()
				return
			}
		}
	}()
	return t
}

// Done is closed when the connection has ended.
func (t *Tally) Done() <-chan struct{} { return t.done }

// Frames is how many frames of opcode op arrived, and their bytes on the wire.
func (t *Tally) Frames(op byte) (frames, bytes int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.frames[op], t.bytes[op]
}

// Close is the server's close frame: code (-1 if none came, 1005 if it had
// no code) and reason.
func (t *Tally) Close() (code int, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closeCode, t.closeReason
}

// Close ends the connection at once, without a close frame.
func (c *RawWS) Close() error { return c.conn.Close() }
