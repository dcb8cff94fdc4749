package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/hostile"
	"plausch.dev/plausch/internal/session"
	"plausch.dev/plausch/internal/web"
)

// Attacks on the HTTP and WebSocket layer (issue 10, items 7, 8, 9 and 11),
// each beside an honest meeting that must not notice.

func hostPort(srv *Server) string { return strings.TrimPrefix(srv.URL(), "http://") }

// processCPU is the CPU time of this whole process, user and system: the
// server, and the attacker and the honest meeting beside it.
func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dialHostile(t *testing.T, srv *Server, opts hostile.DialOptions) *hostile.RawWS {
	t.Helper()
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	ws, err := hostile.DialWS(ctx, hostPort(srv), "/ws", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// Item 7: control frames count against the connection's message budget. A
// flood of pings (each asks for a pong as big as itself) or of unasked-for
// pongs is cut off with a reason after the budget and a few strikes; a
// client that ignores the close is not read any more. Before, every ping
// was answered and the connection was never closed.
func TestHostileHTTPControlFrameFlood(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "control-flood")
	payload := []byte(strings.Repeat("p", 125)) // the most a control frame carries
	for _, c := range []struct {
		name      string
		op        byte
		frames    int
		stubborn  bool // ignores the server's close and floods on
		maxFrames int  // the most frames the server may take in
	}{
		{"ping flood", hostile.OpPing, 50000, false, 0},
		{"pong flood", hostile.OpPong, 50000, false, 0},
		// The server stops reading: what it takes in is what fits in the
		// socket buffers (about 30000 frames here), not the million sent
		// at full speed (1.7 million in 5 s when it read on).
		{"stubborn ping flood", hostile.OpPing, 1000000, true, 200000},
	} {
		ws := dialHostile(t, srv, hostile.DialOptions{})
		drain := ws.Drain
		if c.stubborn {
			drain = ws.DrainIgnoringClose
		}
		tally := drain()
		if err := ws.WriteText(`{"type":"join","room":"flooders","name":"Mallory"}`); err != nil {
			t.Fatal(err)
		}
		// The process also runs the honest meeting: its CPU over a quiet
		// second is the baseline to read the flood's figure against.
		base0, baseStart := processCPU(t), time.Now()
		time.Sleep(time.Second)
		base := (processCPU(t) - base0).Seconds() / time.Since(baseStart).Seconds()
		cpu0, start := processCPU(t), time.Now()
		ctx, cancel := contextTimeout(60 * time.Second)
		sent, _ := ws.Flood(ctx, hostile.Frame{Fin: true, Opcode: c.op, Payload: payload}, c.frames)
		cancel()
		cpu, wall := processCPU(t)-cpu0, time.Since(start)
		select {
		case <-tally.Done():
		case <-time.After(10 * time.Second):
		}
		closed := time.Since(start)
		pongs, pongBytes := tally.Frames(hostile.OpPong)
		code, reason := tally.Close()
		t.Logf("%s: the server took %d of %d frames (%d bytes) in %v, process CPU %v (%.0f %% of a core; %.0f %% without "+
			"the flood); it answered %d pongs (%d bytes) and closed with %d %q (%v after the start)", c.name, sent, c.frames,
			sent*(6+len(payload)), wall.Round(time.Millisecond), cpu.Round(time.Millisecond),
			100*cpu.Seconds()/wall.Seconds(), 100*base, pongs, pongBytes, code, reason, closed.Round(time.Millisecond))
		if code != int(session.CloseProtocolError) || !strings.Contains(reason, "per second") {
			t.Errorf("%s: closed with %d %q, want %d and a reason", c.name, code, reason, session.CloseProtocolError)
		}
		// The budget is the message burst (60) and what refills while the
		// flood is read; 1000 is far above that and far below the flood.
		if pongs > 1000 {
			t.Errorf("%s: %d pongs (%d bytes) answered", c.name, pongs, pongBytes)
		}
		if c.maxFrames > 0 && sent > c.maxFrames {
			t.Errorf("%s: the server took in %d frames after closing", c.name, sent)
		}
		ws.Close()
	}
	h.check(t, "control frame floods")
}

// Broken frames end the connection and nothing else: a bad opcode, a
// fragmented ping, reserved bits, an unmasked frame, a continuation with
// nothing to continue.
func TestHostileHTTPBrokenFrames(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "broken-frames")
	cases := map[string]hostile.Frame{
		"opcode 3":             {Fin: true, Opcode: 3, Payload: []byte("x")},
		"opcode 11":            {Fin: true, Opcode: 11},
		"fragmented ping":      {Fin: false, Opcode: hostile.OpPing, Payload: []byte("x")},
		"reserved bits":        {Fin: true, RSV: 4, Opcode: hostile.OpText, Payload: []byte(`{"type":"leave"}`)},
		"unmasked":             {Fin: true, Opcode: hostile.OpText, Payload: []byte(`{"type":"leave"}`), Unmasked: true},
		"lone continuation":    {Fin: true, Opcode: hostile.OpContinuation, Payload: []byte("x")},
		"oversized ping":       {Fin: true, Opcode: hostile.OpPing, Payload: make([]byte, 126)},
		"close without reason": {Fin: true, Opcode: hostile.OpClose, Payload: []byte{0x03}},
	}
	for name, f := range cases {
		ws := dialHostile(t, srv, hostile.DialOptions{})
		tally := ws.Drain()
		if err := ws.WriteFrame(f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		select {
		case <-tally.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("%s: connection still open", name)
		}
		code, reason := tally.Close()
		t.Logf("%s: closed with %d %q", name, code, reason)
		ws.Close()
	}
	h.check(t, "broken frames")
}

// shortHTTPTimeouts are the HTTP timeouts of the attack tests: short, so
// the tests are quick, and still far longer than a request on loopback.
func shortHTTPTimeouts(c *Config) {
	c.HTTP = HTTPConfig{ReadHeaderTimeout: 500 * time.Millisecond, ReadTimeout: time.Second,
		WriteTimeout: 2 * time.Second, IdleTimeout: time.Second}
}

// Item 8: idle keep-alive connections, slow headers and slow bodies are
// closed by the timeouts, while the WebSockets of the honest meeting (which
// live far longer than any of them) are not. Before, idle and slow-body
// connections were held for ever.
func TestHostileHTTPSlowClientsTimeOut(t *testing.T) {
	srv := startServer(t, shortHTTPTimeouts)
	h := startHonestMeeting(t, srv, "slow-http")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := hostPort(srv)
	kinds := []struct {
		name string
		n    int
		open func() (net.Conn, error)
	}{
		{"idle keep-alive", 30, func() (net.Conn, error) { return hostile.IdleKeepAlive(ctx, nil, addr, "/healthz") }},
		{"slow headers", 10, func() (net.Conn, error) { return hostile.SlowHeaders(ctx, nil, addr, 200*time.Millisecond) }},
		{"slow body", 10, func() (net.Conn, error) { return hostile.SlowBody(ctx, nil, addr, 100000, 200*time.Millisecond) }},
	}
	conns := map[string][]net.Conn{}
	start := time.Now()
	for _, k := range kinds {
		for range k.n {
			c, err := k.open()
			if err != nil {
				t.Fatalf("%s: %v", k.name, err)
			}
			defer c.Close()
			conns[k.name] = append(conns[k.name], c)
		}
	}
	// Poll until every connection is closed, or well past every timeout.
	closedAt := map[string]time.Duration{}
	for time.Since(start) < 8*time.Second && len(closedAt) < len(kinds) {
		for _, k := range kinds {
			if _, done := closedAt[k.name]; done {
				continue
			}
			open := 0
			for _, c := range conns[k.name] {
				if hostile.Open(c, 10*time.Millisecond) {
					open++
				}
			}
			if open == 0 {
				closedAt[k.name] = time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, k := range kinds {
		open := 0
		for _, c := range conns[k.name] {
			if hostile.Open(c, 10*time.Millisecond) {
				open++
			}
		}
		if d, ok := closedAt[k.name]; ok {
			t.Logf("%s: all %d closed by the server within %v", k.name, k.n, d.Round(100*time.Millisecond))
		} else {
			t.Errorf("%s: %d of %d still open after %v", k.name, open, k.n, time.Since(start).Round(100*time.Millisecond))
		}
	}
	h.check(t, "slow HTTP clients")
}

// Item 11a: the replies net/http writes by itself (a malformed request, too
// large headers, an unknown transfer coding, a missing Host) carry the
// security headers too. Before, they had none.
func TestHostileHTTPRawErrorsCarrySecurityHeaders(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "raw-errors")
	addr := hostPort(srv)
	host := "Host: " + addr + "\r\n"
	cases := []struct {
		name   string
		raw    string
		status int
	}{
		{"malformed request line", "GET / HTTP/1.1 and more\r\n" + host + "\r\n", 400},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400},
		{"headers too large", "GET / HTTP/1.1\r\n" + host + "X-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", 431},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", 400},
		{"unknown transfer coding", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: rot13\r\n\r\n", 501},
		{"HTTP/2.5", "GET / HTTP/2.5\r\n" + host + "\r\n", 505},
		{"unknown expectation", "GET / HTTP/1.1\r\n" + host + "Expect: miracles\r\n\r\n", 417},
		{"ordinary 404", "GET /nope/nope HTTP/1.1\r\n" + host + "\r\n", 404},
	}
	want := web.SecurityHeaders()
	for _, c := range cases {
		ctx, cancel := contextTimeout(5 * time.Second)
		res, body, err := hostile.RawRequest(ctx, nil, addr, c.raw)
		cancel()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		t.Logf("%s: %s %q", c.name, res.Status, body)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.status)
		}
		for k := range want {
			if got := res.Header.Get(k); got != want.Get(k) {
				t.Errorf("%s: %s = %q, want %q", c.name, k, got, want.Get(k))
			}
		}
	}
	h.check(t, "raw error replies")
}

// Item 11b: no directory of the app is listed and no source map is served.
// The unit tests in internal/web hold it for any app; this one for the app
// embedded in this build.
func TestHostileHTTPNoListingsNoSourceMaps(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "no-listings")
	res, err := http.Get(srv.URL() + "/assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Skip("the app is not built into this binary (make web)")
	}
	for _, path := range []string{"/assets/", "/assets", "/assets/app.js.map", "/assets/frames-worker.js.map",
		"/assets/app.css.map", "/assets/.", "/assets/./", "/assets//"} {
		res, err := http.Get(srv.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %.100q, want 404", path, res.StatusCode, body)
		}
	}
	h.check(t, "directory listings")
}

