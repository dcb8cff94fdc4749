package sample

import (
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	for _, rid := range Layers {
		v, err := VideoLayer(rid)
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 60 || v[0].Duration != time.Second/15 {
			t.Errorf("video %s: %d frames of %v, want 60 of 66.7ms", rid, len(v), v[0].Duration)
		}
		// VP8 keyframes have bit 0 of the first byte clear; one a second.
		for i, f := range v {
			if key := f.Data[0]&1 == 0; key != (i%15 == 0) {
				t.Errorf("video %s: frame %d keyframe=%v", rid, i, key)
			}
		}
	}
	if _, err := VideoLayer("x"); err == nil {
		t.Error("no error for an unknown layer")
	}
	a, err := Audio()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 190 || len(a) > 201 {
		t.Errorf("audio: %d packets, want about 200", len(a))
	}
}
