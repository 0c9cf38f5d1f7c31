package testenv_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ergochat/irc-go/ircmsg"

	"switchboard/internal/testenv"
)

// Accounts are registered in parallel; a client logged in with SASL carries its
// account in the account tag, an unidentified one carries none.
func TestIRCAccountsAndSASL(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	start := time.Now()
	var wg sync.WaitGroup
	accounts := make([][2]string, 5)
	for i := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, p := n.NewAccount(t, "acct")
			accounts[i] = [2]string{a, p}
		}()
	}
	wg.Wait()
	t.Logf("5 accounts registered in %v", time.Since(start))

	start = time.Now()
	var alice, bob, anon *testenv.IRCClient
	wg.Add(3)
	go func() {
		defer wg.Done()
		alice = testenv.NewIRCClient(t, n, "alice"+accounts[0][0][4:], accounts[0][0], accounts[0][1])
	}()
	go func() {
		defer wg.Done()
		bob = testenv.NewIRCClient(t, n, accounts[1][0], accounts[1][0], accounts[1][1])
	}()
	go func() { defer wg.Done(); anon = testenv.NewIRCClient(t, n, "anon"+accounts[2][0][4:], "", "") }()
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("3 clients connected in parallel in %v", time.Since(start))

	if err := alice.Privmsg(bob.Nick(), "hello from alice"); err != nil {
		t.Fatal(err)
	}
	if m := bob.Expect(t, alice.Nick(), "hello from alice"); m.Tags["account"] != accounts[0][0] || m.Tags["msgid"] == "" {
		t.Fatalf("tags %v", m.Tags)
	}
	if err := anon.Privmsg(bob.Nick(), "hello from nobody"); err != nil {
		t.Fatal(err)
	}
	if m := bob.Expect(t, anon.Nick(), "nobody"); m.Tags["account"] != "" {
		t.Fatalf("an unidentified sender has an account tag: %v", m.Tags)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := alice.SetNick(ctx, "renamed"+accounts[0][0][4:]); err != nil {
		t.Fatal(err)
	}
	if err := alice.Privmsg(bob.Nick(), "still me"); err != nil {
		t.Fatal(err)
	}
	if m := bob.Expect(t, alice.Nick(), "still me"); m.Tags["account"] != accounts[0][0] {
		t.Fatalf("tags after a nick change %v", m.Tags)
	}
}

func TestIRCRestart(t *testing.T) {
	t.Parallel()
	n := testenv.NewIRCNetwork(t)
	acct, pass := n.NewAccount(t, "restart")
	c := testenv.NewIRCClient(t, n, acct, acct, pass)
	start := time.Now()
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("network restarted in %v", time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitClosed(ctx); err != nil {
		t.Fatalf("the client's connection survived a server restart: %v", err)
	}
	// The account is still there: services kept it and relinked.
	again := testenv.NewIRCClient(t, n, acct, acct, pass)
	if again.Account() != acct {
		t.Fatal("not logged in after the restart")
	}
}

// The test network disconnects a client that floods, as Libera.Chat does, so a
// bot that floods fails its tests.
func TestIRCFloodLimitEnforced(t *testing.T) {
	t.Parallel()
	n := testenv.IRCNetwork(t)
	c := testenv.NewIRCClient(t, n, "flooder"+time.Now().Format("150405"), "", "")
	for i := range testenv.IRCThreshold * 3 {
		if err := c.Privmsg(c.Nick(), "line "+time.Now().String()); err != nil {
			break
		}
		_ = i
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitClosed(ctx); err != nil {
		t.Fatalf("a client sending %d lines at once was not disconnected: %v", testenv.IRCThreshold*3, err)
	}
	// Closed for flooding, not for some other reason.
	if m, err := c.WaitLine(ctx, func(m ircmsg.Message) bool { return m.Command == "ERROR" }); err != nil ||
		!strings.Contains(strings.Join(m.Params, " "), "Excess Flood") {
		t.Fatalf("the server's last word was not Excess Flood: %v %v", m.Params, err)
	}
}
