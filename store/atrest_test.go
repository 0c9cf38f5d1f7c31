package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
	"switchboard/store"
)

// What a dump of the database gives away, with everything the service keeps of two
// cases in it: the story, the parties, an addition, a note, a declared conflict, a
// relayed message waiting for an IRC requester who is away, a feedback comment, a first
// message waiting in the busy line, the reasons of a transfer, a suspension and a block,
// and the bot's access token.
type secrets struct {
	story, parties, addition, note, relay, comment, waiting, conflict, token string
	reasons                                                                  []string
	// names are the parties and the conflict as they would be compared: MediaWiki's
	// spaces for underscores, case-folded (the dump is searched without case).
	names []string
}

var planted = secrets{
	story:    "Marguerite Quenneville keeps following me to every talk page I edit",
	parties:  "Xanthippe_Vorkosigan, Ulrich Haldorsen-Pike",
	addition: "Yesterday he emailed my employer about me",
	note:     "Checked the diffs of the Kestrelmoor dispute",
	relay:    "I looked at the Umbrafield thread and can help",
	comment:  "the volunteer Zephyrine was kind",
	waiting:  "Somebody posted my Brightwater address",
	conflict: "Ottoline Ravensworth",
	token:    "syt_c3dpdGNoYm9hcmQ_SECRETtokenVALUE_0a1b2c",
	reasons:  []string{"going on leave, Fennimore knows", "shouted at Thornbury", "threatened Wexcombe"},
	names:    []string{"Xanthippe_Vorkosigan", "Xanthippe Vorkosigan", "Ulrich Haldorsen-Pike", "Ottoline Ravensworth"},
}

// plantSecrets drives the core through everything above, leaving what it keeps in the
// database.
func plantSecrets(t *testing.T, d *desk) {
	t.Helper()
	ctx := context.Background()
	d.reconfigure(func(c *bot.Config) { c.SharedRooms = false })
	d.volunteer("@b:localhost", "en", "!conflict add "+planted.conflict)
	a := d.volunteer("@a:localhost", "en", "!on")

	// Carol asks on IRC, adds to her request, and a volunteer works it; she is away
	// when the volunteer answers.
	carol := func(text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.IRC, EventID: fmt.Sprintf("irc-%d", d.seq.Add(1)), Sender: "carol",
			Conversation: "carol", Text: text})
	}
	for _, s := range []string{"hello", "no", "no", "no", "no", planted.story, planted.parties, "en.wikipedia.org", "en"} {
		carol(s)
	}
	expect(t, carol("yes"), "Your request is open")
	expect(t, carol(planted.addition), "added that to your request")
	ref := d.str(`SELECT ref FROM cases c JOIN people p ON p.id = c.person_id WHERE p.external_id = 'carol'`)
	expect(t, d.send("@a:localhost", a, "!accept "+ref), "is yours")
	d.roomFor("!case:localhost")
	d.joins("@a:localhost", "!case:localhost")
	summary := strings.Join(d.drain("!case:localhost"), "\n")
	if !strings.Contains(summary, planted.story) || !strings.Contains(summary, planted.addition) {
		t.Fatalf("the summary lacks the story or the addition: %q", summary)
	}
	expect(t, d.inRoom("@a:localhost", "!case:localhost", "!note "+planted.note), "Noted")
	d.inRoom("@a:localhost", "!case:localhost", planted.relay)

	// Reasons: a transfer (alice's case, before it is closed), a suspension, a block.
	expect(t, d.send(staff, staffRoom, "!volunteer suspend @b:localhost "+planted.reasons[1]), "now suspended")
	expect(t, d.send(staff, staffRoom, "!block irc:mallory 30d "+planted.reasons[2]), "blocked")

	// Alice's request is closed, and she leaves a comment.
	aliceRef := d.intake(alice, room, "none", "en")
	expect(t, d.send("@a:localhost", a, "!accept "+aliceRef), "is yours")
	d.roomFor("!alice-case:localhost")
	d.joins("@a:localhost", "!alice-case:localhost")
	d.inRoom("@a:localhost", "!alice-case:localhost", "!transfer "+planted.reasons[0])
	d.actions()
	c := d.volunteer("@c:localhost", "en", "!on") // offered the waiting case as they come on duty
	expect(t, d.send("@c:localhost", c, "!accept "+aliceRef), "is yours")
	d.actions()
	d.joins("@c:localhost", "!alice-case:localhost")
	expect(t, d.inRoom("@c:localhost", "!alice-case:localhost", "!close resolved"), "is closed")
	expect(t, d.send(alice, room, "4"), "Thank you for your feedback")
	expect(t, d.send(alice, room, "!feedback "+planted.comment), "kept your comment")

	// Dora waits in the busy line.
	d.reconfigure(func(c *bot.Config) { c.IntakeRate, c.IntakeBurst = 1, 1 })
	d.send("@first:localhost", "!dm-first:localhost", "hello")
	expect(t, d.send("@dora:localhost", "!dm-dora:localhost", "hello"), "very busy")
	expect(t, d.send("@dora:localhost", "!dm-dora:localhost", planted.waiting), "kept what you wrote")

	if err := d.st.SaveSession(ctx, store.Session{UserID: "@switchboard:localhost", DeviceID: "SBDEVICE", AccessToken: planted.token}); err != nil {
		t.Fatal(err)
	}
	// Everything above is still there to be read by the bot.
	if n := d.count(`SELECT count(*) FROM outbox WHERE platform = 'irc' AND conversation = 'carol'`); n == 0 {
		t.Fatal("no message waits for carol")
	}
	if sess, err := d.st.LoadSession(ctx, "@switchboard:localhost"); err != nil || sess.AccessToken != planted.token {
		t.Fatalf("the session reads back as %+v, %v", sess, err)
	}
}

