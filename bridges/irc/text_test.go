package irc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanInput(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"\x02bold\x02 \x1ditalic\x1d \x1funder\x1f \x16rev\x16 \x0freset \x11mono \x1estrike", "bold italic under rev reset mono strike"},
		{"\x0304red\x03 \x0304,12on blue\x03 \x03,5comma stays", "red on blue ,5comma stays"},
		{"\x03123 three digits", "3 three digits"},
		{"\x04FF0000hex\x04 \x04FF0000,00FF00both \x04ABCno", "hex both ABCno"},
		{"tab\there", "tab here"},
		{"nul\x00and\x07bell\x1b[31m", "nulandbell[31m"},
		{"bad \xff\xfe utf8", "bad \uFFFD utf8"},
		{"  \x02\x02  ", ""},
		{"zero\u200bwidth\ufeff", "zerowidth"},
	}
	for _, tc := range cases {
		if got := CleanInput(tc.in); got != tc.want {
			t.Errorf("CleanInput(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitLines(t *testing.T) {
	text := "First paragraph is short.\n\nSecond " + strings.Repeat("wörd ", 40) + "end.\n- item one\n- item two"
	lines := SplitLines(text, 60)
	if lines[0] != "First paragraph is short." || lines[len(lines)-2] != "- item one" || lines[len(lines)-1] != "- item two" {
		t.Errorf("paragraphs not kept: %q", lines)
	}
	var words []string
	for _, l := range lines {
		if len(l) > 60 || l == "" || !utf8.ValidString(l) {
			t.Errorf("bad line %q (%d bytes)", l, len(l))
		}
		words = append(words, strings.Fields(l)...)
	}
	if strings.Join(words, " ") != strings.Join(strings.Fields(text), " ") {
		t.Error("words were lost or cut")
	}
	// A word longer than a line is cut, but never inside a character.
	for _, l := range SplitLines(strings.Repeat("ö", 100), 33) {
		if len(l) > 33 || !utf8.ValidString(l) {
			t.Errorf("bad cut %q", l)
		}
	}
	if got := SplitLines("a\x01b\rc", 100); len(got) != 1 || got[0] != "a b c" {
		t.Errorf("control characters in output: %q", got)
	}
}

func TestLineBudget(t *testing.T) {
	// ":nick!~user@host PRIVMSG target :" plus CRLF within 512 bytes.
	n := lineBudget("Switchboard", "somebody", 10, 64)
	prefix := ":Switchboard!~" + strings.Repeat("u", 10) + "@" + strings.Repeat("h", 64) + " PRIVMSG somebody :"
	if len(prefix)+n+2 != 512 {
		t.Errorf("budget %d leaves %d bytes", n, 512-len(prefix)-n-2)
	}
}

func TestAddressed(t *testing.T) {
	for text, want := range map[string]bool{
		"!help":                           true,
		"!HELP please":                    true,
		"Switchboard: I need help":        true,
		"hey @switchboard, are you a bot": true,
		"switchboardish is a word":        false,
		"talking about templates":         false,
		"!helpme":                         false,
	} {
		if got := addressed(text, "Switchboard"); got != want {
			t.Errorf("addressed(%q) = %v", text, got)
		}
	}
}
