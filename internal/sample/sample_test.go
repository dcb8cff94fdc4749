package sample

import (
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	v, err := Video()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Audio()
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 60 || v[0].Duration != time.Second/15 {
		t.Errorf("video: %d frames of %v, want 60 of 66.7ms", len(v), v[0].Duration)
	}
	// VP8 keyframes have bit 0 of the first byte clear.
	if v[0].Data[0]&1 != 0 {
		t.Error("first video frame is not a keyframe")
	}
	if len(a) < 190 || len(a) > 201 {
		t.Errorf("audio: %d packets, want about 200", len(a))
	}
}
