package server

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"plausch.dev/plausch/internal/client"
)

func metric(t *testing.T, srv *Server, name string) float64 {
	t.Helper()
	res, err := http.Get(srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics:\n%.500s", name, body)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// Metrics count packets, meetings and participants, and only with --metrics.
func TestMetrics(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Metrics = true })
	if metric(t, srv, "plausch_rtp_packets_forwarded_total") != 0 {
		t.Fatal("packets before any meeting")
	}
	a, b := join(t, srv, "counted", "A"), join(t, srv, "counted", "B")
	publish(t, a, mic, camera)
	waitFor(t, b, "A's video", func(st client.State) bool { return receives(st, a.ID, camera, 5) })
	if got := metric(t, srv, "plausch_meetings"); got != 1 {
		t.Errorf("meetings %v", got)
	}
	if got := metric(t, srv, "plausch_participants"); got != 2 {
		t.Errorf("participants %v", got)
	}
	recv, fwd := metric(t, srv, "plausch_rtp_packets_received_total"), metric(t, srv, "plausch_rtp_packets_forwarded_total")
	if recv < 20 || fwd < 20 || fwd > recv {
		t.Errorf("received %v forwarded %v", recv, fwd)
	}

	plain := startServer(t)
	res, err := http.Get(plain.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without --metrics: %d", res.StatusCode)
	}
}
