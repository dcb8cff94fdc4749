package sfu

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
)

// offerSDP is a publish offer with the given m-sections, each its kind
// (and port, 9 if not given) on the first line, then its attributes.
func offerSDP(sections ...string) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	for i, s := range sections {
		kind, rest, _ := strings.Cut(s, "\n")
		kind, port, ok := strings.Cut(kind, " ")
		if !ok {
			port = "9"
		}
		pt := "96"
		if kind == "audio" {
			pt = "111"
		}
		fmt.Fprintf(&b, "m=%s %s UDP/TLS/RTP/SAVPF %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%d\r\n", kind, port, pt, i)
		for _, l := range strings.Split(rest, "\n") {
			if l != "" {
				b.WriteString(l + "\r\n")
			}
		}
	}
	return b.String()
}

func TestCheckOffer(t *testing.T) {
	camera := map[string]string{"0": "camera"}
	simulcast := func(rids ...string) string {
		var b strings.Builder
		b.WriteString("video\na=sendonly\n")
		for _, r := range rids {
			b.WriteString("a=rid:" + r + " send\n")
		}
		b.WriteString("a=simulcast:send " + strings.Join(rids, ";"))
		return b.String()
	}
	many := make([]string, MaxMLines+1)
	for i := range many {
		many[i] = "video\na=inactive"
	}
	for _, c := range []struct {
		name    string
		sdp     string
		sources map[string]string
		want    error
	}{
		{"one layer", offerSDP("video\na=sendonly"), camera, nil},
		{"three layers", offerSDP(simulcast("q", "h", "f")), camera, nil},
		{"unknown rids", offerSDP(simulcast("a-1", "b_2", "C3")), camera, nil},
		{"paused and alternative layers", offerSDP("video\na=sendonly\na=rid:q send\na=rid:h send\na=rid:f send\na=simulcast:send q;~h,f"), camera, nil},
		{"four layers", offerSDP(simulcast("x", "q", "h", "f")), camera, ErrTooManyLayers},
		{"four rids without simulcast", offerSDP("video\na=rid:a send\na=rid:b send\na=rid:c send\na=rid:d send"), camera, ErrTooManyLayers},
		{"duplicate rid", offerSDP(simulcast("q", "q")), camera, ErrBadLayers},
		{"empty rid", offerSDP("video\na=rid: send\na=simulcast:send q"), camera, ErrBadLayers},
		{"empty layer in the list", offerSDP("video\na=rid:q send\na=rid:h send\na=simulcast:send q;;h"), camera, ErrBadLayers},
		{"undeclared layer in the list", offerSDP("video\na=rid:q send\na=simulcast:send q;h"), camera, ErrBadLayers},
		{"layer named twice in the list", offerSDP("video\na=rid:q send\na=simulcast:send q;q"), camera, ErrBadLayers},
		{"bad simulcast direction", offerSDP("video\na=rid:q send\na=simulcast:sideways q"), camera, ErrBadLayers},
		{"two simulcast lines", offerSDP("video\na=rid:q send\na=simulcast:send q\na=simulcast:send q"), camera, ErrBadLayers},
		{"rid too long", offerSDP(simulcast(strings.Repeat("r", 17))), camera, ErrBadLayers},
		{"rid with odd characters", offerSDP(simulcast("q h")), camera, ErrBadLayers},
		{"rids on audio", offerSDP("audio\na=rid:a send\na=rid:b send\na=simulcast:send a;b"), map[string]string{"0": "microphone"}, ErrBadLayers},
		{"as many SSRCs as allowed", offerSDP("video\n" + ssrcLines(maxSSRCs) + ssrcLines(maxSSRCs)), camera, nil},
		{"too many SSRCs", offerSDP("video\n" + ssrcLines(maxSSRCs+1)), camera, ErrBadLayers},
		{"unannounced sending m-line", offerSDP("video\na=sendonly", "video\na=sendonly"), camera, ErrUnannounced},
		{"unannounced sendrecv by default", offerSDP("video\na=sendonly", "audio"), camera, ErrUnannounced},
		{"unannounced but inactive", offerSDP("video\na=sendonly", "video\na=inactive", "audio\na=recvonly"), camera, nil},
		{"unannounced but rejected", offerSDP("video\na=sendonly", "video 0"), camera, nil},
		{"unannounced bundle-only", offerSDP("video\na=sendonly", "video 0\na=bundle-only\na=sendonly"), camera, ErrUnannounced},
		{"announced as the wrong kind", offerSDP("audio\na=sendonly"), camera, ErrUnannounced},
		{"a data channel", offerSDP("application"), nil, ErrUnannounced},
		{"too many m-lines", offerSDP(many...), nil, ErrTooManyMLines},
		{"as many m-lines as allowed", offerSDP(many[1:]...), nil, nil},
	} {
		desc := &sdp.SessionDescription{}
		if err := desc.UnmarshalString(c.sdp); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err := checkOffer(desc, c.sources)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err != nil && !errors.Is(err, ErrBadSDP) {
			t.Errorf("%s: %v is not a bad SDP", c.name, err)
		}
	}
}

func ssrcLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a=ssrc:%d cname:x\n", 100+i)
	}
	return b.String()
}
