package names

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The table of default ignorable characters is Unicode's derived property:
// Other_Default_Ignorable_Code_Point, format characters and variation
// selectors, less white space, U+FFF9..U+FFFB, the Egyptian hieroglyph
// format controls and the prepended concatenation marks
// (DerivedCoreProperties.txt).
func TestDefaultIgnorableTable(t *testing.T) {
	derived := func(r rune) bool {
		if unicode.Is(unicode.White_Space, r) || (r >= 0xfff9 && r <= 0xfffb) || (r >= 0x13430 && r <= 0x1343f) ||
			unicode.Is(unicode.Prepended_Concatenation_Mark, r) {
			return false
		}
		return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got, want := unicode.Is(defaultIgnorable, r), derived(r); got != want {
			t.Errorf("%U: in table %v, derived %v", r, got, want)
		}
	}
}

func TestDisplayNamesThatDeceive(t *testing.T) {
	refused := []struct {
		in   string
		want error
	}{
		{"\u200b\u200b\u200b", ErrBadChar},      // zero width spaces
		{"\u3164", ErrBadChar},                  // Hangul filler
		{"\u3164\u3164 ", ErrBadChar},           // and with a space
		{"\u115f\u1160", ErrBadChar},            // Hangul choseong and jungseong fillers
		{"\uffa0", ErrBadChar},                  // halfwidth Hangul filler
		{"\u2800\u2800", ErrBadChar},            // braille blank
		{"\ufeff", ErrBadChar},                  // byte order mark
		{"Ada\u00ad", ErrBadChar},               // soft hyphen
		{"Ada\u202e", ErrBadChar},               // right-to-left override
		{"evil\u202egnp.exe", ErrBadChar},       // the classic
		{"\u2067Ada\u2069", ErrBadChar},         // isolates
		{"Ada\u200f", ErrBadChar},               // right-to-left mark
		{"Ada\u061c", ErrBadChar},               // Arabic letter mark
		{"Ada\U000e0041\U000e0042", ErrBadChar}, // tag characters
		{"Ada\ue000", ErrBadChar},               // private use
		{"Ada\u2028Bob", ErrBadChar},            // line separator
		{"Ada\u2060", ErrBadChar},               // word joiner
		{"\u200dAda", ErrBadChar},               // a joiner with nothing before it
		{"Ada\u200d", ErrBadChar},               // or after it
		{"Ada \u200d Bob", ErrBadChar},          // or between spaces
		{"A\u200d\u200dB", ErrBadChar},          // two joiners
		{"Ada\u034f", ErrBadChar},               // combining grapheme joiner (a mark, but ignorable)
		{"A" + strings.Repeat("\u0301", 63), ErrTooManyMarks},
		{"x\u0316\u0317\u0318\u0319\u031a", ErrTooManyMarks},   // five on one letter
		{strings.Repeat("x\u0316\u0317", 17), ErrTooManyMarks}, // 34 in all
		{"\u0301Ada", ErrTooManyMarks},                         // a mark with no letter
		{"\u00a0\u0301", ErrTooManyMarks},                      // trimmed to a lone mark
		{"\u3000", ErrEmpty},                                   // ideographic space
	}
	for _, c := range refused {
		got, err := NormalizeDisplayName(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("NormalizeDisplayName(%+q) = %+q, %v; want %v", c.in, got, err, c.want)
		}
	}
	// People are named in every script, with the marks, joiners and emoji
	// their names need.
	accepted := map[string]string{
		"محمد بن سلمان":                  "",
		"דָּוִד בֶּן־גּוּרְיוֹן":         "",             // Hebrew with points
		"श्रीमती प्रियंका चोपड़ा जोनस":   "",             // Devanagari
		"สมชาย ใจดี":                     "",             // Thai
		"བསྟན་འཛིན་རྒྱ་མཚོ":              "",             // Tibetan stacks
		"نیک\u200cزاد":                   "",             // Persian, with a joiner
		"👩\u200d💻 Ada":                   "",             // emoji built with a joiner
		"🏳\ufe0f\u200d🌈":                 "",             // a variation selector before the joiner
		"1\ufe0f\u20e3 Team":             "",             // keycap
		"Nguye\u0302\u0303n Va\u0306n A": "Nguyễn Văn A", // composed
		"김민준":                            "",
		"田中 太郎":                          "",
		"Ὀδυσσεύς":                       "",
		"Ａｄａ (Gast)":                     "", // fullwidth is kept in a display name
		"ℌ𝔢𝔩𝔤𝔞":                          "",
		"x\u0316\u0317\u0318\u0319":      "", // four marks is still a name
		"·":                              "",
		"👍🏽":                             "",
	}
	for in, want := range accepted {
		if want == "" {
			want = in
		}
		got, err := NormalizeDisplayName(in)
		if err != nil || got != want {
			t.Errorf("NormalizeDisplayName(%+q) = %+q, %v; want %+q", in, got, err, want)
		}
	}
}

