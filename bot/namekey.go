package bot

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Wiki usernames are compared in one world, Go's: NameKey is the key stored beside
// every name (the parties of a case, a volunteer's wiki name, their declared
// conflicts, a requester's likely name) and compared in SQL as an exact string. The
// database's lower() would change only ASCII under the C locale, so "Иван" and
// "иван", or "Émile" typed composed and decomposed, would be two people; and a
// right-to-left mark typed into a name would make it another name.

var folder = cases.Fold()

// NameKey is the comparison key of a wiki username: MediaWiki's normalisation
// (NormalizeUsername), Unicode NFC, invisible format characters (bidi marks, zero-width
// joiners) dropped, and case-folded. "" for an empty or invalid name.
func NameKey(name string) string {
	n, ok := NormalizeUsername(name)
	if !ok || n == "" {
		return ""
	}
	return norm.NFC.String(folder.String(n))
}

// NameKeys is NameKey of each name, dropping empty keys.
func NameKeys(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if k := NameKey(n); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// cleanName drops the format characters (Unicode category Cf: U+200E/U+200F, U+202A to
// U+202E, U+2066 to U+2069, zero-width spaces and joiners, the byte-order mark) that
// change how a name looks, or nothing at all, without changing who it names; and puts
// it in NFC, so a composed and a decomposed accent are one letter.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	return norm.NFC.String(s)
}
