package commands

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		cmd     *Command
		rest    string
		err     error
		unknown string
	}{
		{in: "!help", cmd: Help},
		{in: "  !H  ", cmd: Help},
		{in: "!STATUS", cmd: Status},
		{in: "!withdraw", cmd: Cancel},
		{in: "!add they wrote again\nat night", cmd: Add, rest: "they wrote again\nat night"},
		{in: "hello", err: ErrNotCommand},
		{in: "!", err: ErrNotCommand},
		{in: "!!!", err: ErrNotCommand},
		{in: "! help", err: ErrNotCommand},
		{in: "!frob x", unknown: "frob"},
	}
	for _, tc := range cases {
		inv, err := RequesterTable.Parse(tc.in)
		var unk *UnknownError
		switch {
		case tc.unknown != "":
			if !errors.As(err, &unk) || unk.Name != tc.unknown {
				t.Errorf("%q: want unknown %q, got %v", tc.in, tc.unknown, err)
			}
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("%q: want %v, got %v", tc.in, tc.err, err)
			}
		default:
			if err != nil || inv.Cmd != tc.cmd || inv.Rest != tc.rest {
				t.Errorf("%q: got %+v, %v", tc.in, inv, err)
			}
		}
	}
	var missing *MissingArgError
	if _, err := RequesterTable.Parse("!add   "); !errors.As(err, &missing) || missing.Cmd != Add {
		t.Errorf("!add without text: %v", err)
	}
}

func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range RequesterTable {
		if c.HelpKey == "" || len(c.Roles) == 0 {
			t.Errorf("%s lacks help or roles", c.Name)
		}
		if c.MinArgs > 0 && c.ArgsKey == "" {
			t.Errorf("%s needs arguments but has no message for their absence", c.Name)
		}
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if seen[n] {
				t.Errorf("name %q used twice", n)
			}
			seen[n] = true
		}
	}
}
