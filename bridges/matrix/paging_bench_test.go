package matrix_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/config"
	"switchboard/internal/testenv"
)

// BenchmarkPaging measures the time from a requester's "yes" on the safety list to the
// first page leaving the bot (received by a loopback ntfy recorder), next to the
// homeserver's own round trip for one encrypted message between two clients, in the
// same run. Target: p99 under 1 s.
//
//	go test -tags goolm -run XXX -bench Paging -benchtime 20x ./bridges/matrix/
func BenchmarkPaging(b *testing.B) {
	n := b.N
	bot := newBot(b, testenv.Homeserver(b), testenv.NewDB(b))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	staff := testenv.NewMatrixUser(b, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", bot.ID)
	if err != nil {
		b.Fatal(err)
	}
	ntfy := testenv.NewRecorder(b)
	sid := staff.UserID().String()
	bot.cfg.Service.StaffRoom, bot.cfg.Service.Staff = staffRoom.String(), []string{sid}
	bot.cfg.Service.OnCall.Chain = []string{sid}
	bot.cfg.Service.Abuse = config.Abuse{}
	bot.cfg.Pager = config.Pager{Contacts: map[string]config.PagerContact{sid: {Ntfy: ntfy.URL() + "/oncall"}},
		Attempts: 1, RetryBackoff: config.Duration(time.Second), Timeout: config.Duration(5 * time.Second)}
	bot.start()
	wait := func(c *testenv.Client, room interface{ String() string }, want string) {
		if _, err := c.WaitFor(ctx, idOf(room), func(m testenv.Msg) bool { return strings.Contains(m.Body, want) }); err != nil {
			b.Fatal(err)
		}
	}
	var page, rtt []time.Duration
	for i := range n {
		c := testenv.NewMatrixUser(b, fmt.Sprintf("req%d", i))
		dm, err := c.CreateDM(ctx, bot.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Send(ctx, dm, "hello"); err != nil {
			b.Fatal(err)
		}
		wait(c, dm, "1 of 4")
		before := len(ntfy.Requests())
		start := time.Now()
		if _, err := c.Send(ctx, dm, "yes"); err != nil {
			b.Fatal(err)
		}
		got := ntfy.WaitFor(b, before+1, 30*time.Second)
		page = append(page, got[before].At.Sub(start))
	}
	// The floor: one encrypted message from a client to another, on the same server.
	x, y := testenv.NewMatrixUser(b, "x"), testenv.NewMatrixUser(b, "y")
	room, err := x.CreateDM(ctx, y.UserID())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := y.NextInvite(ctx); err != nil {
		b.Fatal(err)
	}
	// Until x has seen y join, that join may arrive while x sends, which drops x's
	// room key and makes the send start again: a skewed first round trip.
	if err := x.WaitMembership(ctx, room, y.UserID(), event.MembershipJoin); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		msg := fmt.Sprintf("ping %d", i)
		start := time.Now()
		if _, err := x.Send(ctx, room, msg); err != nil {
			b.Fatal(err)
		}
		wait(y, room, msg)
		rtt = append(rtt, time.Since(start))
	}
	pct := func(d []time.Duration, p float64) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[min(len(d)-1, int(p*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(page, 0.5), "page-p50-ms")
	b.ReportMetric(pct(page, 0.99), "page-p99-ms")
	b.ReportMetric(pct(rtt, 0.5), "hs-rtt-p50-ms")
	b.ReportMetric(pct(rtt, 0.99), "hs-rtt-p99-ms")
}

func idOf(r interface{ String() string }) id.RoomID { return id.RoomID(r.String()) }
