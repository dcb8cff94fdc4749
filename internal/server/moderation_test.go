package server

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/session"
	"plausch.dev/plausch/internal/signal"
)

func dialOpts(t *testing.T, srv *Server, room string, opts client.Options) (*client.Client, error) {
	t.Helper()
	ctx, cancel := contextTimeout(10 * time.Second)
	defer cancel()
	opts.Loopback = true
	c, err := client.Dial(ctx, srv.URL(), room, opts)
	if err == nil {
		t.Cleanup(c.Close)
	}
	return c, err
}

func send(t *testing.T, c *client.Client, msg map[string]any) {
	t.Helper()
	if err := c.Send(msg); err != nil {
		t.Fatal(err)
	}
}

func hasError(code signal.Code) func(client.State) bool {
	return func(st client.State) bool {
		for _, e := range st.Errors {
			if e.Code == code {
				return true
			}
		}
		return false
	}
}

// A hand-written client without the role can do none of what moderators
// do: every request is refused and nothing changes.
func TestModeratorActionsRefusedOverTheWire(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "rules", "A"), join(t, srv, "rules", "B")
	waitFor(t, b, "A's role", func(st client.State) bool { return st.Participants[a.ID].Role == "moderator" })
	if b.State().Role != "participant" {
		t.Fatalf("B's role %q", b.State().Role)
	}
	r := dialRaw(t, srv)
	r.join("rules")
	for _, msg := range []string{
		`{"type":"room.password","password":"mine now"}`,
		`{"type":"room.lobby","enabled":true}`,
		`{"type":"lobby.admit","id":"` + b.ID + `"}`,
		`{"type":"lobby.deny","id":"` + b.ID + `"}`,
		`{"type":"participant.mute","id":"` + a.ID + `","kind":"audio"}`,
		`{"type":"participant.mute","id":"` + a.ID + `","kind":"video"}`,
		`{"type":"room.mute","kind":"audio"}`,
		`{"type":"participant.remove","id":"` + a.ID + `"}`,
		`{"type":"participant.grant","id":"` + b.ID + `"}`,
		`{"type":"room.end"}`,
	} {
		r.send(websocket.MessageText, msg)
		r.expectError(signal.CodeForbidden)
	}
	// Nothing happened: A is unmuted and present, no password is needed,
	// B is no moderator.
	st := b.State()
	if p := st.Participants[a.ID]; !p.Audio || !p.Video || p.Role != "moderator" || st.Settings.Password || len(st.Muted) > 0 {
		t.Errorf("state changed: %+v %+v", p, st)
	}
	join(t, srv, "rules", "C") // no password needed
	waitFor(t, a, "B, C and the hand-written client", func(st client.State) bool { return len(st.Participants) == 3 })
}

// Muting is enforced by the server: the muted microphone's packets stop
// reaching others although the client keeps sending, until it unmutes.
func TestMuteIsEnforcedByTheServer(t *testing.T) {
	srv := startServer(t)
	a, b, c := join(t, srv, "mute-enforced", "A"), join(t, srv, "mute-enforced", "B"), join(t, srv, "mute-enforced", "C")
	publish(t, b, mic, camera)
	waitFor(t, c, "B's media", func(st client.State) bool { return receives(st, b.ID, mic, 10) && receives(st, b.ID, camera, 5) })
	send(t, a, map[string]any{"type": "participant.mute", "id": b.ID, "kind": "audio"})
	waitFor(t, b, "muted notice", func(st client.State) bool { return len(st.Muted) == 1 && st.Muted[0].By == a.ID })
	waitFor(t, c, "B shown muted", func(st client.State) bool { return !st.Participants[b.ID].Audio })
	time.Sleep(200 * time.Millisecond) // packets in flight
	micPackets := func() int { return c.State().Received[keyOf(b.ID, mic)].Packets }
	camFrames := c.State().Received[keyOf(b.ID, camera)].Frames
	before := micPackets()
	time.Sleep(time.Second) // B's client sends 50 audio packets meanwhile
	if got := micPackets(); got != before {
		t.Errorf("muted microphone still forwarded: %d -> %d packets", before, got)
	}
	waitFor(t, c, "B's camera still flowing", func(st client.State) bool { return receives(st, b.ID, camera, camFrames+5) })
	// Only B can switch it on again.
	send(t, b, map[string]any{"type": "media", "audio": true, "video": true})
	waitFor(t, c, "B's microphone back", func(st client.State) bool {
		return st.Participants[b.ID].Audio && st.Received[keyOf(b.ID, mic)].Packets > before+10
	})
	// Stopping a camera works the same way.
	send(t, a, map[string]any{"type": "participant.mute", "id": b.ID, "kind": "video"})
	waitFor(t, c, "B's camera shown off", func(st client.State) bool { return !st.Participants[b.ID].Video })
	time.Sleep(200 * time.Millisecond)
	frames := c.State().Received[keyOf(b.ID, camera)].Packets
	time.Sleep(time.Second)
	if got := c.State().Received[keyOf(b.ID, camera)].Packets; got != frames {
		t.Errorf("stopped camera still forwarded: %d -> %d packets", frames, got)
	}
	// Mute everyone else.
	publish(t, c, mic)
	send(t, a, map[string]any{"type": "room.mute", "kind": "audio"})
	waitFor(t, c, "C muted too", func(st client.State) bool { return len(st.Muted) == 1 && !st.Participants[b.ID].Audio })
}

