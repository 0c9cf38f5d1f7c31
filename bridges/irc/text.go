package irc

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanInput turns what a person typed in an IRC client into plain text for the
// core: mIRC formatting codes (bold, colours, italics, reverse, reset …) are
// removed with their arguments, invalid UTF-8 (a client in Latin-1, say) becomes
// U+FFFD so the person sees we could not read it rather than silently losing
// words, and every other control character, NUL included, is dropped.
func CleanInput(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case 0x02, 0x0f, 0x11, 0x16, 0x1d, 0x1e, 0x1f:
			i++ // bold, reset, monospace, reverse, italic, strikethrough, underline
			continue
		case 0x03: // colour: \x03[fg[,bg]] with one or two digits each
			i = skipColour(s, i+1, 2, isDigit)
			continue
		case 0x04: // hex colour: \x04[RRGGBB[,RRGGBB]]
			i = skipColour(s, i+1, 6, isHex)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == '\t' {
			r = ' '
		}
		if unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			continue
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// skipColour skips a colour code's foreground and optional background, each of
// 1..n (digits) or exactly n (hex) characters, and returns the index after them.
func skipColour(s string, i, n int, ok func(byte) bool) int {
	fg := span(s, i, n, ok)
	if fg == 0 || (n == 6 && fg != 6) {
		return i
	}
	i += fg
	if i+1 < len(s) && s[i] == ',' {
		if bg := span(s, i+1, n, ok); bg > 0 && (n != 6 || bg == 6) {
			i += 1 + bg
		}
	}
	return i
}

func span(s string, i, n int, ok func(byte) bool) int {
	k := 0
	for k < n && i+k < len(s) && ok(s[i+k]) {
		k++
	}
	return k
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// SplitLines cuts a reply into IRC lines of at most max bytes: every paragraph and
// list item starts a new line (IRC has no line breaks inside a message), blank
// lines are left out (an empty PRIVMSG is not allowed), and long lines are cut
// at the last space before the limit, or inside a word only when it alone is
// longer than a line, and then never inside a UTF-8 character.
func SplitLines(text string, max int) []string {
	if max < 16 {
		max = 16
	}
	var out []string
	for _, para := range strings.Split(text, "\n") {
		para = strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, para))
		for len(para) > max {
			cut := strings.LastIndexByte(para[:max+1], ' ')
			if cut <= 0 {
				cut = max
				for cut > 0 && !utf8.RuneStart(para[cut]) {
					cut--
				}
			}
			out = append(out, strings.TrimRight(para[:cut], " "))
			para = strings.TrimLeft(para[cut:], " ")
		}
		if para != "" {
			out = append(out, para)
		}
	}
	return out
}

// lineBudget is how many bytes of text fit in one PRIVMSG to target: 512 bytes
// with CRLF, minus what the server puts in front when it relays the line,
// ":nick!user@host PRIVMSG target :". User and host are taken at their longest
// (USERLEN, HOSTLEN from ISUPPORT), since a cloak or vhost may change them.
func lineBudget(nick, target string, userLen, hostLen int) int {
	if userLen <= 0 {
		userLen = 10
	}
	if hostLen <= 0 {
		hostLen = 64
	}
	// +1 for the "~" servers put before an ident that no identd confirmed.
	prefix := 1 + len(nick) + 1 + (userLen + 1) + 1 + hostLen
	return 512 - 2 - prefix - len(" PRIVMSG ") - len(target) - len(" :")
}