// Item 11c: with a metrics address, /metrics is served there and not on the
// public address.
func TestHostileHTTPMetricsOnTheirOwnAddress(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
	h := startHonestMeeting(t, srv, "metrics-apart")
	res, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", res.StatusCode)
	}
	if srv.MetricsURL() == "" || srv.MetricsURL() == srv.URL() {
		t.Fatalf("metrics URL %q", srv.MetricsURL())
	}
	res, err = http.Get(srv.MetricsURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "plausch_participants 3") {
		t.Errorf("private /metrics: %d %.300q", res.StatusCode, body)
	}
	h.check(t, "metrics address")
}

// Item 11d: with allowed hosts, a request for any other host is refused,
// the WebSocket handshake included: a page of another site whose name was
// made to resolve to this server (DNS rebinding) cannot open a meeting
// connection. Before, the handshake was accepted.
func TestHostileHTTPHostNotAllowed(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.AllowedHosts = []string{"meet.example.org", "localhost"} })
	// The honest meeting dials localhost, an allowed name.
	h := startHonestMeetingAt(t, srv, "rebinding", "localhost")
	addr := hostPort(srv)
	_, port, _ := net.SplitHostPort(addr)
	for _, c := range []struct {
		host  string
		allow bool
	}{
		{"meet.example.org", true},
		{"MEET.example.org.:" + port, true},
		{"evil.example:" + port, false},
		{"127.0.0.1:" + port, false},
		{"localhost:" + port, true},
		{"meet.example.org.evil.example", false},
	} {
		ctx, cancel := contextTimeout(5 * time.Second)
		ws, err := hostile.DialWS(ctx, addr, "/ws", hostile.DialOptions{Host: c.host, Origin: "http://" + c.host})
		cancel()
		if ws != nil {
			ws.Close()
		}
		var he *hostile.HandshakeError
		switch refused := asHandshakeError(err, &he); {
		case c.allow && err != nil:
			t.Errorf("Host %q: handshake refused: %v", c.host, err)
		case !c.allow && !refused:
			t.Errorf("Host %q: handshake %v, want 421", c.host, err)
		case !c.allow && he.Status != http.StatusMisdirectedRequest:
			t.Errorf("Host %q: handshake %d, want 421", c.host, he.Status)
		case !c.allow && he.Header.Get("Content-Security-Policy") == "":
			t.Errorf("Host %q: refusal without security headers", c.host)
		}

		ctx, cancel = contextTimeout(5 * time.Second)
		res, body, err := hostile.RawRequest(ctx, nil, addr, "GET / HTTP/1.1\r\nHost: "+c.host+"\r\n\r\n")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got := res.StatusCode == http.StatusOK; got != c.allow {
			t.Errorf("GET / with Host %q: %d %.80q", c.host, res.StatusCode, body)
		}
	}
	h.check(t, "DNS rebinding")
}

