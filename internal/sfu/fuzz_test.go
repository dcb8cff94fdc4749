package sfu

import (
	"errors"
	"testing"
)

// FuzzHandleOffer feeds client-supplied SDP to the publisher: whatever it
// is, the answer is an error wrapping ErrBadSDP or a valid answer, never a
// panic.
func FuzzHandleOffer(f *testing.F) {
	f.Add("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	f.Add("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
		"c=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
		"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
		"a=setup:actpass\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n")
	f.Add("not sdp at all")
	e, err := NewEngine(Config{LoopbackOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	f.Fuzz(func(t *testing.T, offer string) {
		p, err := e.NewPublisher(PublisherParams{Label: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.HandleOffer(offer, map[string]string{"0": "microphone"}); err != nil && !errors.Is(err, ErrBadSDP) {
			t.Fatalf("error not marked as bad SDP: %v", err)
		}
	})
}

// FuzzParseVP8 feeds publisher-supplied payloads to what the forwarder reads
// of them: it must never read out of bounds, whatever a client sends.
func FuzzParseVP8(f *testing.F) {
	f.Add(vp8Packet(1, 0, 300, true, true).Payload)
	f.Add([]byte{0x90, 0x80, 0x05, 0x00})
	f.Add([]byte{0x90, 0xe0, 0x85})
	f.Add([]byte{0x7c, 0x85, 0x00})
	f.Add([]byte{0x18, 0x00, 0x02, 0x67, 0x00})
	f.Fuzz(func(t *testing.T, payload []byte) {
		h264Keyframe(payload)
		d, ok := parseVP8(payload)
		if !ok {
			return
		}
		if d.hdrLen > len(payload) || d.picIdx >= len(payload) || d.tl0Idx >= len(payload) ||
			d.picWide && d.picIdx+1 >= len(payload) {
			t.Fatalf("descriptor %+v points past a payload of %d bytes", d, len(payload))
		}
		vp8Size(payload, d)
		if d.picIdx >= 0 {
			d.setPicID(payload, d.picID(payload)+1)
		}
	})
}
