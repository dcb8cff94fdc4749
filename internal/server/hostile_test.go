package server

import (
	"context"
	"net"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
)

// The attack tests (hostile_*_test.go) run each attack against a server
// that carries an honest meeting at the same time, and check afterwards
// that the honest participants did not notice: no lost media, no frozen
// picture, nobody thrown out.

// honestMeeting is three participants who publish camera and microphone
// and watch each other, from their own source address.
type honestMeeting struct {
	room    string
	clients []*client.Client
	before  []client.State // snapshots at mark
	marked  time.Time
}

// honestAddr is the loopback address the honest participants connect from,
// so that limits per source address never count them with an attacker on
// 127.0.0.1.
const honestAddr = "127.0.0.2"

// fromAddr dials TCP from a given loopback address (the whole of 127/8
// reaches the loopback interface on Linux).
func fromAddr(ip string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return d.DialContext
}

// startHonestMeeting brings three participants into room, waits until
// everyone receives everyone, and marks the start of the attack window.
// The second one sends its camera as simulcast, as browsers do.
func startHonestMeeting(t *testing.T, srv *Server, room string) *honestMeeting {
	t.Helper()
	h := &honestMeeting{room: room}
	for i, name := range []string{"Ada", "Grace", "Linus"} {
		c, err := dialOpts(t, srv, room, client.Options{Name: name, Audio: true, Video: true,
			Simulcast: i == 1, DialContext: fromAddr(honestAddr)})
		if err != nil {
			t.Fatalf("honest %s: %v", name, err)
		}
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

// mark starts a new attack window.
func (h *honestMeeting) mark() {
	h.before = h.before[:0]
	for _, c := range h.clients {
		h.before = append(h.before, c.State())
	}
	h.marked = time.Now()
}

// The honest meeting's media may lose at most maxHonestLoss of its packets
// (after retransmission) in an attack window, and no picture may stall for
// longer than maxHonestStall. On loopback a quiet run loses nothing; the
// margins are for a loaded 2-core machine under -race.
const (
	maxHonestLoss  = 0.01
	maxHonestStall = 2 * client.FreezeGap
)

// check reports every way the honest meeting suffered since mark: someone
// thrown out or told of an error, a flow that stopped, lost media, a frozen
// picture. It waits a second first, for the window to fill and for
// repairs in flight.
func (h *honestMeeting) check(t *testing.T, attack string) {
	t.Helper()
	time.Sleep(time.Second)
	window := time.Since(h.marked)
	for i, c := range h.clients {
		st := c.State()
		if st.Closed {
			t.Errorf("%s: honest %s was disconnected: %v %q", attack, c.ID, st.CloseStatus, st.CloseReason)
			continue
		}
		if n := len(st.Errors) - len(h.before[i].Errors); n > 0 {
			t.Errorf("%s: honest %s got errors: %v", attack, c.ID, st.Errors[len(h.before[i].Errors):])
		}
		for j, o := range h.clients {
			if o == c {
				continue
			}
			for _, src := range []string{mic, camera} {
				k := keyOf(o.ID, src)
				before, after := h.before[i].Received[k], st.Received[k]
				if before == nil || after == nil || after.Ended {
					t.Errorf("%s: honest %s no longer receives %s from %s", attack, c.ID, src, o.ID)
					continue
				}
				w := windowOf(before, after, h.before[j].Sent[src], o.State().Sent[src])
				t.Logf("%s: %s->%s %s over %v: %d packets, %d lost after retransmission, %d of %d frames, longest frame gap %v",
					attack, o.ID, c.ID, src, window.Round(time.Millisecond), w.expected, w.lost, w.frames, w.sent,
					w.maxFrameGap.Round(time.Millisecond))
				switch {
				case w.frames == 0 || w.expected == 0:
					t.Errorf("%s: %s->%s %s stopped: no frames in %v", attack, o.ID, c.ID, src, window)
				case w.residual() > maxHonestLoss:
					t.Errorf("%s: %s->%s %s lost %.2f %% of its packets", attack, o.ID, c.ID, src, 100*w.residual())
				case src == camera && w.maxFrameGap > maxHonestStall:
					t.Errorf("%s: %s->%s video stalled for %v", attack, o.ID, c.ID, w.maxFrameGap)
				}
				if after.BadFrames > 0 {
					t.Errorf("%s: %s->%s %s has %d corrupt frames", attack, o.ID, c.ID, src, after.BadFrames)
				}
			}
		}
	}
}
