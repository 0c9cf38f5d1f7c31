package pager

import (
	"strings"
	"testing"
)

// A room ID goes into an HTTP header: nothing in it may end the header.
func TestRoomLinkIsEscaped(t *testing.T) {
	if got := roomLink("!abc:example.org"); got != "https://matrix.to/#/!abc:example.org" {
		t.Errorf("plain room: %q", got)
	}
	if got := roomLink("!a\r\nX-Evil: 1:x"); strings.ContainsAny(got, "\r\n ") {
		t.Errorf("not escaped: %q", got)
	}
	if roomLink("") != "" {
		t.Error("no room, yet a link")
	}
}
