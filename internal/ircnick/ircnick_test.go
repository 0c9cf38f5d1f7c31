package ircnick

import "testing"

func TestFold(t *testing.T) {
	if got := Fold(`Nick[A]\~`); got != `nick{a}|^` {
		t.Errorf("Fold = %q", got)
	}
	if Fold("Zoë") != "zoë" {
		t.Error("non-ASCII letters are left as they are under rfc1459")
	}
}