// Removing someone stops their media at once and closes their connection
// with the reason; the others see them leave.
func TestRemove(t *testing.T) {
	srv := startServer(t)
	a, b, c := join(t, srv, "remove", "A"), join(t, srv, "remove", "B"), join(t, srv, "remove", "C")
	publish(t, b, mic, camera)
	waitFor(t, c, "B's video", func(st client.State) bool { return receives(st, b.ID, camera, 5) })
	send(t, a, map[string]any{"type": "participant.remove", "id": b.ID})
	waitFor(t, b, "removed", func(st client.State) bool {
		return hasError(signal.CodeRemoved)(st) && st.Closed && st.CloseStatus == session.CloseRemoved
	})
	waitFor(t, c, "B gone", func(st client.State) bool {
		_, there := st.Participants[b.ID]
		return !there && st.Received[keyOf(b.ID, camera)].Ended
	})
	send(t, a, map[string]any{"type": "participant.remove", "id": b.ID})
	waitFor(t, a, "not found", hasError(signal.CodeNotFound))
}

// Granting the role, and the longest present inheriting it.
func TestGrantAndSuccession(t *testing.T) {
	srv := startServer(t)
	a, b, c := join(t, srv, "grant", "A"), join(t, srv, "grant", "B"), join(t, srv, "grant", "C")
	send(t, a, map[string]any{"type": "participant.grant", "id": c.ID})
	waitFor(t, c, "C is moderator", func(st client.State) bool { return st.Role == "moderator" })
	waitFor(t, b, "C shown as moderator", func(st client.State) bool { return st.Participants[c.ID].Role == "moderator" })
	send(t, c, map[string]any{"type": "room.lobby", "enabled": true}) // C may now
	waitFor(t, b, "lobby on", func(st client.State) bool { return st.Settings.Lobby })
	a.Leave()
	c.Leave()
	waitFor(t, b, "B inherits the role", func(st client.State) bool { return st.Role == "moderator" })
}

// Ending the meeting closes everyone's connection with the reason.
func TestEndMeeting(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "end", "A"), join(t, srv, "end", "B")
	send(t, a, map[string]any{"type": "room.end"})
	for _, c := range []*client.Client{a, b} {
		waitFor(t, c, "ended", func(st client.State) bool {
			return hasError(signal.CodeEnded)(st) && st.Closed && st.CloseStatus == session.CloseRemoved
		})
	}
	if n := srv.Registry().Rooms(); n != 0 {
		t.Errorf("%d meetings after end", n)
	}
}

