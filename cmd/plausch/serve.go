package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/server"
	"plausch.dev/plausch/internal/sfu"
	plsignal "plausch.dev/plausch/internal/signal"
)

// serve runs the server until SIGINT or SIGTERM.
func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: plausch serve [flags]\n\nEvery flag can also be set by the environment variable in brackets.\n\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", env("PLAUSCH_ADDR", ":8080"), "address to listen on, host:port (port 0 picks a free port): plain HTTP, or HTTPS with -domain or -tls-cert (then usually :443) [PLAUSCH_ADDR]")
	udpPort := fs.Int("udp-port", envInt("PLAUSCH_UDP_PORT", 0), "carry all media on this one UDP port; 0 uses a random port per connection [PLAUSCH_UDP_PORT]")
	tcpPort := fs.Int("tcp-port", envInt("PLAUSCH_TCP_PORT", 0), "also carry media over TCP on this port (ICE-TCP), for networks that block UDP; browsers prefer UDP; 0 is off [PLAUSCH_TCP_PORT]")
	publicIP := fs.String("public-ip", env("PLAUSCH_PUBLIC_IP", ""), "comma-separated public IPs to announce to browsers, for a server behind 1:1 NAT [PLAUSCH_PUBLIC_IP]")
	loopback := fs.Bool("ice-loopback", envBool("PLAUSCH_ICE_LOOPBACK"), "offer only loopback (127.0.0.1, ::1) media addresses: for tests and local development [PLAUSCH_ICE_LOOPBACK]")
	allowPrivate := fs.Bool("ice-allow-private", envBool("PLAUSCH_ICE_ALLOW_PRIVATE"), "send media to participants at private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): for a server reached on a LAN or VPN; a server on the Internet refuses them [PLAUSCH_ICE_ALLOW_PRIVATE]")
	iceServers := fs.String("ice-servers", env("PLAUSCH_ICE_SERVERS", ""), "comma-separated STUN/TURN URLs your own infrastructure provides to browsers; none by default [PLAUSCH_ICE_SERVERS]")
	maxMeetings := fs.Int("max-meetings", envInt("PLAUSCH_MAX_MEETINGS", 1000), "meetings at once on this server; 0 means no limit [PLAUSCH_MAX_MEETINGS]")
	maxParticipants := fs.Int("max-participants", envInt("PLAUSCH_MAX_PARTICIPANTS", 100), "participants per meeting; 0 means no limit [PLAUSCH_MAX_PARTICIPANTS]")
	audioLastN := fs.Int("audio-last-n", envInt("PLAUSCH_AUDIO_LAST_N", 0), "forward only the microphones of the N who spoke last, for very large meetings; 0 forwards everyone's [PLAUSCH_AUDIO_LAST_N]")
	drain := fs.Duration("drain-timeout", envDuration("PLAUSCH_DRAIN_TIMEOUT", 30*time.Second), "on SIGTERM or SIGINT, how long running meetings may go on before connections close (a second SIGINT stops at once) [PLAUSCH_DRAIN_TIMEOUT]")
	withMetrics := fs.Bool("metrics", envBool("PLAUSCH_METRICS"), "serve Prometheus metrics (packet counters, meetings, participants; nothing personal) at /metrics on the public address, where anyone can read them; prefer -metrics-addr [PLAUSCH_METRICS]")
	metricsAddr := fs.String("metrics-addr", env("PLAUSCH_METRICS_ADDR", ""), "serve /metrics on this address of its own, e.g. 127.0.0.1:9090, and not on the public one [PLAUSCH_METRICS_ADDR]")
	allowedHosts := fs.String("allowed-hosts", env("PLAUSCH_ALLOWED_HOSTS", ""), "comma-separated host names the server answers to (any port), e.g. meet.example.org; others get 421, which stops DNS rebinding; empty answers any [PLAUSCH_ALLOWED_HOSTS]")
	logLevel := fs.String("log-level", env("PLAUSCH_LOG_LEVEL", "info"), "debug, info, warn or error; logs never hold IP addresses, names or meeting names [PLAUSCH_LOG_LEVEL]")
	applyLimits := limitFlags(fs)
	applyEdge := edgeFlags(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "plausch: bad -log-level %q\n", *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := server.Config{
		Addr: *addr,
		Media: sfu.Config{UDPPort: *udpPort, TCPPort: *tcpPort, PublicIPs: split(*publicIP), LoopbackOnly: *loopback,
			AllowPrivateCandidates: *allowPrivate},
		Rooms:        room.Config{MaxRooms: *maxMeetings, MaxParticipants: *maxParticipants, AudioLastN: *audioLastN},
		Log:          log,
		Metrics:      *withMetrics,
		MetricsAddr:  *metricsAddr,
		AllowedHosts: split(*allowedHosts),
	}
	if urls := split(*iceServers); len(urls) > 0 {
		cfg.ICEServers = []plsignal.ICEServer{{URLs: urls}}
	}
	if err := applyLimits(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "plausch:", err)
		return 2
	}
	if err := applyEdge(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "plausch:", err)
		return 2
	}
	srv, err := server.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "plausch:", err)
		return 1
	}
	// Tests and scripts read this line to find the chosen port.
	fmt.Println("listening on", srv.URL())
	log.Info("server started", "version", version)
	if *withMetrics && *metricsAddr == "" {
		log.Warn("metrics are served on the public address: anyone can read how many meetings and participants there are; use -metrics-addr")
	}

	stop := make(chan os.Signal, 2)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	sig := <-stop
	log.Info("draining: no new meetings, connections close after the drain timeout", "signal", sig.String(), "timeout", drain.String())
	ctx, hurry := context.WithCancel(context.Background())
	go func() {
		<-stop
		log.Info("second signal: stopping now")
		hurry()
	}()
	if err := srv.Drain(ctx, *drain); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envDuration(key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envBool(key string) bool {
	v, _ := strconv.ParseBool(os.Getenv(key))
	return v
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
