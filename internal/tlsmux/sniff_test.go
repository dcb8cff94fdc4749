package tlsmux

import "testing"

func TestClassifyHead(t *testing.T) {
	for _, tc := range []struct {
		name string
		head string
		kind kind
		need int
	}{
		{"nothing yet", "", kindUnknown, 1},
		{"GET", "G", kindHTTP, 0},
		{"POST", "POST / HTTP/1.1", kindHTTP, 0},
		{"HTTP/2 preface", "PRI * HTTP/2.0", kindHTTP, 0},
		{"lowercase token", "get", kindHTTP, 0},
		{"STUN, type only", "\x00\x03", kindUnknown, 8},
		{"STUN allocate", "\x00\x03\x00\x10\x21\x12\xa4\x42", kindTURN, 0},
		{"STUN binding", "\x00\x01\x00\x00\x21\x12\xa4\x42rest", kindTURN, 0},
		{"no cookie", "\x00\x01\x00\x00\x00\x00\x00\x00", kindUnknown, 0},
		{"TLS inside TLS", "\x16\x03\x01\x02\x00\x01\x00\x01", kindUnknown, 0},
		{"ChannelData first", "\x40\x00\x00\x04", kindUnknown, 0}, // a channel needs a STUN request first
		{"high bit", "\xff", kindUnknown, 0},
		{"ASCII digit: STUN range, wait for more", "1", kindUnknown, 8},
	} {
		k, need := classifyHead([]byte(tc.head))
		if k != tc.kind || need != tc.need {
			t.Errorf("%s: got kind %d need %d, want %d %d", tc.name, k, need, tc.kind, tc.need)
		}
	}
}
