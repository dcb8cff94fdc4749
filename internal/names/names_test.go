package names

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
		detail  string // substring the error message must contain
	}{
		{in: "Teamtreffen-Müller", want: "teamtreffen-müller"},
		{in: "  standup_2026  ", want: "standup_2026"},
		{in: "über_2026", want: "über_2026"},
		{in: "ÜBER", want: "über"},
		{in: "abc", want: "abc"},
		{in: "2026-planung", want: "2026-planung"},
		{in: "café", want: "café"},
		{in: "日本語", want: "日本語"},
		{in: strings.Repeat("x", 64), want: strings.Repeat("x", 64)},
		{in: strings.Repeat("ä", 64), want: strings.Repeat("ä", 64)}, // 128 bytes, 64 runes
		{in: "amber-falcon-quiet-river-stone-4821", want: "amber-falcon-quiet-river-stone-4821"},

		{in: "a", wantErr: ErrTooShort},
		{in: "", wantErr: ErrTooShort},
		{in: "   ab   ", wantErr: ErrTooShort},
		{in: strings.Repeat("x", 65), wantErr: ErrTooLong},
		{in: "has space", wantErr: ErrBadChar, detail: "' '"},
		{in: "dot.name", wantErr: ErrBadChar, detail: "'.'"},
		{in: "slash/name", wantErr: ErrBadChar, detail: "'/'"},
		{in: "party-🎉", wantErr: ErrBadChar, detail: "'🎉'"},
		{in: "🎉party", wantErr: ErrBadChar, detail: "'🎉'"},
		{in: "u\u0308ber", want: "über"}, // decomposed ü: composed by NFKC
		{in: "bad\xffutf8", wantErr: ErrBadChar, detail: "UTF-8"},
		{in: "-leading", wantErr: ErrBadStart, detail: "'-'"},
		{in: "_leading", wantErr: ErrBadStart},
		{in: "WS", wantErr: ErrReserved},
		{in: "ws", wantErr: ErrReserved},
		{in: " API ", wantErr: ErrReserved},
		{in: "assets", wantErr: ErrReserved},
		{in: "Healthz", wantErr: ErrReserved},
		{in: "readyz", wantErr: ErrReserved},
		{in: "metrics", wantErr: ErrReserved},
		{in: "Manifest.Webmanifest", wantErr: ErrReserved},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Normalize(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			} else if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("Normalize(%q) error = %q, want it to mention %q", tt.in, err, tt.detail)
			}
			if got != "" {
				t.Errorf("Normalize(%q) = %q with error, want empty", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeDisplayName(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{in: "Jörg Müller", want: "Jörg Müller"},
		{in: "  Ana  ", want: "Ana"},
		{in: "A", want: "A"},
		{in: "Kim 🎉", want: "Kim 🎉"},
		{in: "O'Brien (Gast)", want: "O'Brien (Gast)"},
		{in: strings.Repeat("ß", 64), want: strings.Repeat("ß", 64)},

		{in: "", wantErr: ErrEmpty},
		{in: " \t\n ", wantErr: ErrEmpty},
		{in: strings.Repeat("x", 65), wantErr: ErrTooLong},
		{in: "tab\there", wantErr: ErrBadChar},
		{in: "bell\a", wantErr: ErrBadChar},
		{in: "nul\x00", wantErr: ErrBadChar},
		{in: "c1\u0085x", wantErr: ErrBadChar},
		{in: "bad\xffutf8", wantErr: ErrBadChar},
	}
	for _, tt := range tests {
		got, err := NormalizeDisplayName(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) || got != "" {
				t.Errorf("NormalizeDisplayName(%q) = %q, %v; want error %v", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeDisplayName(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
		}
	}
}

var shape = regexp.MustCompile(`^([a-z]{3,8}-){5}[0-9]{4}$`)

func TestGenerate(t *testing.T) {
	for range 1000 {
		name := Generate()
		if !shape.MatchString(name) {
			t.Fatalf("Generate() = %q, does not match %v", name, shape)
		}
		got, err := Normalize(name)
		if err != nil || got != name {
			t.Fatalf("Normalize(%q) = %q, %v; want it unchanged", name, got, err)
		}
	}
}

func TestGenerateDistinct(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	for range n {
		name := Generate()
		if seen[name] {
			t.Fatalf("Generate() repeated %q", name)
		}
		seen[name] = true
	}
}

var wordRE = regexp.MustCompile(`^[a-z]{3,8}$`)

func TestWords(t *testing.T) {
	if len(words) != 1024 {
		t.Errorf("word list has %d words, want 1024", len(words))
	}
	if strings.Count(wordsFile, "\n") != len(words) {
		t.Errorf("words.txt must hold exactly one word per line")
	}
	seen := make(map[string]bool, len(words))
	for _, w := range words {
		if !wordRE.MatchString(w) {
			t.Errorf("word %q is not 3-8 letters a-z", w)
		}
		if seen[w] {
			t.Errorf("word %q appears twice", w)
		}
		seen[w] = true
		if reserved[w] {
			t.Errorf("word %q is reserved", w)
		}
	}
}

func TestEntropyBits(t *testing.T) {
	if got := EntropyBits(); got < 60 {
		t.Errorf("EntropyBits() = %.1f with %d words, want >= 60", got, len(words))
	}
}

// FuzzNormalize holds the invariants of both normal forms for any input:
// a name that passes is in its normal form (NFKC, lowercase and trimmed for
// meetings; NFC and trimmed for display names), normalising it again
// changes nothing, and it holds no character the rules refuse: no control,
// format (bar joiners that join), private use, default ignorable or blank
// character, a visible character in a display name, capped combining
// marks, and no mix of Latin, Cyrillic and Greek in a meeting name.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"Teamtreffen-Müller", "über_2026", "a", "has space", "-leading", "WS",
		"party-🎉", "bad\xffutf8", "u\u0308ber", "İstanbul", "ǅemal", "ΣΊΣΥΦΟΣ",
		strings.Repeat("x", 65), "amber-falcon-quiet-river-stone-4821",
		"ＴＥＡＭ-ｍｅｅｔｉｎｇ", "te\u0430m", "ᴬᴮᶜ", "㍿-2026", "\u200b\u200b", "\u3164", "\u2800",
		"evil\u202egnp.exe", "Ada\U000e0041", "A" + strings.Repeat("\u0301", 63), "نیک\u200cزاد",
		"👩\u200d💻", "🏳\ufe0f\u200d🌈", "बैठक", " \u0301x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if out, err := Normalize(in); err == nil {
			checkMeetingNameOut(t, in, out)
			again, err := Normalize(out)
			if err != nil || again != out {
				t.Fatalf("Normalize(%+q) = %+q, but Normalize(%+q) = %+q, %v", in, out, out, again, err)
			}
		}
		if disp, err := NormalizeDisplayName(in); err == nil {
			checkDisplayNameOut(t, in, disp)
			again, err := NormalizeDisplayName(disp)
			if err != nil || again != disp {
				t.Fatalf("NormalizeDisplayName(%+q) = %+q, but again = %+q, %v", in, disp, again, err)
			}
		}
	})
}
