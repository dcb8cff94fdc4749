package tlsmux

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
)

type kind int

const (
	kindUnknown kind = iota
	kindHTTP
	kindTURN
)

// stunMagicCookie sits in bytes 4-7 of every STUN message (RFC 5389).
const stunMagicCookie = 0x2112A442

// stunHeader is how much of a STUN message proves it is one.
const stunHeader = 8

// classifyHead tells what a connection speaks from its first bytes after
// the handshake. need > 0 asks for that many bytes in all before deciding.
//
// A TURN client must begin with a STUN request (Allocate): its first two
// bits are zero (first byte 0x00-0x3F) and the magic cookie follows the
// type and length. ChannelData (first byte 0x40-0x7F) cannot come first,
// since a channel is bound by an earlier STUN request; that range holds
// the ASCII letters an HTTP method begins with ("GET", "POST", and "PRI"
// for HTTP/2's preface), so a letter means HTTP.
func classifyHead(b []byte) (k kind, need int) {
	if len(b) == 0 {
		return kindUnknown, 1
	}
	switch c := b[0]; {
	case c < 0x40:
		if len(b) < stunHeader {
			return kindUnknown, stunHeader
		}
		if binary.BigEndian.Uint32(b[4:8]) == stunMagicCookie {
			return kindTURN, 0
		}
		return kindUnknown, 0
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		return kindHTTP, 0
	}
	return kindUnknown, 0
}

var errUnknownProtocol = errors.New("neither HTTP nor STUN")

// sniff reads the first bytes of c and decides; the bytes read are
// returned so the side that gets c reads them first.
func sniff(c *tls.Conn) ([]byte, kind, error) {
	buf := make([]byte, stunHeader)
	n := 0
	for {
		k, need := classifyHead(buf[:n])
		if need == 0 {
			if k == kindUnknown {
				return nil, k, errUnknownProtocol
			}
			return buf[:n], k, nil
		}
		m, err := io.ReadAtLeast(c, buf[n:], need-n)
		n += m
		if err != nil {
			return nil, kindUnknown, err
		}
	}
}

// sniffedConn gives back the bytes read while sniffing before the rest.
// It is not a *tls.Conn, so net/http finds the TLS state through
// ConnectionState (which *tls.Conn provides, and the embedding keeps):
// r.TLS is set for HTTP/1.1 as on a plain TLS listener.
type sniffedConn struct {
	*tls.Conn
	head []byte
}

// Read returns the sniffed bytes first.
func (c *sniffedConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
