package names

import (
	"fmt"
	"unicode"
)

// The characters a name may not hold, and what counts as visible. These
// rules are mirrored in web/src/names.ts, where the browser explains a bad
// name before anything is sent; change both together.
//
// A name must not deceive: hide what it is (invisible or blank
// characters, a name of nothing but those), reorder what is shown around it
// (bidi overrides, isolates and marks), smuggle data (tag characters), or
// spill over its neighbours (dozens of combining marks on one letter).

// defaultIgnorable is Unicode's Default_Ignorable_Code_Point property
// (DerivedCoreProperties.txt; the same in Unicode 15 and 17): characters
// that render as nothing. It holds the zero-width characters, soft hyphen,
// the bidi controls, the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0),
// variation selectors and the tag characters. The standard library has no
// table of the derived property; TestDefaultIgnorableTable derives it from
// those it has.
var defaultIgnorable = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x00ad, Hi: 0x00ad, Stride: 1},
		{Lo: 0x034f, Hi: 0x034f, Stride: 1},
		{Lo: 0x061c, Hi: 0x061c, Stride: 1},
		{Lo: 0x115f, Hi: 0x1160, Stride: 1},
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
		{Lo: 0x180b, Hi: 0x180f, Stride: 1},
		{Lo: 0x200b, Hi: 0x200f, Stride: 1},
		{Lo: 0x202a, Hi: 0x202e, Stride: 1},
		{Lo: 0x2060, Hi: 0x206f, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xfe00, Hi: 0xfe0f, Stride: 1},
		{Lo: 0xfeff, Hi: 0xfeff, Stride: 1},
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
		{Lo: 0xfff0, Hi: 0xfff8, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1bca0, Hi: 0x1bca3, Stride: 1},
		{Lo: 0x1d173, Hi: 0x1d17a, Stride: 1},
		{Lo: 0xe0000, Hi: 0xe0fff, Stride: 1},
	},
}

// blank are characters of a visible category that show nothing: the
// braille pattern blank (U+2800) and the musical null notehead (U+1D159).
var blank = map[rune]bool{0x2800: true, 0x1d159: true}

// Joiners shape letters in some scripts (Persian, the Indic ones) and
// build emoji (👩‍💻). They are format characters, allowed in a display
// name only between two characters they can join.
const (
	zwnj = '\u200c'
	zwj  = '\u200d'
)

// Combining marks: at most maxMarksPerBase on one character (Vietnamese,
// Hebrew with points and Tibetan stacks need up to four) and maxMarks in
// a name (half its length; a long name in an Indic script has about a
// third).
const (
	maxMarksPerBase = 4
	maxMarks        = 32
)

// forbidden reports whether r may appear in no name at all: controls,
// format characters, private use, surrogates, line and paragraph
// separators, and the default ignorable and blank characters. Variation
// selectors and joiners, which display names may hold, are the caller's
// exceptions.
func forbidden(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp, defaultIgnorable) || blank[r]
}

// visible reports whether r shows something by itself: a letter, number,
// symbol or punctuation that is not blank.
func visible(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.S, unicode.P) && !forbidden(r)
}

// countMarks checks the combining marks of s: none without a character
// before it, at most maxMarksPerBase in a row and maxMarks in all.
func countMarks(s string) error {
	total, run := 0, 0
	for i, r := range s {
		if !unicode.Is(unicode.M, r) {
			run = 0
			continue
		}
		if i == 0 {
			return fmt.Errorf("%w: starts with a combining mark", ErrTooManyMarks)
		}
		run++
		total++
		if run > maxMarksPerBase {
			return fmt.Errorf("%w: more than %d on one character", ErrTooManyMarks, maxMarksPerBase)
		}
	}
	if total > maxMarks {
		return fmt.Errorf("%w: %d, at most %d allowed", ErrTooManyMarks, total, maxMarks)
	}
	return nil
}

// joins reports whether the joiner at rs[i] stands between two characters
// it can join: after a visible character or a mark (a virama, an emoji's
// variation selector) and before a visible character.
func joins(rs []rune, i int) bool {
	if i == 0 || i == len(rs)-1 {
		return false
	}
	before, after := rs[i-1], rs[i+1]
	return (visible(before) || unicode.Is(unicode.M, before)) && visible(after)
}

// scriptGroup is the script among Latin, Cyrillic and Greek that r belongs
// to, as a bit, or 0 for any other. These three share look-alike letters
// (Latin a, Cyrillic а, Greek α), so a meeting name that mixes them looks
// like one it is not; mixing other scripts is ordinary ("tokyo-会議").
// This is the part of the "moderately restrictive" level of Unicode's
// UTS #39 (section 5.2) that matters for look-alikes.
func scriptGroup(r rune) int {
	switch {
	case unicode.Is(unicode.Latin, r):
		return 1
	case unicode.Is(unicode.Cyrillic, r):
		return 2
	case unicode.Is(unicode.Greek, r):
		return 4
	}
	return 0
}

// mixesScripts reports whether s has letters of more than one of Latin,
// Cyrillic and Greek.
func mixesScripts(s string) bool {
	seen := 0
	for _, r := range s {
		seen |= scriptGroup(r)
	}
	return seen&(seen-1) != 0
}
