package bot

import (
	"crypto/rand"
	"strings"
)

// refAlphabet leaves out 0, 1, I and O, which people misread when they copy a
// reference from a phone to a keyboard.
const refAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// RefPrefix starts every case reference.
const RefPrefix = "SB-"

// NewRef makes a short, random case reference such as SB-K7Q3M. Random rather than
// sequential so a reference says nothing about how many cases there are.
func NewRef() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	out := []byte(RefPrefix)
	for _, x := range b {
		out = append(out, refAlphabet[int(x)%len(refAlphabet)])
	}
	return string(out)
}

// NormalizeRef reads a reference as a person may type it ("sb-k7q3m", "K7Q3M").
func NormalizeRef(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(s, RefPrefix) {
		s = RefPrefix + s
	}
	return s
}
