package testenv

import "testing"

// ReservePort reserves a loopback port for a server the test starts itself whose
// address must be known before it starts (the bot's own listeners, whose public URL
// goes into its configuration). It is given back when the test ends.
func ReservePort(tb testing.TB) int {
	tb.Helper()
	port, err := reservePort()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { releasePorts(port) })
	return port
}
