package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/internal/testenv"
)

// `switchboard simulate` refuses what it cannot run with the exit codes of the rest of
// the binary, and one line saying why (the simulation itself is tested in package sim).
func TestSimulateRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("start: 2026-03-02T00:00:00Z\narivals: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("start: 2026-03-02T00:00:00Z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"simulate"}, exitUsage, "--scenario"},
		{[]string{"simulate", "--scenario", bad}, exitConfig, "arivals"},
		{[]string{"simulate", "--scenario", filepath.Join(dir, "missing.yaml")}, exitConfig, "missing.yaml"},
		{[]string{"simulate", "--scenario", good, "--volunteers", "9:3"}, exitUsage, "9:3"},
		{[]string{"simulate", "-c", filepath.Join(dir, "nope.yaml"), "--scenario", good}, exitConfig, "nope.yaml"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d (want %d), said %q (want it to name %q)", c.args, code, c.code, errOut.String(), c.want)
		}
	}
}

// A roster the bot refuses (a name that is no wiki username) is the scenario's fault:
// the configuration exit code and a line naming the volunteer, not an internal error.
func TestSimulateRefusedRosterIsAScenarioError(t *testing.T) {
	sc := filepath.Join(t.TempDir(), "refused.yaml")
	if err := os.WriteFile(sc, []byte("start: 2026-03-02T00:00:00Z\nlength: 1h\n"+
		"volunteers: {roster: [{name: \"b#b\", shifts: [\"Mon 00:00-02:00 UTC\"]}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"simulate", "--scenario", sc, "--database", testenv.PG(t).AdminDSN()}, &out, &errOut)
	if code != exitConfig || !strings.Contains(errOut.String(), "b#b") {
		t.Errorf("exit %d (want %d), said %q (want it to name b#b)", code, exitConfig, errOut.String())
	}
}
