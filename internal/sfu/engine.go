// Package sfu is the media server: Pion peer connections that receive each
// participant's tracks once and forward their RTP, undecoded, to every
// subscriber. It knows nothing of rooms, roles or passwords.
package sfu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// Config says how the media server reaches browsers.
type Config struct {
	// UDPPort, when not zero, carries all media of all peers on one UDP port,
	// so a firewall needs one rule. Zero uses an ephemeral port per peer.
	UDPPort int
	// PublicIPs are announced as host candidates instead of the local
	// addresses, for a server behind 1:1 NAT.
	PublicIPs []string
	// LoopbackOnly offers only 127.0.0.1/::1 candidates and sends only to
	// loopback addresses (tests, local dev).
	LoopbackOnly bool
	// AllowPrivateCandidates lets the server send to participants at
	// private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7):
	// for a server that browsers reach on a LAN or a VPN. Loopback,
	// link-local, multicast, broadcast and reserved addresses are refused
	// whatever this says (unless LoopbackOnly).
	AllowPrivateCandidates bool
	// Net, when set, is the network the media goes over instead of the
	// host's (Pion's SettingEngine.SetNet), for tests: a host of
	// internal/netsim, whose only interface is loopback. Its addresses are
	// gathered even when LoopbackOnly is off, so that the rules for remote
	// candidates of a server on the Internet can be tested on loopback.
	Net transport.Net
	// TCPPort, when not 0, also carries media over TCP on this one port
	// (ICE-TCP, passive): for networks that block UDP but let the browser
	// connect out on any TCP port. Browsers prefer UDP; TCP costs head-of-
	// line blocking, so TURN over UDP, where it gets through, is better.
	TCPPort int
	// DisconnectTimeout is how long a silent media connection stays before it
	// counts as failed.
	DisconnectTimeout time.Duration
	// Log receives Pion's warnings and errors, addresses redacted.
	Log *slog.Logger
}

// Engine creates peer connections that share one configuration. Publishers
// and subscribers differ in what they need: a publisher receives (simulcast,
// NACK generation, congestion feedback for the browser's estimator), a
// subscriber sends (retransmissions from the layer caches, its own bandwidth
// estimate from the browser's feedback).
type Engine struct {
	// What the connections share; each gets its own API (connAPI).
	settings     webrtc.SettingEngine
	pubMedia     *webrtc.MediaEngine
	pubIntercept *interceptor.Registry
	subMedia     *webrtc.MediaEngine
	subIntercept *interceptor.Registry
	mux          io.Closer
	tcpMux       io.Closer // nil without Config.TCPPort
	stats        Stats
	policy       candidatePolicy

	// newSub serialises subscriber creation so that the estimator the
	// congestion controller announces belongs to the connection being made.
	newSub    sync.Mutex
	estimator cc.BandwidthEstimator
}

// Stats counts RTP packets over the engine's life.
type Stats struct {
	Received      atomic.Uint64 // from publishers
	Forwarded     atomic.Uint64 // to subscribers
	Retransmitted atomic.Uint64 // to subscribers, answering NACKs
}

// Stats returns the engine's packet counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// initialBandwidth is each subscriber's bandwidth estimate before any
// feedback: enough for a few small videos, so a start is quick but not
// a flood.
const initialBandwidth = 1_500_000

// NewEngine builds the WebRTC APIs for cfg. Close releases its UDP port.
func NewEngine(cfg Config) (*Engine, error) {
	e := &Engine{policy: candidatePolicy{loopbackOnly: cfg.LoopbackOnly, allowPrivate: cfg.AllowPrivateCandidates}}
	pm, pr, err := publisherMedia()
	if err != nil {
		return nil, err
	}
	sm, sr, err := e.subscriberMedia()
	if err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	se.LoggerFactory = loggerFactory{log: cfg.Log}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	disconnect := cfg.DisconnectTimeout
	if disconnect <= 0 {
		disconnect = 5 * time.Second
	}
	se.SetICETimeouts(disconnect, disconnect+2*time.Second, time.Second)
	// AES-GCM is several times cheaper per packet than AES-CM+HMAC in Pion.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	// Signalled candidates are filtered before Pion sees them (see
	// candidateGuard); this filter is for those Pion learns by itself, from
	// checks that arrive from an address nobody signalled (peer-reflexive).
	se.SetRemoteIPFilter(e.policy.allowsIP)
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" || name == "lo0" })
	}
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
		se.SetIncludeLoopbackCandidate(true)
	}
	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: cfg.PublicIPs, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return nil, fmt.Errorf("public IPs %v: %w", cfg.PublicIPs, err)
		}
	}
	if cfg.UDPPort != 0 {
		var opts []ice.UDPMuxFromPortOption
		if cfg.LoopbackOnly {
			opts = append(opts, ice.UDPMuxFromPortWithLoopback(),
				ice.UDPMuxFromPortWithIPFilter(func(ip net.IP) bool { return ip.IsLoopback() }),
				ice.UDPMuxFromPortWithInterfaceFilter(func(name string) bool { return name == "lo" || name == "lo0" }))
		}
		mux, err := ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
		if err != nil {
			return nil, fmt.Errorf("listen on UDP port %d: %w", cfg.UDPPort, err)
		}
		se.SetICEUDPMux(mux)
		e.mux = mux
	}
	if cfg.TCPPort != 0 {
		if err := e.listenTCP(&se, cfg); err != nil {
			if e.mux != nil {
				_ = e.mux.Close()
			}
			return nil, err
		}
	}
	e.settings, e.pubMedia, e.pubIntercept, e.subMedia, e.subIntercept = se, pm, pr, sm, sr
	return e, nil
}

