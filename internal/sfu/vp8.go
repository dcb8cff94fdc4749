package sfu

// What the forwarder needs to know about a video payload: where a keyframe
// starts, the picture size it announces, and where the VP8 picture id and
// TL0PICIDX sit so they can be rewritten. These bytes stay readable with
// end-to-end encrypted media: the frame encryption leaves the VP8 payload
// descriptor and the first 10 bytes of a keyframe in the clear.

// vp8Desc locates the fields of a VP8 payload descriptor (RFC 7741 4.2).
type vp8Desc struct {
	picIdx   int  // offset of the picture id, -1 if absent
	picWide  bool // 15-bit picture id (M bit), else 7-bit
	tl0Idx   int  // offset of TL0PICIDX, -1 if absent
	start    bool // S bit and partition 0: the first packet of a frame
	keyframe bool // start of a keyframe
	hdrLen   int  // length of the descriptor
}

// parseVP8 reads the descriptor at the start of payload; ok is false for a
// payload too short to hold what it announces.
func parseVP8(payload []byte) (d vp8Desc, ok bool) {
	d.picIdx, d.tl0Idx = -1, -1
	if len(payload) < 1 {
		return d, false
	}
	b0 := payload[0]
	i := 1
	if b0&0x80 != 0 { // X: extension byte follows
		if len(payload) < 2 {
			return d, false
		}
		x := payload[1]
		i = 2
		if x&0x80 != 0 { // I: picture id
			if len(payload) < i+1 {
				return d, false
			}
			d.picIdx = i
			if payload[i]&0x80 != 0 {
				d.picWide = true
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			d.tl0Idx = i
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX byte
			i++
		}
	}
	if len(payload) < i {
		return d, false
	}
	d.hdrLen = i
	d.start = b0&0x10 != 0 && b0&0x07 == 0
	// The VP8 frame tag's P bit is 0 on keyframes (RFC 6386 9.1).
	d.keyframe = d.start && len(payload) > i && payload[i]&0x01 == 0
	return d, true
}

func (d vp8Desc) picID(payload []byte) uint16 {
	if d.picWide {
		return uint16(payload[d.picIdx]&0x7f)<<8 | uint16(payload[d.picIdx+1])
	}
	return uint16(payload[d.picIdx] & 0x7f)
}

// setPicID writes id, cut to the field's width, so a stream keeps the width
// its sender chose.
func (d vp8Desc) setPicID(payload []byte, id uint16) {
	if d.picWide {
		payload[d.picIdx] = 0x80 | byte(id>>8)&0x7f
		payload[d.picIdx+1] = byte(id)
		return
	}
	payload[d.picIdx] = byte(id) & 0x7f
}

// vp8Size reads the picture size from the start of a keyframe (RFC 6386
// 9.1: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and
// height).
func vp8Size(payload []byte, d vp8Desc) (w, h int, ok bool) {
	f := payload[d.hdrLen:]
	if !d.keyframe || len(f) < 10 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return 0, 0, false
	}
	w = int(f[6]) | int(f[7]&0x3f)<<8
	h = int(f[8]) | int(f[9]&0x3f)<<8
	return w, h, true
}

// h264Keyframe reports whether an H.264 payload (RFC 6184) starts an IDR
// picture or carries its parameter sets: a single NAL unit, a STAP-A, or the
// first fragment of an FU-A.
func h264Keyframe(payload []byte) bool {
	if len(payload) < 2 {
		return false
	}
	switch nal := payload[0] & 0x1f; nal {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit size, then the NAL unit
		for i := 1; i+2 < len(payload); {
			size := int(payload[i])<<8 | int(payload[i+1])
			t := payload[i+2] & 0x1f
			if t == 5 || t == 7 {
				return true
			}
			i += 2 + size
		}
	case 28: // FU-A: start bit and the fragmented NAL's type
		return payload[1]&0x80 != 0 && (payload[1]&0x1f == 5 || payload[1]&0x1f == 7)
	}
	return false
}