func asHandshakeError(err error, he **hostile.HandshakeError) bool {
	e, ok := err.(*hostile.HandshakeError)
	*he = e
	return ok
}

// startHonestMeetingAt is startHonestMeeting with the honest clients
// dialling the server by another name (their Host header).
func startHonestMeetingAt(t *testing.T, srv *Server, room, host string) *honestMeeting {
	t.Helper()
	_, port, _ := net.SplitHostPort(hostPort(srv))
	url := "http://" + net.JoinHostPort(host, port)
	h := &honestMeeting{room: room}
	for i, name := range []string{"Ada", "Grace", "Linus"} {
		ctx, cancel := contextTimeout(10 * time.Second)
		c, err := client.Dial(ctx, url, room, client.Options{Name: name, Audio: true, Video: true,
			Simulcast: i == 1, DialContext: fromAddr(honestAddr), Loopback: true})
		cancel()
		if err != nil {
			t.Fatalf("honest %s: %v", name, err)
		}
		t.Cleanup(c.Close)
		publish(t, c, mic, camera)
		h.clients = append(h.clients, c)
	}
	for _, c := range h.clients {
		for _, o := range h.clients {
			if o != c {
				waitFor(t, c, "honest media from "+o.ID, func(st client.State) bool {
					return receives(st, o.ID, camera, 10) && receives(st, o.ID, mic, 25)
				})
			}
		}
	}
	h.mark()
	return h
}

