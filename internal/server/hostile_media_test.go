package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/hostile"
	"plausch.dev/plausch/internal/signal"
)

// The attacks on the media path: what a participant can put into its
// publish offer and send on it.

const (
	audioKind = webrtc.RTPCodecTypeAudio
	videoKind = webrtc.RTPCodecTypeVideo
)

// hostilePublish offers o as c and returns the publisher and the server's
// refusal, if any (nil when it answered).
func hostilePublish(t *testing.T, c *client.Client, o hostile.Offer) (*hostile.Publisher, *client.OfferError) {
	t.Helper()
	ctx, cancel := contextTimeout(15 * time.Second)
	defer cancel()
	p, err := hostile.Publish(ctx, c, o)
	if p != nil {
		t.Cleanup(p.Close)
	}
	var refused *client.OfferError
	if errors.As(err, &refused) {
		return p, refused
	}
	if err != nil {
		t.Fatalf("hostile publish: %v", err)
	}
	return p, nil
}

// editRIDs applies f to the rid lines of every m-section: a=rid values and
// the a=simulcast list, for rids that Pion itself would never offer.
func editRIDs(f func(kind string, rids []string) []string) func(string) string {
	return func(sdp string) string {
		return hostile.EditMLines(sdp, func(_ int, lines []string) []string {
			kind := strings.Fields(strings.TrimPrefix(lines[0], "m="))[0]
			var rids []string
			var out []string
			for _, l := range lines {
				switch {
				case strings.HasPrefix(l, "a=rid:"):
					rids = append(rids, strings.Fields(strings.TrimPrefix(l, "a=rid:"))[0])
				case strings.HasPrefix(l, "a=simulcast:"):
				default:
					out = append(out, l)
				}
			}
			rids = f(kind, rids)
			if len(rids) == 0 {
				return out
			}
			for _, r := range rids {
				out = append(out, "a=rid:"+r+" send")
			}
			return append(out, "a=simulcast:send "+strings.Join(rids, ";"))
		})
	}
}

// A camera sent as four simulcast layers (rids x, q, h, f) crashed the
// whole server within a second: allocation indexed its table of assumed
// rates by a layer count it did not expect. The server now refuses more
// layers than it supports, and rids no browser sends (duplicate, empty, on
// audio), at the offer; a camera of three layers with unknown rids still
// works.
func TestHostileSimulcastLayers(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "layers")
	for i, tc := range []struct {
		name  string
		offer hostile.Offer
	}{
		{"four layers", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera, RIDs: []string{"x", "q", "h", "f"}}}}},
		{"ten layers", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera,
			RIDs: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}}}},
		{"duplicate rid", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera, RIDs: []string{"q", "h"}}},
			Edit: editRIDs(func(_ string, rids []string) []string { return append(rids, rids[len(rids)-1]) })}},
		{"empty rid", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera, RIDs: []string{"q", "h"}}},
			Edit: editRIDs(func(_ string, rids []string) []string { return append(rids, "") })}},
		{"rids on audio", hostile.Offer{MLines: []hostile.MLine{{Kind: audioKind, Source: mic}},
			Edit: editRIDs(func(kind string, rids []string) []string {
				if kind == "audio" {
					return []string{"a", "b"}
				}
				return rids
			})}},
	} {
		bad := join(t, srv, "layers", fmt.Sprintf("Mallory %d", i))
		_, refused := hostilePublish(t, bad, tc.offer)
		if refused == nil || refused.Code != signal.CodeBadSDP {
			t.Errorf("%s: offer not refused with %s: %v", tc.name, signal.CodeBadSDP, refused)
		} else {
			t.Logf("%s: refused: %s", tc.name, refused.Message)
		}
	}
	// Give a crash its second, then check that nobody noticed.
	time.Sleep(2 * time.Second)
	h.check(t, "simulcast layers")

	// Three layers with rids the server does not know by name work, ordered
	// as offered.
	odd := join(t, srv, "layers", "Odd")
	if _, refused := hostilePublish(t, odd, hostile.Offer{MLines: []hostile.MLine{
		{Kind: videoKind, Source: camera, RIDs: []string{"lo", "mid", "hi"}},
	}}); refused != nil {
		t.Fatalf("three layers refused: %v", refused)
	}
	for _, c := range h.clients {
		waitFor(t, c, "the camera with unknown rids", func(st client.State) bool { return receives(st, odd.ID, camera, 10) })
	}
}
