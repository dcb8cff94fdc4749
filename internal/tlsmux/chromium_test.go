package tlsmux

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What a browser really sends: Chromium loads a page over HTTPS from the
// mux and gathers a relay candidate from turns: on the same port. Its
// TURN-over-TLS connection offers no ALPN (probed with Chromium 156), so
// it goes through the sniffing path, carries the TURN URL's host name as
// SNI, and must reach the TURN side beginning with a STUN Allocate.
//
// Chromium runs in the test's own network namespace, with every host name
// but the test's mapped to nowhere (as the browser tests do without a
// namespace of their own); all it can reach is the mux on 127.0.0.1.
func TestChromiumTURNOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Chromium is needed to see what a browser sends: apt-get install chromium")
	}
	r := newRigWith(t, Options{}, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<script>
const pc = new RTCPeerConnection({iceTransportPolicy: "relay",
  iceServers: [{urls: "turns:%s?transport=tcp", username: "u", credential: "p"}]});
pc.createDataChannel("x");
pc.createOffer().then(o => pc.setLocalDescription(o));
</script>`, req.Host) // the page's own host and port
	}))
	port := r.addr[strings.LastIndex(r.addr, ":")+1:]

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--allow-loopback-in-peer-connection", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", "--disable-quic", "--ignore-certificate-errors",
		"--host-resolver-rules=MAP turn.plausch.test 127.0.0.1, MAP * ~NOTFOUND",
		"--user-data-dir="+t.TempDir(), "https://turn.plausch.test:"+port+"/")
	// Its profile and crash database stay in the test's directories.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home)
	// Its own process group, so that its helpers end with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()

	for {
		if got := r.turn.first(); len(got) > 0 {
			f := got[0]
			if f.alpn != "" || f.sni != "turn.plausch.test" || f.msgType != 0x0003 {
				t.Errorf("Chromium's TURN connection: ALPN %q, SNI %q, first message 0x%04x (want none, turn.plausch.test, Allocate 0x0003)",
					f.alpn, f.sni, f.msgType)
			}
			t.Logf("Chromium over TURN/TLS: ALPN %q, SNI %q, first STUN message 0x%04x", f.alpn, f.sni, f.msgType)
			return
		}
		if ctx.Err() != nil {
			t.Fatal("no TURN connection from Chromium reached the TURN side")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