// leaks lists the planted secrets a dump contains.
func leaks(dump string) []string {
	dump = strings.ToLower(dump)
	var found []string
	for _, s := range append(append([]string{planted.story, planted.addition, planted.note, planted.relay, planted.comment,
		planted.waiting, planted.token}, planted.names...), planted.reasons...) {
		if strings.Contains(dump, strings.ToLower(s)) {
			found = append(found, s)
		}
	}
	// A fragment catches a value stored cut or reworded.
	for _, s := range []string{"quenneville", "vorkosigan", "haldorsen", "kestrelmoor", "umbrafield", "zephyrine", "brightwater", "ravensworth", "secrettokenvalue",
		"fennimore", "thornbury", "wexcombe"} {
		if strings.Contains(dump, s) {
			found = append(found, s)
		}
	}
	return found
}

// Before sealing, a pg_dump of the database held the story, every name, the notes,
// messages waiting to be sent, and the token that logs in as the bot.
func TestDumpHoldsNoCaseContent(t *testing.T) {
	dsn := testenv.NewDB(t)
	d := newDesk(t, dsn)
	plantSecrets(t, d)
	if found := leaks(testenv.Dump(t, dsn)); len(found) > 0 {
		t.Errorf("the dump holds %q", found)
	}
	// Sealed is not lost: a restarted bot reads it all, and names still match.
	d.open()
	var c *bot.Case
	if err := d.st.InTx(context.Background(), func(tx bot.Tx) (err error) {
		c, err = tx.CaseByRoom(context.Background(), "!case:localhost")
		return err
	}); err != nil || c == nil {
		t.Fatalf("case: %v", err)
	}
	if c.Description != planted.story || strings.Join(c.Parties, ", ") != "Xanthippe Vorkosigan, Ulrich Haldorsen-Pike" {
		t.Errorf("the case reads back as %q, %q", c.Description, c.Parties)
	}
}

// A database written before sealing is sealed when the new version starts: nothing
// stays in clear, everything reads back, and names are compared by their keyed hash.
func TestExistingRowsAreSealedAtStart(t *testing.T) {
	dsn := testenv.NewDB(t)
	d := newDesk(t, dsn)
	plantSecrets(t, d)
	if err := d.st.Unseal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if found := leaks(testenv.Dump(t, dsn)); len(found) < 10 {
		t.Fatalf("the database as an older version left it should hold everything in clear; it holds %q", found)
	}
	d.open()
	if found := leaks(testenv.Dump(t, dsn)); len(found) > 0 {
		t.Errorf("after the start, the dump holds %q", found)
	}
	checkReadable(t, d)
}

