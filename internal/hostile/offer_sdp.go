package hostile

import (
	"fmt"
	"net/netip"
	"strings"
)

// Candidate is a host candidate for UDP at ap, as an a=candidate value
// (the form a trickled candidate takes too). It is as short as it can be,
// so that many fit one offer.
func Candidate(ap netip.AddrPort) string {
	return fmt.Sprintf("candidate:1 1 udp 1 %s %d typ host", ap.Addr(), ap.Port())
}

// EditMLines rewrites every m-section of sdp with f, which gets the
// section's index and lines (the m= line first, no line ends) and returns
// the lines to keep.
func EditMLines(sdp string, f func(i int, lines []string) []string) string {
	head, sections := splitSections(sdp)
	for i, sec := range sections {
		sections[i] = f(i, sec)
	}
	return joinSections(head, sections)
}

// splitSections cuts sdp into its session part and its m-sections, each as
// lines without their ends.
func splitSections(sdp string) (head []string, sections [][]string) {
	for _, l := range strings.Split(strings.TrimSuffix(sdp, "\r\n"), "\r\n") {
		switch {
		case strings.HasPrefix(l, "m="):
			sections = append(sections, []string{l})
		case len(sections) == 0:
			head = append(head, l)
		default:
			sections[len(sections)-1] = append(sections[len(sections)-1], l)
		}
	}
	return head, sections
}

func joinSections(head []string, sections [][]string) string {
	var b strings.Builder
	for _, l := range head {
		b.WriteString(l + "\r\n")
	}
	for _, sec := range sections {
		for _, l := range sec {
			b.WriteString(l + "\r\n")
		}
	}
	return b.String()
}

// withCandidates puts candidates into the first m-section, ahead of the
// peer's own, so that a server that keeps only the first few keeps these.
func withCandidates(sdp string, candidates []string) string {
	if len(candidates) == 0 {
		return sdp
	}
	return EditMLines(sdp, func(i int, lines []string) []string {
		if i != 0 {
			return lines
		}
		at := len(lines)
		for j, l := range lines {
			if strings.HasPrefix(l, "a=candidate:") {
				at = j
				break
			}
		}
		out := append([]string{}, lines[:at]...)
		for _, c := range candidates {
			out = append(out, "a="+c)
		}
		return append(out, lines[at:]...)
	})
}

// withoutSimulcastSSRCs drops the a=ssrc lines of simulcast m-sections, as
// browsers send them: the layers are known by rid alone.
func withoutSimulcastSSRCs(sdp string) string {
	return EditMLines(sdp, func(_ int, lines []string) []string {
		simulcast := false
		for _, l := range lines {
			simulcast = simulcast || strings.HasPrefix(l, "a=simulcast:")
		}
		if !simulcast {
			return lines
		}
		kept := lines[:0:0]
		for _, l := range lines {
			if !strings.HasPrefix(l, "a=ssrc") {
				kept = append(kept, l)
			}
		}
		return kept
	})
}

// compact drops from the m-sections not in keep what the server does not
// need to take them (feedback, stream labels, extensions beyond mid and
// rid), so that some 90 m-lines fit one 64 KiB message.
func compact(sdp string, keep map[int]bool) string {
	return EditMLines(sdp, func(i int, lines []string) []string {
		if keep[i] {
			return lines
		}
		kept := lines[:0:0]
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "a=rtcp-fb:"), l == "a=rtcp-rsize",
				strings.HasPrefix(l, "a=ssrc:") && !strings.Contains(l, " cname:"),
				strings.HasPrefix(l, "a=extmap:") && !strings.Contains(l, ":sdes:mid") && !strings.HasSuffix(l, ":sdes:rtp-stream-id"):
				continue
			}
			kept = append(kept, l)
		}
		return kept
	})
}