// Password: required, wrong, and out of attempts (5 wrong on a connection,
// or from one address) a join is not checked but knocks at the lobby; the
// right one from another address admits at once.
func TestPasswordOverTheWire(t *testing.T) {
	srv := startServer(t)
	a := join(t, srv, "locked", "A")
	send(t, a, map[string]any{"type": "room.password", "password": "Sesam öffne dich"})
	waitFor(t, a, "settings", func(st client.State) bool { return st.Settings.Password })
	if _, err := dialOpts(t, srv, "locked", client.Options{Name: "D"}); err == nil || !strings.Contains(err.Error(), "password_required") {
		t.Fatalf("without password: %v", err)
	}
	r := dialRaw(t, srv)
	for range 5 {
		r.send(websocket.MessageText, `{"type":"join","room":"locked","name":"Eve","password":"guess"}`)
		r.expectError(signal.CodeWrongPassword)
	}
	r.send(websocket.MessageText, `{"type":"join","room":"locked","name":"Eve","password":"Sesam öffne dich"}`)
	if m := r.expect("lobby.waiting", "lobby.waiting", "joined"); m.Reason != signal.WaitPassword {
		t.Errorf("waiting without the reason: %+v", m)
	}
	waitFor(t, a, "Eve knocks", func(st client.State) bool { return len(st.Knocks) == 1 })
	d, err := dialOpts(t, srv, "locked", client.Options{Name: "D", Password: "Sesam öffne dich", DialContext: fromAddr(otherAddr)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "D in", func(st client.State) bool { _, ok := st.Participants[d.ID]; return ok })
	send(t, a, map[string]any{"type": "room.password", "password": ""})
	if _, err := dialOpts(t, srv, "locked", client.Options{Name: "E"}); err != nil {
		t.Errorf("after removing the password: %v", err)
	}
}

// Out of attempts with no place left at the lobby for its address, a join
// is refused: too_many_attempts carries the seconds to wait.
func TestTooManyAttemptsSaysWhen(t *testing.T) {
	srv := startServer(t, func(c *Config) { c.Rooms.MaxWaitingPerSource = 1 })
	a := join(t, srv, "when", "A")
	send(t, a, map[string]any{"type": "room.password", "password": "pw"})
	waitFor(t, a, "settings", func(st client.State) bool { return st.Settings.Password })
	r := dialRaw(t, srv)
	for range 5 {
		r.send(websocket.MessageText, `{"type":"join","room":"when","name":"Eve","password":"x"}`)
		r.expectError(signal.CodeWrongPassword)
	}
	r.send(websocket.MessageText, `{"type":"join","room":"when","name":"Eve","password":"x"}`)
	r.expect("lobby.waiting", "lobby.waiting") // the address's one place
	r2 := dialRaw(t, srv)
	r2.send(websocket.MessageText, `{"type":"join","room":"when","name":"Eve","password":"x"}`)
	ctx, cancel := contextTimeout(5 * time.Second)
	defer cancel()
	for {
		_, data, err := r2.ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "too_many_attempts") {
			if !strings.Contains(string(data), `"retryAfter":`) || !strings.Contains(string(data), "try again in") {
				t.Errorf("no retry time: %s", data)
			}
			return
		}
	}
}