func TestMeetingNamesThatLookAlike(t *testing.T) {
	same := map[string]string{
		"ＴＥＡＭ-ｍｅｅｔｉｎｇ":             "team-meeting",       // fullwidth
		"ﬁnance-2026":              "finance-2026",       // ligature
		"team-²⁰²⁶":                "team-2026",          // superscripts
		"ᴬᴮᶜ-team":                 "abc-team",           // modifier capitals
		"Ⅻ-plan":                   "xii-plan",           // roman numeral
		"Teamtreffen-Mu\u0308ller": "teamtreffen-müller", // decomposed
		"встреча-2026":             "встреча-2026",       // Cyrillic alone
		"ΣΥΝΆΝΤΗΣΗ":                "συνάντηση",          // Greek alone
		"tokyo-会議":                 "tokyo-会議",           // Latin and Han
		"बैठक-2026":                "बैठक-2026",          // Devanagari, with marks
		"ประชุม":                   "ประชุม",             // Thai, with marks
		"اجتماع_٢٠٢٦":              "اجتماع_٢٠٢٦",        // Arabic letters and digits
		"会議〇":                      "会議〇",                // an ideographic number
	}
	for in, want := range same {
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%+q) = %+q, %v; want %+q", in, got, err, want)
		}
	}
	refused := []struct {
		in   string
		want error
	}{
		{"te\u0430m-meeting", ErrMixedScripts}, // Cyrillic а
		{"tea\u03bc-meeting", ErrMixedScripts}, // Greek μ
		{"5µm-team", ErrMixedScripts},          // micro sign: NFKC makes it Greek μ
		{"р\u0430ypal-2026", ErrMixedScripts},  // Cyrillic р and а in Latin
		{"встреча-αβγ", ErrMixedScripts},       // Cyrillic and Greek
		{"team\u200b-meeting", ErrBadChar},     // zero width space
		{"team\u200c-meeting", ErrBadChar},     // joiners too
		{"team\ufe0f-meeting", ErrBadChar},     // variation selector
		{"team\u00ad-meeting", ErrBadChar},     // soft hyphen
		{"team-\u0301meeting", ErrBadChar},     // a mark on a hyphen
		{"te\u0316\u0317\u0318\u0319\u031aam", ErrTooManyMarks},
		{"\u0301team", ErrBadChar}, // NFKC keeps a lone mark
		{"team-½", ErrBadChar},     // NFKC: 1⁄2, a fraction slash
		{"ＷＳ", ErrReserved},
		{"team\u3164x", ErrBadChar}, // Hangul filler
	}
	for _, c := range refused {
		got, err := Normalize(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("Normalize(%+q) = %+q, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// checkMeetingNameOut holds what a normalised meeting name is.
func checkMeetingNameOut(t *testing.T, in, out string) {
	t.Helper()
	if n := len([]rune(out)); n < minNameLen || n > maxNameLen {
		t.Fatalf("Normalize(%+q) = %+q: %d characters", in, out, n)
	}
	if !norm.NFKC.IsNormalString(out) || strings.ToLower(out) != out || strings.TrimSpace(out) != out {
		t.Fatalf("Normalize(%+q) = %+q: not NFKC, lowercase and trimmed", in, out)
	}
	for _, r := range out {
		if forbidden(r) || !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.In(r, unicode.Mn, unicode.Mc) || r == '-' || r == '_') {
			t.Fatalf("Normalize(%+q) = %+q holds %U", in, out, r)
		}
	}
	if mixesScripts(out) || countMarks(out) != nil || reserved[out] {
		t.Fatalf("Normalize(%+q) = %+q: mixed scripts, marks or reserved", in, out)
	}
}

// checkDisplayNameOut holds what a normalised display name is.
func checkDisplayNameOut(t *testing.T, in, out string) {
	t.Helper()
	rs := []rune(out)
	if len(rs) < 1 || len(rs) > maxDisplayLen || !norm.NFC.IsNormalString(out) || strings.TrimSpace(out) != out {
		t.Fatalf("NormalizeDisplayName(%+q) = %+q: length, NFC or spaces", in, out)
	}
	seen := false
	for i, r := range rs {
		seen = seen || visible(r)
		switch {
		case r == zwj || r == zwnj:
			if !joins(rs, i) {
				t.Fatalf("NormalizeDisplayName(%+q) = %+q: a joiner at %d joins nothing", in, out, i)
			}
		case unicode.Is(unicode.Variation_Selector, r):
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Zl, unicode.Zp, defaultIgnorable) || blank[r]:
			t.Fatalf("NormalizeDisplayName(%+q) = %+q holds %U", in, out, r)
		}
	}
	if !seen || countMarks(out) != nil {
		t.Fatalf("NormalizeDisplayName(%+q) = %+q: nothing visible, or too many marks", in, out)
	}
}

// nameCase is one line of testdata/name-cases.json: an input and its
// normal forms as a meeting name and as a display name (null: refused).
// web/test/names.test.ts reads the same file, so the browser and the
// server give the same answers.
type nameCase struct {
	In      string  `json:"in"`
	Meeting *string `json:"meeting"`
	Display *string `json:"display"`
}

func TestSharedNameCases(t *testing.T) {
	data, err := os.ReadFile("testdata/name-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []nameCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	show := func(p *string) string {
		if p == nil {
			return "refused"
		}
		return fmt.Sprintf("%+q", *p)
	}
	for _, c := range cases {
		m, err := Normalize(c.In)
		if got := show(&m); err != nil && c.Meeting != nil || err == nil && got != show(c.Meeting) {
			t.Errorf("Normalize(%+q) = %s, %v; want %s", c.In, got, err, show(c.Meeting))
		}
		d, err := NormalizeDisplayName(c.In)
		if got := show(&d); err != nil && c.Display != nil || err == nil && got != show(c.Display) {
			t.Errorf("NormalizeDisplayName(%+q) = %s, %v; want %s", c.In, got, err, show(c.Display))
		}
	}
}
