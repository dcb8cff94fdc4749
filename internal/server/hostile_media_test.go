package server

import (
	"errors"
	"fmt"
	"runtime"
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

// heapMB is the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// flooded waits until p has sent packets RTP packets, or its connection
// is not up, or d has passed.
func flooded(p *hostile.Publisher, packets int, d time.Duration) {
	deadline := time.Now().Add(d)
	for p != nil && time.Now().Before(deadline) && p.Sent() < packets {
		time.Sleep(100 * time.Millisecond)
	}
}

// An offer with many m-lines, of which one is announced as a source, with
// RTP on all, held about a megabyte per unread m-line for as long as the
// connection lived (Pion buffers what nobody reads): 88 m-lines grew the
// heap by some 100 MB. The server now refuses an m-line that sends without
// being announced, and more than MaxMLines m-lines.
func TestHostileUnreadMLines(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "mlines")
	for _, n := range []int{32, 88} {
		bad := join(t, srv, "mlines", fmt.Sprintf("Mallory %d", n))
		waitFor(t, bad, "the meeting's media", func(st client.State) bool {
			return receives(st, h.clients[0].ID, camera, 10)
		})
		before := heapMB()
		mlines := []hostile.MLine{{Kind: videoKind, Source: camera}}
		for range n - 1 {
			mlines = append(mlines, hostile.MLine{Kind: videoKind, Flood: 300})
		}
		p, refused := hostilePublish(t, bad, hostile.Offer{MLines: mlines})
		if refused == nil {
			// Enough for Pion to fill a megabyte buffer on every unread m-line.
			flooded(p, (n-1)*1200, 15*time.Second)
		}
		after := heapMB()
		sent := 0
		if p != nil {
			sent = p.Sent()
		}
		t.Logf("%d m-lines, 1 announced: refused %v; %d RTP packets sent; heap %.1f MB before, %.1f MB after (+%.1f MB)",
			n, refused, sent, before, after, after-before)
		if refused == nil || refused.Code != signal.CodeBadSDP {
			t.Errorf("%d m-lines: offer not refused with %s", n, signal.CodeBadSDP)
		}
		if after-before > 10 {
			t.Errorf("%d m-lines: the heap grew by %.1f MB", n, after-before)
		}
	}
	h.check(t, "unread m-lines")
}

// RTP on SSRCs that no offer declared, on an announced m-line: Pion opens
// a stream for each and, when it cannot place it, keeps it unread for as
// long as the connection lives. Nothing in the offer shows it; each
// connection's buffers now share a budget of unread bytes (connBuffers).
func TestHostileStraySSRCs(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "strays")
	bad := join(t, srv, "strays", "Mallory")
	p, refused := hostilePublish(t, bad, hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera}}})
	if refused != nil {
		t.Fatalf("refused: %v", refused)
	}
	// Everyone sees the camera first, so that what receiving it costs in
	// this process is not counted as the attack's.
	for _, c := range append([]*client.Client{bad}, h.clients...) {
		waitFor(t, c, "media", func(st client.State) bool {
			if c == bad {
				return receives(st, h.clients[0].ID, camera, 10)
			}
			return receives(st, bad.ID, camera, 10)
		})
	}
	h.mark()
	before := heapMB()
	// Some 36 MB of RTP, of which each stray's first megabyte stayed in
	// memory; at a rate the honest meeting's machine can take beside it.
	const strays = 30
	p.Stray(strays, 100)
	flooded(p, p.Sent()+strays*1000, 20*time.Second)
	after := heapMB()
	t.Logf("%d stray SSRCs: %d RTP packets sent; heap %.1f MB before, %.1f MB after (+%.1f MB)", strays, p.Sent(), before, after, after-before)
	// The attacker's connection may hold 3 MB unread (connBuffers); the
	// rest of the bound is what this process's honest clients take in the
	// meantime (their NACK caches fill as they send, some 8 MB here).
	if after-before > 24 {
		t.Errorf("the heap grew by %.1f MB", after-before)
	}
	h.check(t, "stray SSRCs")
}
