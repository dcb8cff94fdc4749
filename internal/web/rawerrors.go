package web

import (
	"bytes"
	"crypto/tls"
	"net"
	"slices"
	"strings"
)

// net/http answers some requests without ever calling a handler: a
// malformed request line or header (400), headers over MaxHeaderBytes
// (431), an unknown transfer coding (501), an unsupported HTTP version
// (505), an unknown Expect (417). It writes those replies straight to the
// connection, so WithSecurityHeaders never sees them and they go out
// without the security headers.
//
// Listener wraps the server's listener so that such a reply gets them too.
// It recognises a reply by what net/http writes: an error status line (4xx
// or 5xx) at the start of a write, with the whole header block in that same
// write, and no Content-Security-Policy in it. Every response of a handler
// already carries that header (WithSecurityHeaders sets it first), so those
// pass untouched; so does a hijacked WebSocket, whose frames never start
// with "HTTP/". (A response body whose chunk began a write with an error
// status line and a blank line would be touched too; this server sends
// only its app, JSON and metrics.) The alternatives were worse: net/http
// has no hook for these replies, and a reverse proxy in front would only
// help those who run one.
// TestHostileHTTPRawErrorsCarrySecurityHeaders (internal/server) sends each
// kind, so a change in net/http's replies shows up there.

// Listener returns ln, whose connections add the security headers to
// net/http's own error replies.
func Listener(ln net.Listener) net.Listener { return rawErrorListener{ln} }

type rawErrorListener struct{ net.Listener }

func (l rawErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if _, ok := c.(*tls.Conn); ok {
		// net/http speaks HTTP/2 only on a *tls.Conn itself, and the raw
		// replies this adds headers to are HTTP/1 plain-text ones.
		return c, nil
	}
	return &rawErrorConn{Conn: c}, nil
}

type rawErrorConn struct{ net.Conn }

// rawHeaderLines are the security headers as header lines, sorted.
var rawHeaderLines = func() string {
	var b strings.Builder
	keys := make([]string, 0, len(securityHeaders))
	for k := range securityHeaders {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + securityHeaders[k] + "\r\n")
	}
	return b.String()
}()

func (c *rawErrorConn) Write(p []byte) (int, error) {
	at, ok := rawErrorReply(p)
	if !ok {
		return c.Conn.Write(p)
	}
	out := make([]byte, 0, len(p)+len(rawHeaderLines))
	out = append(out, p[:at]...)
	out = append(out, rawHeaderLines...)
	out = append(out, p[at:]...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rawErrorReply reports whether p is an error reply without the security
// headers, and where its first header line starts.
func rawErrorReply(p []byte) (int, bool) {
	if len(p) < 13 || !bytes.HasPrefix(p, []byte("HTTP/1.")) || (p[9] != '4' && p[9] != '5') {
		return 0, false
	}
	end := bytes.Index(p, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, false
	}
	head := p[:end+2]
	if bytes.Contains(head, []byte("\r\nContent-Security-Policy:")) {
		return 0, false
	}
	return bytes.Index(head, []byte("\r\n")) + 2, true
}

// CloseWrite keeps the half-close that net/http does after a 431 reply,
// so that the client reads the reply before the connection goes.
func (c *rawErrorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
