package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/server"
	"plausch.dev/plausch/internal/sfu"
)

// The probe sees what the server forwards: real VP8 keyframes decode.
func TestProbeReportsForwardedKeyframes(t *testing.T) {
	srv, err := server.Start(server.Config{Addr: "127.0.0.1:0", Media: sfu.Config{LoopbackOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := client.Dial(ctx, srv.URL(), "probed", client.Options{Name: "Publisher", Audio: true, Video: true, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish(ctx, "microphone", "camera"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := probe([]string{"--url", srv.URL(), "--room", "probed", "--duration", "2500ms", "--ice-loopback"}, &out); code != 0 {
		t.Fatalf("probe exit %d: %s", code, out.String())
	}
	var report struct{ Tracks []probeTrack }
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	var video *probeTrack
	for i, tr := range report.Tracks {
		if tr.Participant == pub.ID && tr.Source == "camera" {
			video = &report.Tracks[i]
		}
	}
	if video == nil || video.Packets == 0 || video.KeyframeCount == 0 {
		t.Fatalf("no video keyframes probed: %s", out.String())
	}
	if video.UndecodableKeyframes != 0 || video.DecodedKeyframes != video.KeyframeCount {
		t.Errorf("plain VP8 keyframes did not decode: %+v", *video)
	}
	for _, kf := range video.Keyframes {
		if len(kf.SHA256) != 64 || kf.Bytes < 100 {
			t.Errorf("keyframe record %+v", kf)
		}
	}
}
