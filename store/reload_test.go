package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// A reload (SIGHUP) swaps the roles and the on-call chain for the next turn: a new
// coordinator is answered in the coordinators' room and a removed one no longer is;
// paging under way goes on with the new chain at its next step.
func TestReloadRolesAndChain(t *testing.T) {
	const s1, s2, s3, coord = "@s1:localhost", "@s2:localhost", "@s3:localhost", "@coord:localhost"
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) {
		c.Staff = []string{staff, s1, s2, s3}
		c.OnCall, c.AckTimeout, c.MaxRounds, c.Pager = []string{s1, s2}, 5*time.Minute, 3, true
	})
	reload := func(change func(*bot.Config)) {
		next := d.cfg
		change(&next)
		d.svc.Reload(bot.LiveOf(next))
	}
	queue := func() []string {
		t.Helper()
		return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$q%d", d.seq.Add(1)), Sender: coord,
			Conversation: d.cfg.CoordinatorsConversation, Text: "!queue", Group: true})
	}
	if r := queue(); len(r) != 0 {
		t.Fatalf("not a coordinator yet, answered: %q", r)
	}
	reload(func(c *bot.Config) { c.Coordinators = []string{coord} })
	expect(t, queue(), "No request is waiting")
	reload(func(c *bot.Config) { c.Coordinators = nil })
	if r := queue(); len(r) != 0 {
		t.Errorf("a removed coordinator was answered: %q", r)
	}

	d.staffCase(alice, room)
	if _, p, _ := d.pages(); strings.Join(p, ",") != s1 {
		t.Fatalf("first page: %v", p)
	}
	reload(func(c *bot.Config) { c.OnCall = []string{s3} })
	d.advance(6 * time.Minute)
	if _, err := d.svc.FireDueTimers(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, p, _ := d.pages(); strings.Join(p, ",") != s3 {
		t.Errorf("after the reload the chain paged %v, want %s", p, s3)
	}
}
