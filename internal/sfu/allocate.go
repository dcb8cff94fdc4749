package sfu

import "time"

// Want is one video a subscriber shows: the track and its size on the
// subscriber's screen in device pixels (0 when not known: the best layer).
type Want struct {
	Track         *Track
	Width, Height int
}

// Forwarded is a video a subscriber receives now, and which layer.
type Forwarded struct {
	Publisher, Source string
	Layer             int
	Width, Height     int // of that layer, 0 if no keyframe told yet
}

// allocItem is one video to place within the bandwidth: what each layer
// costs now (0 for a layer that is not sent) and the highest one worth it.
type allocItem struct {
	rates   []int64
	desired int
}

// allocate picks a layer for each item (-1: nothing sent) within budget
// bits/s. Items come most important first. Everyone gets their smallest
// layer, whatever the budget; then the most important are raised towards
// what their size wants, as far as the budget goes. Videos are not paused
// for bandwidth: a loaded server delays packets, which the estimate reads
// as congestion, and a video that vanished because of that would not come
// back until the estimate recovers. How many videos a participant gets is
// what last-N is for.
func allocate(budget int64, items []allocItem) []int {
	out := make([]int, len(items))
	for i, it := range items {
		out[i] = lowestLayer(it.rates)
		if out[i] >= 0 {
			budget -= it.rates[out[i]]
		}
	}
	for i, it := range items {
		if out[i] < 0 {
			continue
		}
		for l := min(it.desired, len(it.rates)-1); l > out[i]; l-- {
			if budget <= 0 {
				break
			}
			extra := it.rates[l] - it.rates[out[i]]
			if it.rates[l] > 0 && extra <= budget {
				budget -= extra
				out[i] = l
				break
			}
		}
	}
	return out
}

func lowestLayer(rates []int64) int {
	for i, r := range rates {
		if r > 0 {
			return i
		}
	}
	return -1
}

// assumedRates are a typical camera's quarter, half and full size.
var assumedRates = [...]int64{150_000, 500_000, 1_500_000}

// assumedRate stands in for a layer that has just started and has no
// measured rate yet: the top layer is a full size, the one below it a
// half, and every layer further down a quarter. Counted from the top, so
// it holds for any number of layers, whatever a client offers.
func assumedRate(layer, layers int) int64 {
	fromTop := layers - 1 - layer
	return assumedRates[min(max(len(assumedRates)-1-fromTop, 0), len(assumedRates)-1)]
}

// layerRates is what each of t's layers costs now; 0 for a layer the
// publisher does not send.
func layerRates(t *Track, now int64) []int64 {
	rates := make([]int64, len(t.layers))
	for i, l := range t.layers {
		if l.remote.Load() == nil || now-l.lastPacket.Load() > int64(time.Second) {
			continue
		}
		rates[i] = l.bitrate.Load()
		if rates[i] <= 0 {
			rates[i] = assumedRate(i, len(t.layers))
		}
	}
	return rates
}

// desiredLayer is the smallest layer at least (nearly) as tall as the
// video shows; the largest when the size is not known or none is tall
// enough.
func desiredLayer(t *Track, height int) int {
	top := len(t.layers) - 1
	if height <= 0 {
		return top
	}
	for i, l := range t.layers {
		h := int(l.height.Load())
		if h == 0 {
			// No keyframe seen yet: assume halving sizes below 720p (and
			// at least a pixel, however many layers there are).
			h = max(720>>min(top-i, 16), 1)
		}
		if h*10 >= height*9 {
			return i
		}
	}
	return top
}
