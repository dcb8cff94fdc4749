package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"plausch.dev/plausch/internal/loadtest"
)

// loadtestCmd runs synthetic participants against a server and prints what
// they received, as a table and, with --json, as JSON.
func loadtestCmd(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: plausch loadtest --url URL [flags]\n\n"+
			"Starts synthetic participants (Pion, bundled VP8 and Opus, paced in real time) in one or\n"+
			"more meetings, measures what they receive for --duration, and reports streams, bitrate,\n"+
			"loss, freezes (gaps over 500 ms), join times, the round trip the server measures and,\n"+
			"with --server-pid on the same machine, the server's CPU and memory.\n\n")
		fs.PrintDefaults()
	}
	var cfg loadtest.Config
	fs.StringVar(&cfg.URL, "url", "", "server base URL, e.g. http://127.0.0.1:8080")
	fs.IntVar(&cfg.Meetings, "meetings", 1, "meetings")
	fs.IntVar(&cfg.Publishers, "publishers", 4, "participants per meeting who send camera and microphone")
	fs.IntVar(&cfg.Subscribers, "subscribers", 0, "participants per meeting who only receive")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to measure once everyone has joined")
	fs.DurationVar(&cfg.RampUp, "ramp-up", 100*time.Millisecond, "pause between two joins")
	fs.BoolVar(&cfg.Simulcast, "simulcast", true, "send cameras as three layers (320x180, 640x360, 1280x720), as browsers do")
	fs.IntVar(&cfg.Tiles, "tiles", 9, "videos each participant shows, in a grid on a 1280x720 window (0: every video, full size)")
	fs.BoolVar(&cfg.AudioOnly, "audio-only", false, "publish microphones only")
	fs.BoolVar(&cfg.Loopback, "ice-loopback", false, "use only loopback media addresses (tests, a server on this machine)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "PID of the server on this machine, to measure its CPU and memory")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file (- for standard output)")
	quiet := fs.Bool("quiet", false, "no per-second progress")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if cfg.URL == "" {
		fs.Usage()
		return 2
	}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r, err := loadtest.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plausch loadtest:", err)
		return 1
	}
	printReport(stdout, r)
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(r, "", "  ")
		data = append(data, '\n')
		if *jsonOut == "-" {
			_, err = stdout.Write(data)
		} else {
			err = os.WriteFile(*jsonOut, data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "plausch loadtest:", err)
			return 1
		}
	}
	return 0
}

func printReport(w io.Writer, r *loadtest.Report) {
	rows := []struct {
		name  string
		value string
	}{
		{"participants joined", fmt.Sprintf("%d / %d", r.Joined, r.Participants)},
		{"streams received", fmt.Sprintf("%d / %d", r.StreamsReceived, r.StreamsExpected)},
		{"received bitrate", fmt.Sprintf("%.0f kbit/s", r.ReceivedKbps)},
		{"packets received", fmt.Sprintf("%d", r.PacketsReceived)},
		{"packet loss", fmt.Sprintf("%.3f %% (%d packets)", r.LossPercent, r.PacketsLost)},
		{"video freezes (>500 ms)", fmt.Sprintf("%d (longest gap %.0f ms)", r.VideoFreezes, r.MaxGapMs)},
		{"join time median / max", fmt.Sprintf("%.0f / %.0f ms", r.JoinMsMedian, r.JoinMsMax)},
		{"join to first media, max", fmt.Sprintf("%.0f ms", r.FirstMediaMsMax)},
		{"round trip median / max", fmt.Sprintf("%.1f / %.1f ms", r.RTTMsMedian, r.RTTMsMax)},
	}
	if r.ServerRSSMiB > 0 {
		rows = append(rows,
			struct{ name, value string }{"server CPU", fmt.Sprintf("%.0f %% of one core (%.1f us per forwarded packet)", r.ServerCPUPercent, r.ServerCPUMicrosPerPacket)},
			struct{ name, value string }{"server memory", fmt.Sprintf("%.0f MiB (%.1f MiB per participant)", r.ServerRSSMiB, r.ServerRSSPerPart)})
	}
	rows = append(rows, struct{ name, value string }{"load generator CPU", fmt.Sprintf("%.0f %% of one core", r.GeneratorCPUPercent)})
	for _, row := range rows {
		fmt.Fprintf(w, "%-26s %s\n", row.name, row.value)
	}
}
