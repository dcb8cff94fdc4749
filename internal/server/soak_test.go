//go:build soak

package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/sfu"
)

// TestSoak: 20 participants publishing audio and video join and leave in a
// loop (PLAUSCH_SOAK sets how long, 10m by default); afterwards goroutines
// and memory must be back at their baseline. Run with `make soak`.
func TestSoak(t *testing.T) {
	d := 10 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("PLAUSCH_SOAK")); err == nil {
		d = v
	}
	srv, err := Start(Config{Addr: "127.0.0.1:0", Media: sfu.Config{LoopbackOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	goroutines0, heap0 := settle()
	t.Logf("baseline: %d goroutines, %.1f MiB heap", goroutines0, heap0)

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	var joins, fails int64
	var mu sync.Mutex
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				jctx, jcancel := context.WithTimeout(ctx, 20*time.Second)
				c, err := client.Dial(jctx, srv.URL(), fmt.Sprintf("soak-%d", i%2), client.Options{
					Name: fmt.Sprintf("Soak %d", i), Audio: true, Video: true, Loopback: true})
				if err == nil {
					err = c.Publish(jctx, "microphone", "camera")
				}
				jcancel()
				mu.Lock()
				if err != nil {
					fails++
				} else {
					joins++
				}
				mu.Unlock()
				if c != nil {
					select {
					case <-ctx.Done():
					case <-time.After(time.Duration(2000+rand.IntN(4000)) * time.Millisecond):
					}
					c.Leave()
				}
			}
		}()
	}
	mid := time.NewTicker(time.Minute)
	defer mid.Stop()
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		for {
			select {
			case <-ctx.Done():
				return
			case <-mid.C:
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			t.Logf("running: %d goroutines, %.1f MiB heap, %d meetings, %d participants",
				runtime.NumGoroutine(), float64(m.HeapAlloc)/(1<<20), srv.Registry().Rooms(), srv.Registry().Participants())
		}
	}()
	wg.Wait()
	<-reported
	goroutines1, heap1 := settle()
	t.Logf("after %v: %d joins (%d failed); %d goroutines (baseline %d), %.1f MiB heap (baseline %.1f)",
		d, joins, fails, goroutines1, goroutines0, heap1, heap0)
	if fails > joins/100 {
		t.Errorf("%d of %d joins failed", fails, joins+fails)
	}
	if goroutines1 > goroutines0 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines leaked: %d > %d\n%s", goroutines1, goroutines0, buf[:runtime.Stack(buf, true)])
	}
	if heap1 > heap0+16 {
		t.Errorf("heap grew from %.1f to %.1f MiB", heap0, heap1)
	}
}

// settle waits for the server to be idle and returns goroutines and heap.
func settle() (int, float64) {
	var m runtime.MemStats
	for range 50 {
		runtime.GC()
		time.Sleep(100 * time.Millisecond)
	}
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), float64(m.HeapAlloc) / (1 << 20)
}
