package signal

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	good := []struct {
		in   string
		want Message
	}{
		{`{"type":"join","room":"r-1","name":"Ada","audio":true}`, &Join{Room: "r-1", Name: "Ada", Audio: true}},
		{`{"type":"publish.offer","sdp":"v=0","tracks":[{"mid":"0","source":"microphone"},{"mid":"1","source":"camera"}]}`,
			&PublishOffer{SDP: "v=0", Tracks: []PublishedTrack{{"0", "microphone"}, {"1", "camera"}}}},
		{`{"type":"subscribe.answer","sdp":"v=0"}`, &SubscribeAnswer{SDP: "v=0"}},
		{`{"type":"media","audio":false,"video":true}`, &Media{Video: true}},
		{`{"type":"leave","extra":1}`, &Leave{}},
	}
	for _, g := range good {
		got, err := Decode([]byte(g.in))
		if err != nil {
			t.Errorf("%s: %v", g.in, err)
			continue
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(g.want)
		if string(a) != string(b) || got.Type() != g.want.Type() {
			t.Errorf("%s: got %s, want %s", g.in, a, b)
		}
	}
	bad := []struct {
		in   string
		code Code
	}{
		{`nope`, CodeBadJSON},
		{`{"type":5}`, CodeBadJSON},
		{`{}`, CodeInvalid},
		{`{"type":"dance"}`, CodeUnknownType},
		{`{"type":"join","name":"x"}`, CodeInvalid},
		{`{"type":"join","room":"x"}`, CodeInvalid},
		{`{"type":"publish.offer"}`, CodeInvalid},
		{`{"type":"publish.offer","sdp":"v","tracks":[{"mid":"0","source":"camera"},{"mid":"1","source":"camera"}]}`, CodeInvalid},
		{`{"type":"publish.offer","sdp":"v","tracks":[{"mid":"","source":"camera"}]}`, CodeInvalid},
		{`{"type":"candidate","pc":"publish"}`, CodeInvalid},
		{`{"type":"candidate","pc":"x","candidate":{}}`, CodeInvalid},
		{`{"type":"media","audio":true}`, CodeInvalid},
		{`{"type":"join","room":"` + strings.Repeat("a", MaxMessageBytes) + `"}`, CodeTooLarge},
		{`{"type":"publish.offer","sdp":"` + strings.Repeat("a", MaxMessageBytes) + `"}`, CodeTooLarge},
		{`{"type":"subscribe.answer","sdp":"` + strings.Repeat("a", MaxAnswerBytes) + `"}`, CodeTooLarge},
		{`{"type":"view","videos":[` + strings.Repeat(`{"participant":"p","source":"camera"},`, MaxViewVideos) + `{}]}`, CodeInvalid},
	}
	// The answer to the server's offer for a large meeting is large.
	if _, err := Decode([]byte(`{"type":"subscribe.answer","sdp":"` + strings.Repeat("a", 300<<10) + `"}`)); err != nil {
		t.Errorf("a 300 KiB answer: %v", err)
	}
	for _, b := range bad {
		_, err := Decode([]byte(b.in))
		var e *Error
		if !errors.As(err, &e) || e.Code != b.code {
			t.Errorf("%.60s: got %v, want code %s", b.in, err, b.code)
		}
	}
}

func TestEncode(t *testing.T) {
	cases := map[string]Outbound{
		`{"type":"participant.left","id":"p1"}`:             ParticipantLeft{ID: "p1"},
		`{"type":"speaking","ids":[]}`:                      Speaking{IDs: []string{}},
		`{"type":"error","code":"invalid","message":"why"}`: ErrorMessage{Code: CodeInvalid, Message: "why"},
		`{"type":"publish.answer","sdp":"v=0"}`:             PublishAnswer{SDP: "v=0"},
		`{"type":"joined","id":"a","room":"r","role":"moderator","settings":{"password":true,"lobby":false,"e2eeRequired":false,"p2p":true},"iceServers":[],"participants":[]}`: Joined{ID: "a", Room: "r", Role: RoleModerator, Settings: Settings{Password: true, P2P: true}, ICEServers: []ICEServer{}, Participants: []Participant{}},
		`{"type":"chat","from":"a","data":"x"}`:                                    ChatMessage{From: "a", Data: "x"},
		`{"type":"lobby.waiting"}`:                                                 LobbyWaiting{},
		`{"type":"error","code":"too_many_attempts","message":"m","retryAfter":3}`: ErrorMessage{Code: CodeTooManyAttempts, Message: "m", RetryAfter: 3},
	}
	for want, m := range cases {
		if got := string(Encode(m)); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestAsErrorHidesInternals(t *testing.T) {
	e := AsError(errors.New("open /secret/path: permission denied"))
	if e.Code != CodeInternal || strings.Contains(e.Message, "secret") {
		t.Errorf("leaked: %+v", e)
	}
}

// FuzzDecode: no input panics, and whatever decodes re-validates after a
// round trip through JSON.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","room":"r-1","name":"Ada","audio":true,"video":false}`,
		`{"type":"publish.offer","sdp":"v=0\r\n","tracks":[{"mid":"0","source":"microphone"}]}`,
		`{"type":"subscribe.answer","sdp":"v=0"}`,
		`{"type":"candidate","pc":"publish","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"media","audio":false,"video":true}`,
		`{"type":"leave"}`, `{"type":null}`, `[]`, `"x"`, `{"type":"join","room":{}}`,
		`{"type":"join","room":"r","name":"n","password":"pw","hasKey":true,"publicKey":"BBES2B3t"}`,
		`{"type":"chat","to":"abc","data":"q83v"}`, `{"type":"relay","to":"abc","data":"{}"}`,
		`{"type":"key.status","hasKey":true}`, `{"type":"room.password","password":""}`,
		`{"type":"room.lobby","enabled":false}`, `{"type":"lobby.admit","id":"x"}`,
		`{"type":"participant.mute","id":"x","kind":"video"}`, `{"type":"room.mute","kind":"audio"}`,
		`{"type":"participant.remove","id":"x"}`, `{"type":"participant.grant","id":"x"}`, `{"type":"room.end"}`,
		`{"type":"view","videos":[{"participant":"p1","source":"camera","width":640,"height":360}],"lastN":9}`,
		`{"type":"view","videos":[]}`, `{"type":"view","videos":[{"participant":"p1","source":"mic","width":-1}],"lastN":99}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if m.Type() == "" {
			t.Fatal("message without a type")
		}
	})
}
