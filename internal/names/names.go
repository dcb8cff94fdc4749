// Package names implements meeting names: generation and validation.
//
// A meeting name is the last path segment of a meeting URL. Generate makes
// hard-to-guess names such as "amber-falcon-quiet-river-stone-4821";
// Normalize turns a name typed by a person into its canonical form or
// rejects it. NormalizeDisplayName checks the name a participant shows to
// others.
package names

import (
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Shape of a generated name: NumWords words, then NumDigits digits, joined by '-'.
const (
	// NumWords is the number of words in a generated name.
	NumWords = 5
	// NumDigits is the number of decimal digits at the end of a generated name.
	NumDigits = 4
)

const (
	minNameLen    = 3
	maxNameLen    = 64
	maxDisplayLen = 64
)

// Sentinel errors returned (wrapped, with detail) by Normalize and
// NormalizeDisplayName. Test for them with errors.Is.
var (
	// ErrEmpty means a display name is empty after trimming spaces.
	ErrEmpty = errors.New("name is empty")
	// ErrTooShort means a meeting name has fewer than 3 characters.
	ErrTooShort = errors.New("name is too short")
	// ErrTooLong means a name has more than 64 characters.
	ErrTooLong = errors.New("name is too long")
	// ErrBadChar means a name contains a character that is not allowed,
	// or is not valid UTF-8.
	ErrBadChar = errors.New("name contains a character that is not allowed")
	// ErrBadStart means a meeting name does not start with a letter or digit.
	ErrBadStart = errors.New("name must start with a letter or digit")
	// ErrReserved means a meeting name collides with a server path.
	ErrReserved = errors.New("name is reserved")
	// ErrTooManyMarks means a name starts with a combining mark, or has
	// too many of them (on one character, or in all).
	ErrTooManyMarks = errors.New("name has too many combining marks")
	// ErrNoVisible means a display name has no visible character.
	ErrNoVisible = errors.New("name has no visible character")
	// ErrMixedScripts means a meeting name mixes look-alike scripts
	// (Latin, Cyrillic, Greek).
	ErrMixedScripts = errors.New("name mixes Latin, Cyrillic or Greek letters")
)

// reserved are the meeting names that collide with the server's own routes.
var reserved = map[string]bool{
	"ws":                   true,
	"api":                  true,
	"assets":               true,
	"healthz":              true,
	"readyz":               true,
	"metrics":              true,
	"manifest.webmanifest": true,
	"privacy":              true, // the privacy page
}

// IsReserved reports whether name (any case) is one of the server's own
// routes rather than a possible meeting.
func IsReserved(name string) bool { return reserved[strings.ToLower(name)] }

// wordsFile holds 1024 distinct common lowercase words, one per line.
//
//go:embed words.txt
var wordsFile string

var words = strings.Fields(wordsFile)

// EntropyBits returns the entropy, in bits, of a name made by Generate:
// NumWords choices from the word list plus NumDigits decimal digits.
// With 1024 words it is 5*10 + 4*log2(10) ≈ 63.3.
func EntropyBits() float64 {
	return NumWords*math.Log2(float64(len(words))) + NumDigits*math.Log2(10)
}

// Generate returns a new random meeting name of NumWords words and
// NumDigits digits joined by hyphens, e.g. "amber-falcon-quiet-river-stone-4821".
// Every choice is uniform and comes from crypto/rand.
func Generate() string {
	parts := make([]string, 0, NumWords+1)
	for range NumWords {
		parts = append(parts, words[uniform(int64(len(words)))])
	}
	parts = append(parts, fmt.Sprintf("%0*d", NumDigits, uniform(int64(math.Pow10(NumDigits)))))
	return strings.Join(parts, "-")
}

// uniform returns a uniformly random integer in [0, n) from crypto/rand.
// rand.Int rejects out-of-range samples, so there is no modulo bias.
func uniform(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		// crypto/rand.Reader does not fail since Go 1.24; if it somehow
		// did, a predictable name would be worse than a crash.
		panic("names: crypto/rand failed: " + err.Error())
	}
	return v.Int64()
}