// tcpReadBuffer is how many packets a TCP media connection buffers before
// its reader takes them.
const tcpReadBuffer = 32

// listenTCP carries media over TCP too, on cfg.TCPPort (passive ICE-TCP).
func (e *Engine) listenTCP(se *webrtc.SettingEngine, cfg Config) error {
	host := ""
	if cfg.LoopbackOnly {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.TCPPort)))
	if err != nil {
		return fmt.Errorf("listen on TCP port %d: %w", cfg.TCPPort, err)
	}
	mux := webrtc.NewICETCPMux(se.LoggerFactory.NewLogger("ice-tcp"), ln, tcpReadBuffer)
	se.SetICETCPMux(mux)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	e.tcpMux = mux
	return nil
}

// connAPI is the API for one connection: the shared settings, and buffers
// of its own for what arrives, whose unread bytes it counts (connBuffers).
// Pion copies the media engine per connection and builds the interceptors
// per connection anyway.
func (e *Engine) connAPI(m *webrtc.MediaEngine, r *interceptor.Registry) *webrtc.API {
	se := e.settings
	se.BufferFactory = newConnBuffers().newBuffer
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(r), webrtc.WithSettingEngine(se))
}

// publisherMedia is what receiving needs: the simulcast header extensions,
// NACKs for lost packets, receiver reports, and transport-wide feedback for
// the browser's congestion control.
func publisherMedia() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, nil, err
	}
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, nil, fmt.Errorf("register %s: %w", uri, err)
		}
	}
	ir := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, nil, fmt.Errorf("nack generator: %w", err)
	}
	ir.Add(gen)
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, fmt.Errorf("rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, nil, fmt.Errorf("twcc: %w", err)
	}
	return m, ir, nil
}

// subscriberMedia is what sending needs: sender reports, transport-wide
// sequence numbers, and a GCC estimator per connection fed by the browser's
// feedback. NACKs are answered by the DownTracks from the shared layer
// caches, not by a per-subscriber copy of every packet.
func (e *Engine) subscriberMedia() (*webrtc.MediaEngine, *interceptor.Registry, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, nil, err
	}
	// Retransmission streams, which carry the padding of bandwidth
	// probes (probe.go); NACKs are answered on the video's own stream.
	for _, c := range []struct{ pt, apt webrtc.PayloadType }{{97, 96}, {103, 102}} {
		err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", c.apt),
		}, PayloadType: c.pt}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return nil, nil, fmt.Errorf("register rtx: %w", err)
		}
	}
	ir := &interceptor.Registry{}
	// Innermost: after the estimator has counted a probe (probe.go).
	ir.Add(paddingFactory{})
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		// No pacer: packets go out as they come, and the layer choice
		// keeps the rate within the estimate.
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(initialBandwidth), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	})
	if err != nil {
		return nil, nil, fmt.Errorf("congestion control: %w", err)
	}
	ccf.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) { e.estimator = est })
	// Interceptors added later wrap those added earlier: the transport-wide
	// sequence number must be on a packet before the estimator sees it.
	ir.Add(ccf)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, nil, fmt.Errorf("twcc header extension: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, fmt.Errorf("rtcp reports: %w", err)
	}
	return m, ir, nil
}

// Close releases the shared UDP and TCP ports, if any.
func (e *Engine) Close() error {
	var err error
	if e.mux != nil {
		err = e.mux.Close()
	}
	if e.tcpMux != nil {
		err = errors.Join(err, e.tcpMux.Close())
	}
	return err
}

var pcConfig = webrtc.Configuration{
	BundlePolicy:  webrtc.BundlePolicyMaxBundle,
	RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
}

func (e *Engine) newPublisherPC() (*webrtc.PeerConnection, error) {
	return e.connAPI(e.pubMedia, e.pubIntercept).NewPeerConnection(pcConfig)
}

// newSubscriberPC returns a connection and its bandwidth estimator. The
// interceptors are built inside NewPeerConnection, which is when the
// congestion controller reports the estimator.
func (e *Engine) newSubscriberPC() (*webrtc.PeerConnection, cc.BandwidthEstimator, error) {
	e.newSub.Lock()
	defer e.newSub.Unlock()
	e.estimator = nil
	pc, err := e.connAPI(e.subMedia, e.subIntercept).NewPeerConnection(pcConfig)
	if err != nil {
		return nil, nil, err
	}
	if e.estimator == nil {
		pc.Close()
		return nil, nil, errors.New("sfu: no bandwidth estimator for the subscriber")
	}
	return pc, e.estimator, nil
}

var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
	{Type: "transport-cc"},
}

// AudioLevelURI is the RFC 6464 header extension browsers send with audio.
const AudioLevelURI = sdp.AudioLevelURI

func registerCodecs(m *webrtc.MediaEngine) error {
	codecs := []struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			// NACK for audio too: a lost packet is resent from the cache
			// when the round trip allows, and Opus FEC covers the rest.
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}, {Type: "nack"}},
		}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback,
		}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.c, c.kind); err != nil {
			return fmt.Errorf("register %s: %w", c.c.MimeType, err)
		}
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return fmt.Errorf("register audio level extension: %w", err)
	}
	return nil
}

// ErrClosed is returned for operations on a closed publisher or subscriber.
var ErrClosed = errors.New("sfu: closed")
