package matrix_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// BenchmarkCaseRoom measures the time from a volunteer's acceptance (when the core
// handled it) to the case room created with both invitations sent (recorded by the
// bridge), next to the homeserver's own floor: a bare client doing createRoom with the
// same settings plus two invite calls, in the same run. It reports p50 for both.
//
//	go test -tags goolm -run XXX -bench CaseRoom -benchtime 10x ./bridges/matrix/
func BenchmarkCaseRoom(b *testing.B) {
	n := b.N
	tb := b
	bot := newBot(b, testenv.Homeserver(b), testenv.NewDB(b))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	staff := testenv.NewMatrixUser(tb, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", bot.ID)
	if err != nil {
		b.Fatal(err)
	}
	bot.cfg.Service.StaffRoom, bot.cfg.Service.Staff = staffRoom.String(), []string{staff.UserID().String()}
	bot.start()
	vol := testenv.NewMatrixUser(tb, "vol")
	volDM, err := vol.CreateDM(ctx, bot.ID)
	if err != nil {
		b.Fatal(err)
	}
	// say returns its error rather than failing: it also runs off the benchmark's goroutine.
	say := func(c *testenv.Client, room id.RoomID, text, want string) error {
		if _, err := c.Send(ctx, room, text); err != nil {
			return err
		}
		_, err := c.WaitFor(ctx, room, func(m testenv.Msg) bool { return strings.Contains(m.Body, want) })
		return err
	}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range testenv.Enrol(vol.UserID().String()) {
		must(say(staff, staffRoom, c, vol.UserID().String()))
	}
	must(say(vol, volDM, "!languages en", "You help in"))
	must(say(vol, volDM, "!limit 10", "at most"))
	must(say(vol, volDM, "!on", "on duty"))
	// n requesters, each with a complete intake, in parallel; each case is offered to vol.
	reqs := make([]*testenv.Client, n)
	var wg sync.WaitGroup
	for i := range n {
		reqs[i] = testenv.NewMatrixUser(tb, fmt.Sprintf("req%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := reqs[i]
			dm, err := c.CreateDM(ctx, bot.ID)
			if err != nil {
				b.Error(err)
				return
			}
			for _, s := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"},
				{"no", "what happened"}, {"An editor keeps reverting me", "usernames"}, {"none", "Which wiki"},
				{"en.wikipedia.org", "language"}, {"en", "Shall I open"}, {"yes", "is open"}} {
				if err := say(c, dm, s[0], s[1]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	var refs []string
	rows, err := bot.db().Query(`SELECT ref FROM cases WHERE state = 'offered' ORDER BY id`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var r string
		must(rows.Scan(&r))
		refs = append(refs, r)
	}
	must(rows.Err())
	rows.Close()
	if len(refs) != n {
		b.Fatalf("%d offered cases, want %d", len(refs), n)
	}
	var ours, floor []time.Duration
	b.ResetTimer()
	for i, ref := range refs {
		must(say(vol, volDM, "!accept "+ref, "is yours"))
		// The summary is sent once vol has joined the room, which the bridge records
		// (room_created) before it looks at who joined.
		inv, err := vol.NextInvite(ctx)
		must(err)
		_, err = vol.WaitFor(ctx, inv.Room, func(m testenv.Msg) bool { return strings.Contains(m.Body, "keeps reverting me") })
		must(err)
		var d int64
		must(bot.db().QueryRow(`SELECT e.at - c.accepted_at FROM cases c JOIN case_events e ON e.case_id = c.id
			AND e.kind = 'room_created' WHERE c.ref = $1`, ref).Scan(&d))
		ours = append(ours, time.Duration(d)*time.Millisecond)
		// The floor: a bare client, same room settings, createRoom then two invites.
		start := time.Now()
		resp, err := vol.Mautrix().CreateRoom(ctx, &mautrix.ReqCreateRoom{Visibility: "private", Preset: "private_chat",
			InitialState: []*event.Event{
				{Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}},
				{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityInvited}}},
			}})
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range []id.UserID{reqs[i].UserID(), staff.UserID()} {
			if _, err := vol.Mautrix().InviteUser(ctx, resp.RoomID, &mautrix.ReqInviteUser{UserID: u}); err != nil {
				b.Fatal(err)
			}
		}
		floor = append(floor, time.Since(start))
	}
	b.StopTimer()
	p50 := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	b.ReportMetric(p50(ours), "switchboard-p50-ms")
	b.ReportMetric(p50(floor), "bare-p50-ms")
}
