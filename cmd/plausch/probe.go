package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"plausch.dev/plausch/internal/client"
)

// probeTrack is what the probe reports of one received track.
type probeTrack struct {
	Participant          string            `json:"participant"`
	Source               string            `json:"source"`
	Kind                 string            `json:"kind"`
	Packets              int               `json:"packets"`
	KeyframeCount        int               `json:"keyframes"`
	DecodedKeyframes     int               `json:"decodedKeyframes"`
	UndecodableKeyframes int               `json:"undecodableKeyframes"`
	Keyframes            []client.Keyframe `json:"keyframeList"`
}

// probe joins a meeting as a silent participant, receives what the server
// forwards and reports it as JSON: a way to see what the server itself can
// see (for example, that end-to-end encrypted video does not decode).
func probe(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: plausch probe --url URL --room NAME [flags]\n\n"+
			"Joins a meeting as a silent participant and prints, as JSON, what the server forwards:\n"+
			"packets per track and, for VP8 video, every keyframe's RTP timestamp, SHA-256 and whether it decodes.\n\n")
		fs.PrintDefaults()
	}
	url := fs.String("url", "", "server base URL, e.g. http://127.0.0.1:8080")
	room := fs.String("room", "", "meeting name")
	name := fs.String("name", "Probe", "display name")
	password := fs.String("password", "", "meeting password, if any")
	duration := fs.Duration("duration", 4*time.Second, "how long to listen")
	keyframes := fs.Duration("keyframe-every", 500*time.Millisecond, "ask for a keyframe this often")
	loopback := fs.Bool("ice-loopback", false, "use only loopback media addresses (tests)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *url == "" || *room == "" {
		fs.Usage()
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration+15*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, *url, *room, client.Options{
		Name: *name, Password: *password, Loopback: *loopback, KeyframeEvery: *keyframes, InspectKeyframes: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "plausch probe:", err)
		return 1
	}
	time.Sleep(*duration)
	st := c.State()
	c.Leave()

	out := struct {
		Tracks []probeTrack `json:"tracks"`
	}{Tracks: []probeTrack{}}
	for k, r := range st.Received {
		t := probeTrack{Participant: k.Participant, Source: k.Source, Kind: r.Kind, Packets: r.Packets,
			KeyframeCount: len(r.Keyframes), Keyframes: r.Keyframes}
		for _, kf := range r.Keyframes {
			if kf.Decodes {
				t.DecodedKeyframes++
			} else {
				t.UndecodableKeyframes++
			}
		}
		out.Tracks = append(out.Tracks, t)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return 1
	}
	return 0
}
