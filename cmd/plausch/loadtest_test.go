package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"plausch.dev/plausch/internal/loadtest"
	"plausch.dev/plausch/internal/server"
	"plausch.dev/plausch/internal/sfu"
)

// A small load run against an in-process server receives every stream
// without loss, and measures the server (this process).
func TestLoadtestSmallMeeting(t *testing.T) {
	srv, err := server.Start(server.Config{Addr: "127.0.0.1:0", Media: sfu.Config{LoopbackOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out bytes.Buffer
	code := loadtestCmd([]string{"--url", srv.URL(), "--publishers", "3", "--subscribers", "1", "--duration", "2s",
		"--ramp-up", "0s", "--ice-loopback", "--quiet", "--server-pid", strconv.Itoa(os.Getpid()), "--json", "-"}, &out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	t.Log("\n" + out.String())
	var r loadtest.Report
	if err := json.Unmarshal(out.Bytes()[bytes.IndexByte(out.Bytes(), '{'):], &r); err != nil {
		t.Fatal(err)
	}
	// 3 publishers each receive 2 others' 2 tracks; the subscriber 3 x 2.
	if r.Joined != 4 || r.StreamsExpected != 18 || r.StreamsReceived != 18 {
		t.Errorf("joined %d, streams %d/%d", r.Joined, r.StreamsReceived, r.StreamsExpected)
	}
	if r.PacketsReceived < 500 || r.LossPercent > 1 || r.ServerRSSMiB <= 0 || r.JoinMsMax <= 0 {
		t.Errorf("report %+v", r)
	}
}