// Item 9: display names made to deceive are refused, and look-alike
// meeting names are either the same meeting or refused.
func TestHostileHTTPDeceptiveNames(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "deceptive-names")
	for _, name := range []string{
		"\u200b\u200b\u200b",      // zero width spaces
		"\u3164",                  // Hangul filler
		"\u2800\u2800",            // braille blank
		"\ufeff",                  // byte order mark
		"Ada\u202e",               // right-to-left override
		"evil\u202egnp.exe",       // the classic
		"Ada\U000e0041\U000e0042", // tag characters
		"A" + strings.Repeat("\u0301", 63),
		"\u2066Ada\u2069", // bidi isolates are the UI's job, not the name's
	} {
		if reply := joinReply(t, srv, "deceptive-names", name); !strings.Contains(reply, `"code":"bad_name"`) {
			t.Errorf("name %+q: %.100s, want bad_name", name, reply)
		}
	}
	// Fullwidth letters are the same meeting as plain ones.
	a := join(t, srv, "ＴＥＡＭ-ｍｅｅｔｉｎｇ", "A")
	b := join(t, srv, "team-meeting", "B")
	waitFor(t, a, "B in the same meeting", func(st client.State) bool { _, ok := st.Participants[b.ID]; return ok })
	// A Cyrillic а or a Greek μ among Latin letters is refused, not a
	// second meeting that looks like the first.
	for _, room := range []string{"te\u0430m-meeting", "tea\u03bc-meeting"} {
		if reply := joinReply(t, srv, room, "Eve"); !strings.Contains(reply, `"code":"bad_room"`) {
			t.Errorf("meeting %+q: %.100s, want bad_room", room, reply)
		}
	}
	h.check(t, "deceptive names")
}

// joinReply joins room as name on a bare WebSocket and returns the
// server's first answer.
func joinReply(t *testing.T, srv *Server, room, name string) string {
	t.Helper()
	r := dialRaw(t, srv)
	msg, _ := json.Marshal(map[string]string{"type": "join", "room": room, "name": name})
	r.send(websocket.MessageText, string(msg))
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	_, data, err := r.ws.Read(ctx)
	if err != nil {
		t.Fatalf("join %+q as %+q: %v", room, name, err)
	}
	r.ws.CloseNow()
	return string(data)
}
