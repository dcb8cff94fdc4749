package sfu

import "testing"

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"discard message from (192.168.1.20:50000), unknown": "discard message from ([addr]), unknown",
		"candidate 10.0.0.1 and 2001:db8::1 seen":            "candidate [addr] and [addr] seen",
		"peer [fe80::1ff:fe23:4567:890a]:443 gone":           "peer [addr] gone",
		"loopback ::1 and 127.0.0.1":                         "loopback [addr] and [addr]",
		"nothing here: 12:30 took 3.5s":                      "nothing here: 12:30 took 3.5s",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
