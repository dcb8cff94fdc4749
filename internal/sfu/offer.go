package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// Limits of a publish offer. Each stands for something the server keeps
// per m-line or per layer; an offer beyond them is refused as a whole.
const (
	// MaxLayers is how many simulcast layers an m-line may send: the
	// three sizes (a quarter, half and full) that browsers send and the
	// layer choice is made for.
	MaxLayers = 3
	// MaxMLines is how many m-lines a publish offer may have, sending or
	// not. A browser keeps an m-line for every track it ever sent (each
	// screen share leaves one behind), so there may be more than sources;
	// each costs the server a transceiver.
	MaxMLines = 32
	// maxSSRCs is how many SSRCs an m-line may declare: a media and a
	// repair stream per layer, and two to spare (FEC).
	maxSSRCs = 2*MaxLayers + 2
	// maxRIDBytes is the longest rid that fits the one-byte header
	// extension that carries it (RFC 8852).
	maxRIDBytes = 16
)

// Why an offer is refused; each is also an ErrBadSDP.
var (
	ErrTooManyLayers = fmt.Errorf("%w: more simulcast layers than supported", ErrBadSDP)
	ErrBadLayers     = fmt.Errorf("%w: bad simulcast layers", ErrBadSDP)
	ErrTooManyMLines = fmt.Errorf("%w: too many m-lines", ErrBadSDP)
	ErrUnannounced   = fmt.Errorf("%w: an m-line sends but is not announced", ErrBadSDP)
)

// sourceKind is the m-line kind each source must have.
var sourceKind = map[string]string{"microphone": "audio", "screen-audio": "audio", "camera": "video", "screen": "video"}

// checkOffer refuses a publish offer that asks for more than the server
// gives: too many m-lines, an m-line that sends without being announced
// as a source (its packets would be received, and buffered by Pion, with
// nobody reading them), more layers than MaxLayers, rids that no browser
// sends. sources maps announced mids to their sources.
func checkOffer(offer *sdp.SessionDescription, sources map[string]string) error {
	if n := len(offer.MediaDescriptions); n > MaxMLines {
		return fmt.Errorf("%w: %d, at most %d", ErrTooManyMLines, n, MaxMLines)
	}
	for i, m := range offer.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			return fmt.Errorf("%w: m-line %d is %.20q, not audio or video", ErrUnannounced, i, kind)
		}
		mid, _ := m.Attribute(sdp.AttrKeyMID)
		source, announced := sources[mid]
		if announced && sourceKind[source] != kind {
			return fmt.Errorf("%w: m-line %d is %s, announced as %s", ErrUnannounced, i, kind, source)
		}
		if sends(m) && !announced {
			return fmt.Errorf("%w: m-line %d (mid %.40q)", ErrUnannounced, i, mid)
		}
		if err := checkLayers(m); err != nil {
			return fmt.Errorf("m-line %d: %w", i, err)
		}
	}
	return nil
}

// sends reports whether the m-line may carry media to the server.
func sends(m *sdp.MediaDescription) bool {
	if _, bundleOnly := m.Attribute("bundle-only"); m.MediaName.Port.Value == 0 && !bundleOnly {
		return false // rejected or stopped; port 0 with bundle-only joins the bundle (RFC 9143)
	}
	for _, a := range m.Attributes {
		switch a.Key {
		case sdp.AttrKeyRecvOnly, sdp.AttrKeyInactive:
			return false
		}
	}
	return true // sendonly, sendrecv, or sendrecv by default
}

// checkLayers checks an m-line's rids (RFC 8851) and simulcast list (RFC
// 8853): video only, at most MaxLayers, each one well formed, declared
// once, and every layer in the list declared.
func checkLayers(m *sdp.MediaDescription) error {
	rids := map[string]bool{}
	ssrcs := map[string]bool{}
	var simulcast []string
	for _, a := range m.Attributes {
		switch a.Key {
		case "rid":
			id, _, _ := strings.Cut(a.Value, " ")
			if !validRID(id) {
				return fmt.Errorf("%w: rid %.40q", ErrBadLayers, id)
			}
			if rids[id] {
				return fmt.Errorf("%w: rid %q twice", ErrBadLayers, id)
			}
			rids[id] = true
		case "simulcast":
			simulcast = append(simulcast, a.Value)
		case sdp.AttrKeySSRC:
			id, _, _ := strings.Cut(a.Value, " ")
			ssrcs[id] = true
		}
	}
	if len(ssrcs) > maxSSRCs {
		return fmt.Errorf("%w: %d SSRCs, at most %d", ErrBadLayers, len(ssrcs), maxSSRCs)
	}
	if len(rids) == 0 && len(simulcast) == 0 {
		return nil
	}
	if m.MediaName.Media != "video" {
		return fmt.Errorf("%w: simulcast on %s", ErrBadLayers, m.MediaName.Media)
	}
	if len(rids) > MaxLayers {
		return fmt.Errorf("%w: %d, at most %d", ErrTooManyLayers, len(rids), MaxLayers)
	}
	if len(simulcast) > 1 {
		return fmt.Errorf("%w: %d simulcast lines", ErrBadLayers, len(simulcast))
	}
	for _, s := range simulcast {
		if err := checkSimulcast(s, rids); err != nil {
			return err
		}
	}
	return nil
}

// checkSimulcast checks a=simulcast's value, e.g. "send q;h;~f" or
// "send q,r;h recv x": every layer named once and declared by an a=rid.
func checkSimulcast(value string, rids map[string]bool) error {
	fields := strings.Fields(value)
	if len(fields) == 0 || len(fields)%2 != 0 {
		return fmt.Errorf("%w: simulcast %.60q", ErrBadLayers, value)
	}
	named := map[string]bool{}
	for i := 0; i < len(fields); i += 2 {
		if fields[i] != "send" && fields[i] != "recv" {
			return fmt.Errorf("%w: simulcast direction %.20q", ErrBadLayers, fields[i])
		}
		for _, alt := range strings.FieldsFunc(fields[i+1], func(r rune) bool { return r == ';' || r == ',' }) {
			id := strings.TrimPrefix(alt, "~")
			if !rids[id] || named[id] {
				return fmt.Errorf("%w: simulcast names %.40q", ErrBadLayers, id)
			}
			named[id] = true
		}
		if strings.Contains(fields[i+1], ";;") || strings.HasPrefix(fields[i+1], ";") || strings.HasSuffix(fields[i+1], ";") {
			return fmt.Errorf("%w: an empty layer in simulcast %.60q", ErrBadLayers, value)
		}
	}
	return nil
}

// validRID is RFC 8851's rid-id, short enough for its header extension.
func validRID(id string) bool {
	if id == "" || len(id) > maxRIDBytes {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
