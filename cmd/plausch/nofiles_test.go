package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
)

// fileWrites matches system calls that create, change or remove files.
var fileWrites = regexp.MustCompile(
	`\b(openat|open)\(.*O_(WRONLY|RDWR|CREAT|TRUNC|APPEND)|\b(creat|mkdir|mkdirat|rename|renameat2?|unlink|unlinkat|link|linkat|symlink|symlinkat|truncate|ftruncate|chmod|fchmodat)\(`)

// The server writes no file during a whole meeting: run the real binary
// under strace in an empty working directory (also its HOME and TMPDIR),
// hold a meeting with media, chat and a password, and check that no system
// call created or changed a file anywhere, and the directory stays empty.
func TestMeetingWritesNoFile(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is needed to watch the server's system calls: apt-get install strace")
	}
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "plausch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "trace.txt")
	cmd := exec.Command(strace, "-f", "-qq", "-o", trace, "-e", "trace=%file,%desc", bin,
		"serve", "--addr", "127.0.0.1:0", "--ice-loopback", "--log-level", "debug")
	cmd.Dir = work
	cmd.Env = []string{"HOME=" + work, "TMPDIR=" + work, "PATH=/usr/bin:/bin"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = nil // logs go nowhere: the point is what the process itself writes
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := readURL(t, stdout)

	meeting(t, url)

	// strace passes no signal on: stop the traced server itself.
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(kids))[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v", err)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "(") {
			calls++
		}
		if fileWrites.MatchString(line) {
			t.Errorf("the server touched a file: %s", line)
		}
	}
	if calls < 100 {
		t.Fatalf("strace saw only %d calls; the trace is not working", calls)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("files appeared in the working directory: %v", entries)
	}
}

func readURL(t *testing.T, stdout interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- u
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the server printed no URL")
		return ""
	}
}

// meeting holds a small meeting with media, chat and a password.
func meeting(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func(name, pw string) *client.Client {
		c, err := client.Dial(ctx, url, "no-files-here", client.Options{Name: name, Password: pw, Audio: true, Video: true, Loopback: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := dial("Ada", "")
	defer a.Close()
	if err := a.Publish(ctx, "microphone", "camera"); err != nil {
		t.Fatal(err)
	}
	_ = a.Send(map[string]any{"type": "room.password", "password": "secret"})
	if err := a.WaitFor(ctx, func(st client.State) bool { return st.Settings.Password }); err != nil {
		t.Fatal(err)
	}
	b := dial("Bob", "secret")
	if err := b.Publish(ctx, "microphone", "camera"); err != nil {
		t.Fatal(err)
	}
	_ = a.Send(map[string]any{"type": "chat", "data": "c2VjcmV0"})
	if err := b.WaitFor(ctx, func(st client.State) bool {
		r := st.Received[client.Key{Participant: a.ID, Source: "camera"}]
		return len(st.Chats) == 1 && r != nil && r.Frames >= 10
	}); err != nil {
		t.Fatal(err)
	}
	b.Leave()
	a.Leave()
}
