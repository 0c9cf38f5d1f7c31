package matrix_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/bot"
	"switchboard/internal/testenv"
	"switchboard/store"
)

// End to end on Dendrite: while a case is worked, a pg_dump of the bot's database
// holds none of the story, the names, the helper's note, the words relayed or the
// bot's access token (before sealing, it held them all). When the case's content is
// erased, the bot leaves its room and discards its Megolm sessions for it.
func TestDumpAndErasureEndToEnd(t *testing.T) {
	t.Parallel()
	dsn := testenv.NewDB(t)
	b := newBot(t, testenv.Homeserver(t), dsn)
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	vol := newPerson(t, b, "vdump")
	onDuty(t, staff, staffRoom, vol)

	const (
		story   = "Marguerite Quenneville keeps following me to every talk page I edit"
		parties = "Xanthippe_Vorkosigan, Ulrich Haldorsen-Pike"
		note    = "Checked the diffs of the Kestrelmoor dispute"
		relay   = "I looked at the Umbrafield thread and can help"
	)
	alice := newRequester(t, b, "alice")
	alice.intake(story, parties)
	opened := alice.answer("yes", "Your request is open")
	ref := opened.Body[strings.Index(opened.Body, "SB-") : strings.Index(opened.Body, "SB-")+8]
	vol.cmd("!accept "+ref, "is yours")
	inv, err := vol.c.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	workers := inv.Room
	vol.c.Expect(t, workers, story) // the summary: the bot has sent in the room
	if _, err := vol.c.Send(ctx, workers, "!note "+note); err != nil {
		t.Fatal(err)
	}
	vol.c.Expect(t, workers, "Noted")
	if _, err := vol.c.Send(ctx, workers, relay); err != nil {
		t.Fatal(err)
	}
	alice.expect(relay)

	st, err := store.Open(ctx, dsn, store.Options{DataKey: testenv.DataKey}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sess, err := st.LoadSession(ctx, b.ID.String())
	if err != nil || sess == nil || len(sess.AccessToken) < 10 {
		t.Fatalf("the bot's session: %+v, %v", sess, err)
	}
	dump := strings.ToLower(testenv.Dump(t, dsn))
	for _, secret := range []string{story, "Xanthippe Vorkosigan", "Ulrich Haldorsen-Pike", note, relay, sess.AccessToken,
		"quenneville", "vorkosigan", "haldorsen", "kestrelmoor", "umbrafield"} {
		if strings.Contains(dump, strings.ToLower(secret)) {
			t.Errorf("the dump holds %q", secret)
		}
	}

	// The bot holds the keys of the room: the volunteer's (to read) and its own (to send).
	sessions := func() (inbound, outbound int) {
		inbound = b.count(`SELECT count(*) FROM crypto_megolm_inbound_session WHERE room_id = $1 AND session IS NOT NULL`, workers.String())
		outbound = b.count(`SELECT count(*) FROM crypto_megolm_outbound_session WHERE room_id = $1`, workers.String())
		return
	}
	if in, out := sessions(); in == 0 || out == 0 {
		t.Fatalf("the bot holds %d inbound and %d outbound sessions for the room; the test's premise is gone", in, out)
	}

	// The homeserver, asked as the bot, has it in the room.
	botCli, err := mautrix.NewClient(b.cfg.Homeserver.URL, b.ID, sess.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !botIn(t, ctx, botCli, workers) {
		t.Fatal("the bot is not in the case's room")
	}

	// The case ends, and its content is erased.
	if _, err := vol.c.Send(ctx, workers, "!close resolved"); err != nil {
		t.Fatal(err)
	}
	vol.c.Expect(t, workers, "is closed")
	if n, err := st.Purge(ctx, bot.PurgeBefore{Content: time.Now().Add(time.Hour)}); err != nil || n != 1 {
		t.Fatalf("purged %d cases: %v", n, err)
	}
	if err := b.logs.waitCount(ctx, "Left an erased case's room", 0); err != nil {
		t.Fatal(err)
	}
	if botIn(t, ctx, botCli, workers) {
		t.Error("the homeserver still has the bot in the erased case's room")
	}
	if in, out := sessions(); in != 0 || out != 0 {
		t.Errorf("after leaving, the bot still holds %d inbound and %d outbound sessions for the room", in, out)
	}
}

// botIn asks the homeserver whether the bot is joined to room.
func botIn(t *testing.T, ctx context.Context, cli *mautrix.Client, room id.RoomID) bool {
	t.Helper()
	rooms, err := cli.JoinedRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms.JoinedRooms {
		if r == room {
			return true
		}
	}
	return false
}
