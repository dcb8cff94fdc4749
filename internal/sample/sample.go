// Package sample is small bundled media for synthetic participants: four
// seconds of VP8 test pattern at 15 fps in three sizes, the simulcast layers
// q (320x180), h (640x360) and f (1280x720), with a keyframe every second,
// and of a 440 Hz Opus tone; all made with ffmpeg (see the Makefile target
// sample-media).
package sample

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

//go:embed video-q.ivf video-h.ivf video-f.ivf audio.ogg
var files embed.FS

// Frame is one encoded video frame or audio packet.
type Frame struct {
	Data     []byte
	Duration time.Duration
}

// Layers are the rids of the video layers, smallest first.
var Layers = []string{"q", "h", "f"}

var (
	loadOnce sync.Once
	video    = map[string][]Frame{}
	audio    []Frame
	loadErr  error
)

// Video returns the frames of the smallest layer in order.
func Video() ([]Frame, error) { return VideoLayer("q") }

// VideoLayer returns the VP8 frames of layer rid ("q", "h" or "f") in
// order.
func VideoLayer(rid string) ([]Frame, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	f, ok := video[rid]
	if !ok {
		return nil, fmt.Errorf("sample: no video layer %q", rid)
	}
	return f, nil
}

// Audio returns the Opus packets (20 ms each) in order.
func Audio() ([]Frame, error) {
	loadOnce.Do(load)
	return audio, loadErr
}

func load() {
	for _, rid := range Layers {
		if video[rid], loadErr = loadIVF("video-" + rid + ".ivf"); loadErr != nil {
			return
		}
	}
	audio, loadErr = loadOgg("audio.ogg")
}

func loadIVF(name string) ([]Frame, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r, hdr, err := ivfreader.NewWith(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", name, err)
	}
	frameDur := time.Duration(float64(time.Second) * float64(hdr.TimebaseNumerator) / float64(hdr.TimebaseDenominator))
	var out []Frame
	for {
		data, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", name, err)
		}
		out = append(out, Frame{Data: data, Duration: frameDur})
	}
}

func loadOgg(name string) ([]Frame, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", name, err)
	}
	var out []Frame
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sample %s: %w", name, err)
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) || len(page) == 0 {
			continue
		}
		// Made with -page_duration 20000: one 20 ms packet per page.
		out = append(out, Frame{Data: page, Duration: 20 * time.Millisecond})
	}
}