// checkReadable: the planted case, the conflict and the token read back through the
// store, and names match by the current key's hashes.
func checkReadable(t *testing.T, d *desk) {
	t.Helper()
	ctx := context.Background()
	if err := d.st.InTx(ctx, func(tx bot.Tx) error {
		c, err := tx.CaseByRoom(ctx, "!case:localhost")
		if err != nil {
			return err
		}
		if c.Description != planted.story || strings.Join(c.Parties, ", ") != "Xanthippe Vorkosigan, Ulrich Haldorsen-Pike" {
			t.Errorf("the case reads back as %q, %q", c.Description, c.Parties)
		}
		adds, err := tx.Additions(ctx, c.ID)
		if err != nil || len(adds) != 1 || adds[0].Text != planted.addition {
			t.Errorf("additions: %+v %v", adds, err)
		}
		b, err := tx.Volunteer(ctx, "@b:localhost")
		if err != nil {
			return err
		}
		conflicts, err := tx.Conflicts(ctx, b.ID)
		if err != nil || strings.Join(conflicts, ",") != planted.conflict {
			t.Errorf("conflicts: %q %v", conflicts, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if sess, err := d.st.LoadSession(ctx, "@switchboard:localhost"); err != nil || sess.AccessToken != planted.token {
		t.Errorf("the session reads back as %+v, %v", sess, err)
	}
	if n := d.count(`SELECT count(*) FROM cases WHERE $1 = ANY (party_keys)`, d.st.NameHash("ulrich haldorsen-pike")); n != 1 {
		t.Errorf("%d cases name Ulrich by the current hash", n)
	}
	if n := d.count(`SELECT count(*) FROM conflicts WHERE name_key = $1`, d.st.NameHash(planted.conflict)); n != 1 {
		t.Errorf("%d conflicts with Ottoline by the current hash", n)
	}
	if n := d.count(`SELECT count(*) FROM volunteers WHERE wiki_key = $1`, d.st.NameHash("A")); n != 1 {
		t.Errorf("%d volunteers named A by the current hash", n)
	}
}

// Rotation: with a new data key and the old one retired, a start seals everything
// again under the new key and hashes names again; the old key can then go. A value
// under a key the bot was not given stops the start.
func TestDataKeyRotation(t *testing.T) {
	dsn := testenv.NewDB(t)
	d := newDesk(t, dsn)
	plantSecrets(t, d)
	const newKey = "the-next-data-key-0123456789abcdefghij"
	next, err := store.NewKeys(newKey)
	if err != nil {
		t.Fatal(err)
	}
	notUnderNew := func() int {
		n := 0
		for _, values := range store.SealedColumns() {
			n += d.count(`SELECT count(*) FROM ` + values + ` WHERE v <> '' AND v NOT LIKE 'sb1:` + next.ID() + `:%'`)
		}
		return n
	}
	if n := notUnderNew(); n < 10 {
		t.Fatalf("only %d values sealed under the old key", n)
	}

	d.keys = &store.Options{DataKey: newKey, RetiredDataKeys: []string{testenv.DataKey}}
	d.open()
	if n := notUnderNew(); n != 0 {
		t.Errorf("%d values still under the old key", n)
	}
	checkReadable(t, d)

	d.keys = &store.Options{DataKey: newKey}
	d.open()
	checkReadable(t, d)
	if found := leaks(testenv.Dump(t, dsn)); len(found) > 0 {
		t.Errorf("the dump holds %q", found)
	}

	_, err = store.Open(context.Background(), dsn, store.Options{DataKey: "a-key-nobody-kept-0123456789abcdefghij"}, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "retired-data-keys") {
		t.Errorf("a start with a key that sealed nothing here: %v", err)
	}
}
