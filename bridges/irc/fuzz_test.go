package irc

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets of what crosses the IRC link: seeds are in testdata/fuzz/<target>,
// and `make fuzz` runs each target for FUZZTIME. They need no server (testenv.Main
// starts none under -fuzz).

// FuzzCleanInput: what a person typed reaches the core as valid UTF-8 without any
// control or formatting character, trimmed, unchanged by a second cleaning, and text
// without formatting reaches it as typed.
func FuzzCleanInput(f *testing.F) {
	for _, s := range []string{"hello", "\x02bold\x02 \x0304,12red\x03 \x04ff0000,00ff00hex\x04", "caf\xe9", "a\x00b\rc\nd",
		"\x031", "\x03,5x", "\u200bzero\ufeff", "\ttab", "\x16\x1d\x1e\x1f\x11\x0f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := CleanInput(s)
		if !utf8.ValidString(out) {
			t.Fatalf("%q cleaned to invalid UTF-8 %q", s, out)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' }) {
			t.Errorf("%q cleaned to %q, with a control character", s, out)
		}
		if out != strings.TrimSpace(out) {
			t.Errorf("%q cleaned to %q, not trimmed", s, out)
		}
		if again := CleanInput(out); again != out {
			t.Errorf("%q cleaned to %q, and again to %q", s, out, again)
		}
		plain := utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) && r != '\t' || r == '\u200b' || r == '\ufeff'
		})
		if want := strings.TrimSpace(strings.ReplaceAll(s, "\t", " ")); plain && out != want {
			t.Errorf("%q, without formatting, cleaned to %q", s, out)
		}
	})
}

// FuzzSplitLines: a reply becomes PRIVMSG lines that fit in 512 bytes with the
// prefix the server adds, each non-empty, trimmed, valid UTF-8 and free of control
// characters (no CR or LF can end a line early and start a command), and nothing
// but blanks is lost.
func FuzzSplitLines(f *testing.F) {
	for _, s := range []string{"Hello.\n\nTwo paragraphs.", strings.Repeat("word ", 200), strings.Repeat("é", 400),
		"a\rPRIVMSG #x :pwned\r\nb", strings.Repeat("x", 1000), "- item\n- item", "\x00\x01", "日本語 " + strings.Repeat("語", 300)} {
		f.Add(s, "Switchboard", "alice")
	}
	f.Fuzz(func(t *testing.T, text, nick, target string) {
		// Nicks and targets the server accepts: no blanks, at most NICKLEN.
		if nick == "" || target == "" || len(nick) > 64 || len(target) > 64 ||
			strings.ContainsAny(nick+target, " \r\n\x00") {
			return
		}
		const userLen, hostLen = 10, 64
		budget := lineBudget(nick, target, userLen, hostLen)
		lines := SplitLines(text, budget)
		prefix := ":" + nick + "!~" + strings.Repeat("u", userLen) + "@" + strings.Repeat("h", hostLen) + " PRIVMSG " + target + " :"
		for _, l := range lines {
			if n := len(prefix) + len(l) + 2; n > 512 {
				t.Fatalf("a line of %d bytes relayed as %d: %q", len(l), n, l)
			}
			if l == "" || l != strings.TrimSpace(l) {
				t.Errorf("line %q is empty or has blanks around it", l)
			}
			if !utf8.ValidString(l) {
				t.Errorf("line %q is not valid UTF-8", l)
			}
			if strings.ContainsFunc(l, unicode.IsControl) {
				t.Errorf("line %q has a control character", l)
			}
		}
		if !utf8.ValidString(text) {
			return
		}
		if got, want := dropBlanks(strings.Join(lines, "")), dropBlanks(text); got != want {
			t.Errorf("%q was split into %q: %q lost", text, lines, want)
		}
	})
}

func dropBlanks(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
