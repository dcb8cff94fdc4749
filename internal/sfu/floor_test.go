package sfu

import (
	"fmt"
	"net"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// BenchmarkFloor measures what forwarding one packet cannot avoid, to set
// BenchmarkForward against: SRTP-decrypt it once (AES-128-GCM, the profile
// the server prefers), then for each subscriber encrypt it with that
// subscriber's key and send it over UDP on loopback. One op is one incoming
// packet; ns/fwd-pkt is per forwarded packet, as in BenchmarkForward.
func BenchmarkFloor(b *testing.B) {
	for _, n := range []int{1, 5, 20} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			key, salt := make([]byte, 16), make([]byte, 12)
			newCtx := func() *srtp.Context {
				c, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
				must(b, err)
				return c
			}
			sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			must(b, err)
			defer sink.Close()
			conn, err := net.DialUDP("udp4", nil, sink.LocalAddr().(*net.UDPAddr))
			must(b, err)
			defer conn.Close()

			// What the publisher sent: encrypted 1100-byte video packets,
			// made before the clock starts. Replay protection is off so
			// that they can be decrypted again and again.
			up := newCtx()
			down, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm, srtp.SRTPNoReplayProtection())
			must(b, err)
			sent := make([][]byte, 1024)
			for i := range sent {
				hdr := rtp.Header{Version: 2, PayloadType: 96, SSRC: 1, Marker: true, SequenceNumber: uint16(i)}
				plain, err := (&rtp.Packet{Header: hdr, Payload: make([]byte, 1100)}).Marshal()
				must(b, err)
				sent[i], err = up.EncryptRTP(nil, plain, &hdr)
				must(b, err)
			}
			subs := make([]*srtp.Context, n)
			for i := range subs {
				subs[i] = newCtx()
			}
			dec := make([]byte, 0, 1500)
			out := make([]byte, 0, 1500)
			var h rtp.Header
			b.SetBytes(1100)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				dec, err = down.DecryptRTP(dec[:0], sent[i%len(sent)], &h)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range subs {
					h.SSRC = 2
					out, err = c.EncryptRTP(out[:0], dec, &h)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := conn.Write(out); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fwd-pkt")
		})
	}
}