// Normalize returns the canonical form of a meeting name: compatibility
// normalized (NFKC: fullwidth "ＴＥＡＭ" is "team", "ﬁ" is "fi"), lowercased
// and trimmed, so that names that look the same are the same meeting. The
// result has 3 to 64 characters, only letters, numbers, '-' and '_', and
// combining marks on letters and numbers (at most 4 on one, 32 in all);
// it starts with a letter or number, does not mix Latin, Cyrillic and
// Greek letters (a Cyrillic "а" among Latin letters looks like a meeting it
// is not), and is not a reserved route name. Otherwise Normalize returns
// ErrTooShort, ErrTooLong, ErrBadChar, ErrBadStart, ErrTooManyMarks,
// ErrMixedScripts or ErrReserved, wrapped with detail.
//
// Case folding is strings.ToLower (simple case mapping): enough for names
// like "Teamtreffen-Müller", and NFKC then composes what the mapping
// decomposed, so the canonical form is stable.
func Normalize(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrBadChar)
	}
	s, ok := foldMeetingName(name)
	if !ok {
		return "", fmt.Errorf("%w: no stable normal form", ErrBadChar)
	}
	if reserved[s] {
		return "", fmt.Errorf("%w: %q", ErrReserved, s)
	}
	n := utf8.RuneCountInString(s)
	if n < minNameLen {
		return "", fmt.Errorf("%w: %d characters, need at least %d", ErrTooShort, n, minNameLen)
	}
	if n > maxNameLen {
		return "", fmt.Errorf("%w: %d characters, at most %d allowed", ErrTooLong, n, maxNameLen)
	}
	prev := rune(0)
	for _, r := range s {
		switch {
		case forbidden(r):
			return "", fmt.Errorf("%w: %U", ErrBadChar, r)
		case unicode.IsLetter(r) || unicode.IsNumber(r) || r == '-' || r == '_':
		case unicode.In(r, unicode.Mn, unicode.Mc) && prev != 0 && prev != '-' && prev != '_':
		default:
			return "", fmt.Errorf("%w: %q", ErrBadChar, r)
		}
		prev = r
	}
	if r, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(r) && !unicode.IsNumber(r) {
		return "", fmt.Errorf("%w: starts with %q", ErrBadStart, r)
	}
	if err := countMarks(s); err != nil {
		return "", err
	}
	if mixesScripts(s) {
		return "", ErrMixedScripts
	}
	return s, nil
}

// foldMeetingName applies NFKC, lowercasing and trimming until nothing
// changes (once or twice: a compatibility character may decompose to a
// capital, such as U+1D2C "ᴬ" to "A"). ok is false if it does not settle.
func foldMeetingName(name string) (s string, ok bool) {
	s = strings.TrimSpace(norm.NFKC.String(name))
	for range 4 {
		next := strings.TrimSpace(norm.NFKC.String(strings.ToLower(s)))
		if next == s {
			return s, true
		}
		s = next
	}
	return s, false
}

// NormalizeDisplayName returns a participant's display name composed (NFC)
// and with spaces trimmed. It must be valid UTF-8 with 1 to 64 characters,
// at least one of them visible (a letter, number, symbol or punctuation),
// and none invisible: no control, format, private use or default ignorable
// character (zero width spaces, bidi controls, tag characters, Hangul
// fillers) and no blank one (U+2800), save joiners between two characters
// they join and variation selectors (for emoji). Combining marks are
// capped as in meeting names. Otherwise NormalizeDisplayName returns
// ErrEmpty, ErrTooLong, ErrBadChar, ErrTooManyMarks or ErrNoVisible,
// wrapped with detail. Case, scripts and compatibility characters are
// kept: people are named in every script.
func NormalizeDisplayName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrBadChar)
	}
	s := strings.TrimSpace(norm.NFC.String(name))
	if s == "" {
		return "", ErrEmpty
	}
	// Marks first: NFC puts a combining grapheme joiner (itself refused)
	// into a run of more than 30, as the stream-safe format asks.
	if err := countMarks(s); err != nil {
		return "", err
	}
	rs := []rune(s)
	if len(rs) > maxDisplayLen {
		return "", fmt.Errorf("%w: %d characters, at most %d allowed", ErrTooLong, len(rs), maxDisplayLen)
	}
	seen := false
	for i, r := range rs {
		switch {
		case (r == zwj || r == zwnj) && joins(rs, i):
		case unicode.Is(unicode.Variation_Selector, r):
		case forbidden(r):
			return "", fmt.Errorf("%w: invisible or control character %U", ErrBadChar, r)
		}
		seen = seen || visible(r)
	}
	if !seen {
		return "", ErrNoVisible
	}
	return s, nil
}
