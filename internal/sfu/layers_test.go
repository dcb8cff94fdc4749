package sfu

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// A client chooses how many layers it sends; nothing that indexes by layer
// may assume three. (Four layers crashed the server once.)
func TestAssumedRateAnyLayers(t *testing.T) {
	for layers := 1; layers <= 40; layers++ {
		prev := int64(0)
		for l := range layers {
			r := assumedRate(l, layers)
			if r < prev || r <= 0 {
				t.Fatalf("%d layers: layer %d assumed at %d after %d", layers, l, r, prev)
			}
			prev = r
		}
		if top := assumedRate(layers-1, layers); top != 1_500_000 {
			t.Errorf("%d layers: top layer assumed at %d, want a full size", layers, top)
		}
	}
	// Three layers: a quarter, half and full size, as before.
	for l, want := range []int64{150_000, 500_000, 1_500_000} {
		if got := assumedRate(l, 3); got != want {
			t.Errorf("layer %d of 3: %d, want %d", l, got, want)
		}
	}
}

func TestDesiredLayerAnyLayers(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 7, 64, 100} {
		tr := testTrack(n)
		for _, h := range []int{-1, 0, 1, 90, 180, 360, 720, 1080, 1 << 20} {
			if got := desiredLayer(tr, h); got < 0 || got >= n {
				t.Errorf("%d layers, height %d: layer %d", n, h, got)
			}
		}
	}
}

func TestLayerRatesAnyLayers(t *testing.T) {
	const now = int64(1e12)
	for _, n := range []int{1, 3, 4, 10} {
		tr := testTrack(n)
		for _, l := range tr.layers {
			l.remote.Store(&webrtc.TrackRemote{})
			l.lastPacket.Store(now)
		}
		rates := layerRates(tr, now)
		if len(rates) != n {
			t.Fatalf("%d layers: %d rates", n, len(rates))
		}
		items := []allocItem{{rates: rates, desired: desiredLayer(tr, 0)}}
		for _, budget := range []int64{0, 1_000_000, 1 << 40} {
			if got := allocate(budget, items); got[0] < 0 || got[0] >= n {
				t.Errorf("%d layers, budget %d: layer %d", n, budget, got[0])
			}
		}
	}
}
