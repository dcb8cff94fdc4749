package sfu

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// candidates returns the host candidates the engine puts in an offer.
func candidates(t *testing.T, e *Engine) []string {
	t.Helper()
	pc, _, err := e.newSubscriberPC()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	var out []string
	for _, l := range strings.Split(pc.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			out = append(out, l)
		}
	}
	return out
}

func freeUDPPort(t *testing.T) int {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func TestLoopbackOnlyOffersLoopback(t *testing.T) {
	e, err := NewEngine(Config{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cs := candidates(t, e)
	if len(cs) == 0 {
		t.Fatal("no candidates")
	}
	for _, c := range cs {
		if !strings.Contains(c, " 127.0.0.1 ") && !strings.Contains(c, " ::1 ") {
			t.Errorf("non-loopback candidate: %s", c)
		}
	}
}

func TestSingleUDPPortAndPublicIP(t *testing.T) {
	port := freeUDPPort(t)
	e, err := NewEngine(Config{LoopbackOnly: true, UDPPort: port, PublicIPs: []string{"203.0.113.7"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for range 2 { // two connections share the port
		cs := candidates(t, e)
		if len(cs) == 0 {
			t.Fatal("no candidates")
		}
		for _, c := range cs {
			if !strings.Contains(c, " 203.0.113.7 ") || !strings.Contains(c, " "+strconv.Itoa(port)+" typ host") {
				t.Errorf("candidate %s: want 203.0.113.7 port %d", c, port)
			}
		}
	}
}
