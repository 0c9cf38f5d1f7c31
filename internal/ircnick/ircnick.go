// Package ircnick compares IRC nicks the way the network does. It is shared by the IRC
// bridge and the test network's client, which must agree on who is who.
package ircnick

import "strings"

// Fold is the rfc1459 case mapping (Libera.Chat's CASEMAPPING): {}|^ are the lower
// case of []\~.
func Fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 32
		case r == '[':
			return '{'
		case r == ']':
			return '}'
		case r == '\\':
			return '|'
		case r == '~':
			return '^'
		}
		return r
	}, s)
}
