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

// Normalize returns the canonical form of a meeting name: spaces trimmed and
// lowercased. The result has 3 to 64 characters, only letters, digits, '-'
// and '_', starts with a letter or digit, and is not a reserved route name.
// Otherwise Normalize returns ErrTooShort, ErrTooLong, ErrBadChar,
// ErrBadStart or ErrReserved, wrapped with detail.
//
// Case folding is strings.ToLower, not full Unicode case folding or NFC
// normalization: the standard library has neither, and ToLower is stable
// (idempotent) and enough for names like "Teamtreffen-Müller". A name typed
// in decomposed form (u + combining diaeresis) is therefore rejected with
// ErrBadChar rather than silently mapped to a different canonical name.
func Normalize(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrBadChar)
	}
	s := strings.ToLower(strings.TrimSpace(name))
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
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return "", fmt.Errorf("%w: %q", ErrBadChar, r)
		}
	}
	if r, _ := utf8.DecodeRuneInString(s); !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return "", fmt.Errorf("%w: starts with %q", ErrBadStart, r)
	}
	return s, nil
}

// NormalizeDisplayName returns a participant's display name with spaces
// trimmed. It must be valid UTF-8 with 1 to 64 characters and no control
// characters; otherwise NormalizeDisplayName returns ErrEmpty, ErrTooLong or
// ErrBadChar, wrapped with detail. Case is kept.
func NormalizeDisplayName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrBadChar)
	}
	s := strings.TrimSpace(name)
	if s == "" {
		return "", ErrEmpty
	}
	if n := utf8.RuneCountInString(s); n > maxDisplayLen {
		return "", fmt.Errorf("%w: %d characters, at most %d allowed", ErrTooLong, n, maxDisplayLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: control character %U", ErrBadChar, r)
		}
	}
	return s, nil
}