// Lobby: newcomers wait, moderators see them by name and admit or deny.
func TestLobbyOverTheWire(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "lobby", "A"), join(t, srv, "lobby", "B")
	publish(t, a, mic, camera)
	send(t, a, map[string]any{"type": "room.lobby", "enabled": true})
	waitFor(t, b, "lobby on", func(st client.State) bool { return st.Settings.Lobby })
	d, err := dialOpts(t, srv, "lobby", client.Options{Name: "Dora"})
	if err != nil {
		t.Fatal(err)
	}
	if !d.State().Waiting {
		t.Fatal("D not waiting")
	}
	if err := d.Send(map[string]any{"type": "chat", "data": "eA"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "chat refused while waiting", hasError(signal.CodeOutOfOrder))
	var id string
	waitFor(t, a, "knock", func(st client.State) bool {
		for k, name := range st.Knocks {
			id = k
			return name == "Dora"
		}
		return false
	})
	if len(b.State().Knocks) != 0 {
		t.Error("a participant saw the knock")
	}
	send(t, a, map[string]any{"type": "lobby.admit", "id": id})
	waitFor(t, d, "admitted", func(st client.State) bool { return st.ID == id && !st.Waiting })
	waitFor(t, d, "A's media", func(st client.State) bool { return receives(st, a.ID, camera, 5) })
	waitFor(t, a, "knock gone", func(st client.State) bool { return len(st.Knocks) == 0 })
	e, err := dialOpts(t, srv, "lobby", client.Options{Name: "Eve"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "Eve knocks", func(st client.State) bool { return len(st.Knocks) == 1 })
	for k := range a.State().Knocks {
		send(t, a, map[string]any{"type": "lobby.deny", "id": k})
	}
	waitFor(t, e, "denied", func(st client.State) bool {
		return hasError(signal.CodeDenied)(st) && st.Closed && st.CloseStatus == session.CloseRemoved
	})
}

// Chat and relay reach the right people, from the right sender, untouched.
func TestChatAndRelayOverTheWire(t *testing.T) {
	srv := startServer(t)
	a, b, c := join(t, srv, "chat", "A"), join(t, srv, "chat", "B"), join(t, srv, "chat", "C")
	send(t, a, map[string]any{"type": "chat", "data": "R2VoZWltbmlz"})
	send(t, a, map[string]any{"type": "chat", "to": c.ID, "data": "UHJpdmF0"})
	send(t, b, map[string]any{"type": "relay", "to": c.ID, "data": `{"kind":"key-request"}`})
	waitFor(t, c, "both chats and the relay", func(st client.State) bool {
		return len(st.Chats) == 2 && len(st.Relays) == 1 &&
			st.Chats[0] == signal.ChatMessage{From: a.ID, Data: "R2VoZWltbmlz"} &&
			st.Chats[1] == signal.ChatMessage{From: a.ID, To: c.ID, Data: "UHJpdmF0"} &&
			st.Relays[0] == signal.RelayMessage{From: b.ID, Data: `{"kind":"key-request"}`}
	})
	waitFor(t, b, "the group chat only", func(st client.State) bool { return len(st.Chats) == 1 })
	time.Sleep(100 * time.Millisecond)
	if n := len(b.State().Chats); n != 1 {
		t.Errorf("B got %d chats, want only the group one", n)
	}
	if n := len(a.State().Chats); n != 0 {
		t.Errorf("the sender got its own message back %d times", n)
	}
	send(t, a, map[string]any{"type": "chat", "data": "has spaces"})
	waitFor(t, a, "non-base64 chat refused", hasError(signal.CodeInvalid))
	// Key holders are announced.
	send(t, b, map[string]any{"type": "key.status", "hasKey": true})
	waitFor(t, c, "B has the key", func(st client.State) bool { return st.Participants[b.ID].HasKey })
}

// The public key is checked and passed on untouched.
func TestPublicKeyIsPassedOn(t *testing.T) {
	srv := startServer(t)
	a := join(t, srv, "keys", "A")
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes())
	b, err := dialOpts(t, srv, "keys", client.Options{Name: "B", PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "B's key", func(st client.State) bool { return st.Participants[b.ID].PublicKey == pub })
	if _, err := dialOpts(t, srv, "keys", client.Options{Name: "C", PublicKey: "BBES2B3tUN9uyhS7"}); err == nil {
		t.Error("a malformed public key was accepted")
	}
}

// Two participants are told to connect directly; a third moves everyone to
// the server; a moderator can forbid direct media.
func TestMediaModeOverTheWire(t *testing.T) {
	srv := startServer(t)
	a, b := join(t, srv, "mode", "A"), join(t, srv, "mode", "B")
	waitFor(t, a, "p2p with B", func(st client.State) bool { return st.Mode == signal.MediaMode{Mode: "p2p", Peer: b.ID} })
	waitFor(t, b, "p2p with A", func(st client.State) bool { return st.Mode == signal.MediaMode{Mode: "p2p", Peer: a.ID} })
	c := join(t, srv, "mode", "C")
	for _, x := range []*client.Client{a, b, c} {
		waitFor(t, x, "sfu", func(st client.State) bool { return st.Mode == signal.MediaMode{Mode: "sfu"} })
	}
	c.Leave()
	waitFor(t, a, "p2p again", func(st client.State) bool { return st.Mode.Mode == "p2p" })
	send(t, a, map[string]any{"type": "room.p2p", "enabled": false})
	waitFor(t, b, "sfu when forbidden", func(st client.State) bool { return st.Mode.Mode == "sfu" && !st.Settings.P2P })
}

// A meeting that requires end-to-end encrypted media removes and turns away
// browsers that cannot do it, saying why.
func TestRequireE2EEOverTheWire(t *testing.T) {
	srv := startServer(t)
	a, err := dialOpts(t, srv, "sealed", client.Options{Name: "A", E2EE: true})
	if err != nil {
		t.Fatal(err)
	}
	b := join(t, srv, "sealed", "B") // cannot encrypt
	waitFor(t, a, "B's capability", func(st client.State) bool { p, ok := st.Participants[b.ID]; return ok && !p.E2EE })
	send(t, a, map[string]any{"type": "room.e2ee", "required": true})
	waitFor(t, b, "removed", func(st client.State) bool {
		return hasError(signal.CodeE2EERequired)(st) && st.Closed && st.CloseStatus == session.CloseRemoved
	})
	if _, err := dialOpts(t, srv, "sealed", client.Options{Name: "C"}); err == nil || !strings.Contains(err.Error(), "e2ee_required") {
		t.Errorf("unencrypted newcomer: %v", err)
	}
	d, err := dialOpts(t, srv, "sealed", client.Options{Name: "D", E2EE: true})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, d, "settings", func(st client.State) bool { return st.Settings.E2EERequired })
}
