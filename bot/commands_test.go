package bot

import (
	"slices"
	"strings"
	"testing"

	"switchboard/commands"
	"switchboard/i18n"
)

// TestCommandTable walks the table: every command (and subcommand) has a handler, its
// help and usage lines exist in the catalogue, it names who may run it and where, and
// no name means two things in one place. The access-boundary and authorization tests in
// package store derive their rows from the same table.
func TestCommandTable(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	keys := cat.Keys()
	inCatalogue := func(k string) bool { return slices.Contains(keys, k) }
	for _, place := range commands.Places {
		seen := map[string]string{}
		for _, c := range Commands() {
			if c.Places&place == 0 {
				continue
			}
			for _, n := range append([]string{c.Name}, c.Aliases...) {
				if other, dup := seen[n]; dup {
					t.Errorf("%s: %q names both !%s and !%s", place, n, other, c.Name)
				}
				seen[n] = c.Name
			}
		}
	}
	for _, c := range Commands() {
		if c.Roles == 0 || c.Places == 0 {
			t.Errorf("!%s: no roles (%v) or places (%v)", c.Name, c.Roles, c.Places)
		}
		if !inCatalogue(c.HelpKey) {
			t.Errorf("!%s: help key %q is not in the catalogue", c.Name, c.HelpKey)
		}
		checkEntry(t, "!"+c.Name, c, c.UsageKey, inCatalogue)
		if (c.Run == nil) == (len(c.Sub) == 0) {
			t.Errorf("!%s: wants either a handler or subcommands", c.Name)
		}
		for _, s := range c.Sub {
			if s.Run == nil || len(s.Sub) > 0 {
				t.Errorf("!%s %s: a subcommand needs a handler and no subcommands", c.Name, s.Name)
			}
			usage := s.UsageKey
			if usage == "" {
				usage = c.UsageKey
			}
			checkEntry(t, "!"+c.Name+" "+s.Name, s, usage, inCatalogue)
		}
	}
}

func checkEntry(t *testing.T, name string, c *command, usage string, inCatalogue func(string) bool) {
	t.Helper()
	needsUsage := len(c.Sub) > 0
	for _, a := range c.Args {
		if a.Name == "" || a.Kind.Name == "" {
			t.Errorf("%s: an argument without a name or kind: %+v", name, a)
		}
		// Any argument can be refused (a required one missing, an optional one malformed).
		needsUsage = needsUsage || a.Kind.Name != commands.Text.Name || !a.Optional
	}
	if needsUsage && !inCatalogue(usage) {
		t.Errorf("%s: takes arguments but its usage key %q is not in the catalogue", name, usage)
	}
}

func TestCodeFenceCannotBeClosedByTheText(t *testing.T) {
	for _, text := range []string{"plain", "a ``` b", "````", "x `` y ```` z"} {
		fence := codeFence(text)
		if strings.Contains(text, fence) {
			t.Errorf("%q can close its fence %q", text, fence)
		}
		if len(fence) < 3 {
			t.Errorf("fence %q is too short", fence)
		}
	}
}
