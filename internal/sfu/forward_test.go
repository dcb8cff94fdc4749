package sfu

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// peerAPI is a browser-like Pion endpoint on loopback.
func peerAPI(tb testing.TB) *webrtc.API {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		tb.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		tb.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// forwarding is one publisher's video track on the SFU with n subscribers
// connected to real Pion peers.
type forwarding struct {
	track    *Track
	received chan *rtp.Packet // what subscribers read, when not full
	close    func()
}

// threadCPU measures the CPU time of the benchmark's own thread, which is
// where the forwarding path runs from the read to the UDP send. The
// subscribing peers in the same process decrypt what arrives on other
// threads; wall time would count their work too.
type threadCPU struct{ start time.Duration }

func startThreadCPU() threadCPU {
	runtime.LockOSThread()
	return threadCPU{start: threadCPUTime()}
}

// report adds cpu-ns/fwd-pkt: CPU time per forwarded packet.
func (c threadCPU) report(b *testing.B, subscribers int) {
	used := threadCPUTime() - c.start
	runtime.UnlockOSThread()
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N)/float64(subscribers), "cpu-ns/fwd-pkt")
}

func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD (Linux)
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// forward hands pkt to the track as if its first layer had read it.
func (f *forwarding) forward(pkt *rtp.Packet) {
	raw, err := pkt.Marshal()
	if err != nil {
		panic(err)
	}
	f.track.forward(f.track.layers[0], pkt, raw, time.Now().UnixNano())
}

// setupForwarding connects n subscribers; with read, their peers read and
// report packets (the benchmark leaves that out so as to count only the
// server's allocations).
func setupForwarding(tb testing.TB, n int, read bool) *forwarding {
	tb.Helper()
	e, err := NewEngine(Config{LoopbackOnly: true})
	must(tb, err)
	api := peerAPI(tb)
	var closers []func()
	received := make(chan *rtp.Packet, 16)

	// The publishing peer offers one VP8 track.
	sender, err := api.NewPeerConnection(webrtc.Configuration{})
	must(tb, err)
	closers = append(closers, func() { sender.Close() })
	local, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "camera", "pub")
	must(tb, err)
	_, err = sender.AddTrack(local)
	must(tb, err)
	tracks := make(chan *Track, 1)
	pub, err := e.NewPublisher(PublisherParams{Label: "pub", OnTrack: func(t *Track) { tracks <- t }})
	must(tb, err)
	closers = append(closers, func() { pub.Close() })
	offer, err := sender.CreateOffer(nil)
	must(tb, err)
	gathered := webrtc.GatheringCompletePromise(sender)
	must(tb, sender.SetLocalDescription(offer))
	<-gathered
	answer, err := pub.HandleOffer(sender.LocalDescription().SDP, map[string]string{"0": "camera"})
	must(tb, err)
	must(tb, sender.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}))
	// OnTrack needs a first packet.
	var track *Track
	for track == nil {
		must(tb, local.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1}, Payload: []byte{0x10, 0, 0, 0}}))
		select {
		case track = <-tracks:
		case <-time.After(20 * time.Millisecond):
		}
	}

	// n subscribing peers, each answering the SFU's offers.
	for i := range n {
		peer, err := api.NewPeerConnection(webrtc.Configuration{})
		must(tb, err)
		closers = append(closers, func() { peer.Close() })
		peer.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			for read {
				p, _, err := remote.ReadRTP()
				if err != nil {
					return
				}
				select {
				case received <- p:
				default:
				}
			}
		})
		connected := make(chan struct{})
		peer.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateConnected {
				close(connected)
			}
		})
		var sub *Subscriber
		offers := make(chan string, 4)
		sub, err = e.NewSubscriber(SubscriberParams{SendOffer: func(sdp string, _ []OfferedTrack) { offers <- sdp }})
		must(tb, err)
		closers = append(closers, func() { sub.Close() })
		must(tb, sub.AddTrack(track))
		sdp := <-offers
		must(tb, peer.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}))
		ans, err := peer.CreateAnswer(nil)
		must(tb, err)
		g := webrtc.GatheringCompletePromise(peer)
		must(tb, peer.SetLocalDescription(ans))
		<-g
		must(tb, sub.HandleAnswer(peer.LocalDescription().SDP))
		select {
		case <-connected:
		case <-time.After(10 * time.Second):
			tb.Fatalf("subscriber %d did not connect", i)
		}
	}
	// Bind happens as DTLS completes; wait until every down track is bound.
	deadline := time.Now().Add(10 * time.Second)
	for {
		bound := 0
		for _, d := range track.loadDowns() {
			if d.binding.Load() != nil {
				bound++
			}
		}
		if bound == n {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d down tracks bound", bound, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &forwarding{track: track, received: received, close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		e.Close()
	}}
}

