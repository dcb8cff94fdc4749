package hostile

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
)

const twoSections = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtcp-fb:96 nack\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=ssrc:5 cname:x\r\na=ssrc:5 msid:a b\r\na=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=rtcp-fb:96 nack\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n" +
	"a=rid:q send\r\na=simulcast:send q\r\na=ssrc:6 cname:x\r\na=ssrc:6 msid:a c\r\n"

func TestEditMLinesKeepsWhatItIsGiven(t *testing.T) {
	if got := EditMLines(twoSections, func(_ int, l []string) []string { return l }); got != twoSections {
		t.Errorf("changed:\n%s", got)
	}
	got := EditMLines(twoSections, func(i int, l []string) []string { return append(l, "a=x:"+string(rune('0'+i))) })
	if strings.Count(got, "a=x:0\r\nm=video") != 1 || !strings.HasSuffix(got, "a=x:1\r\n") {
		t.Errorf("lines not added at the end of each section:\n%s", got)
	}
}

func TestCandidatesGoFirstIntoTheFirstSection(t *testing.T) {
	c := Candidate(netip.MustParseAddrPort("10.0.0.1:9"))
	if _, err := ice.UnmarshalCandidate(c); err != nil {
		t.Fatalf("%s: %v", c, err)
	}
	got := withCandidates(twoSections, []string{c})
	_, sections := splitSections(got)
	var cands []string
	for _, l := range sections[0] {
		if strings.HasPrefix(l, "a=candidate:") {
			cands = append(cands, l)
		}
	}
	if len(cands) != 2 || cands[0] != "a="+c {
		t.Errorf("candidates of the first section: %q", cands)
	}
}

func TestCompactAndSimulcast(t *testing.T) {
	got := compact(withoutSimulcastSSRCs(twoSections), map[int]bool{0: true})
	_, sections := splitSections(got)
	first, second := strings.Join(sections[0], "\n"), strings.Join(sections[1], "\n")
	if !strings.Contains(first, "a=rtcp-fb") || !strings.Contains(first, "msid:a b") {
		t.Errorf("the kept section lost lines:\n%s", first)
	}
	for _, gone := range []string{"a=rtcp-fb", "repaired-rtp-stream-id", "a=ssrc"} {
		if strings.Contains(second, gone) {
			t.Errorf("%s still in the compacted simulcast section:\n%s", gone, second)
		}
	}
	for _, kept := range []string{"sdes:mid", "sdes:rtp-stream-id", "a=rid:q send", "a=simulcast:send q"} {
		if !strings.Contains(second, kept) {
			t.Errorf("%s lost from the compacted section:\n%s", kept, second)
		}
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(got); err != nil {
		t.Fatal(err)
	}
}