// BenchmarkForward measures the hot path: one RTP packet of a publisher
// fanned out to n subscribers, each copy with its own SSRC and payload type,
// through Pion's interceptors, SRTP and a UDP send on loopback. One op is one
// incoming packet; ns/op divided by n is the cost per forwarded packet.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f := setupForwarding(b, n, false)
			defer f.close()
			payload := make([]byte, 1100)
			payload[0] = 0x10
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, Marker: true}, Payload: payload}
			raw, err := pkt.Marshal()
			must(b, err)
			l := f.track.layers[0]
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startThreadCPU()
			for i := 0; b.Loop(); i++ {
				pkt.SequenceNumber = uint16(i)
				pkt.Timestamp = uint32(i / 4 * 3000)
				raw[2], raw[3] = byte(i>>8), byte(i)
				f.track.forward(l, &pkt, raw, time.Now().UnixNano())
			}
			cpu.report(b, n)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fwd-pkt")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "in-pkts/s")
		})
	}
}

// Forwarded packets reach every real subscriber with the payload intact, the
// sequence number kept and the subscriber's own SSRC.
func TestForwardReachesSubscribers(t *testing.T) {
	f := setupForwarding(t, 3, true)
	defer f.close()
	ssrcs := map[uint32]bool{}
	for _, d := range f.track.loadDowns() {
		ssrcs[d.binding.Load().ssrc] = true
	}
	payload := []byte{0x10, 0, 0, 0, 'p', 'l', 'a', 'u', 's', 'c', 'h'}
	seen := map[uint32]bool{}
	deadline := time.After(10 * time.Second)
	for seq := uint16(1000); len(seen) < 3; seq++ {
		f.forward(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, SequenceNumber: seq, Timestamp: uint32(seq) * 3000}, Payload: payload})
		select {
		case p := <-f.received:
			if string(p.Payload) != string(payload) || !ssrcs[p.SSRC] || p.SequenceNumber < 1000 {
				t.Fatalf("got seq %d ssrc %d payload %q", p.SequenceNumber, p.SSRC, p.Payload)
			}
			seen[p.SSRC] = true
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("only %d of 3 subscribers received", len(seen))
		}
	}
}

// An offer whose answer never comes is sent again, and answering it then
// still connects: a lost answer does not stall the subscriber for good.
func TestUnansweredOfferIsSentAgain(t *testing.T) {
	defer func(p time.Duration) { offerPatience = p }(offerPatience)
	offerPatience = 300 * time.Millisecond
	f := setupForwarding(t, 0, false)
	defer f.close()
	e, err := NewEngine(Config{LoopbackOnly: true})
	must(t, err)
	defer e.Close()
	offers := make(chan string, 4)
	sub, err := e.NewSubscriber(SubscriberParams{SendOffer: func(sdp string, _ []OfferedTrack) { offers <- sdp }})
	must(t, err)
	defer sub.Close()
	must(t, sub.AddTrack(f.track))
	first := <-offers // lost on its way back, say
	var again string
	select {
	case again = <-offers:
	case <-time.After(5 * time.Second):
		t.Fatal("the unanswered offer was not sent again")
	}
	if again != first {
		t.Fatal("a different offer came instead of the waiting one")
	}
	peer, err := peerAPI(t).NewPeerConnection(webrtc.Configuration{})
	must(t, err)
	defer peer.Close()
	must(t, peer.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: again}))
	ans, err := peer.CreateAnswer(nil)
	must(t, err)
	g := webrtc.GatheringCompletePromise(peer)
	must(t, peer.SetLocalDescription(ans))
	<-g
	must(t, sub.HandleAnswer(peer.LocalDescription().SDP))
}
