package matrix_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// The same /sync batch delivered again (the position was not saved, say after a
// crash) must not be answered or applied twice.
func TestRedeliveredEventsChangeNothing(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := newRequester(t, b, "alice")
	alice.say("hello")
	alice.expect("1 of 4")
	var before string
	if err := b.db().QueryRow(`SELECT next_batch FROM sync_state`).Scan(&before); err != nil || before == "" {
		t.Fatalf("no sync position saved: %v", err)
	}
	events := b.count(`SELECT count(*) FROM case_events`)
	alice.answer("no", "2 of 4")
	perAnswer := b.count(`SELECT count(*) FROM case_events`) - events
	if perAnswer < 1 {
		t.Fatalf("an answer wrote %d audit rows; the count below would prove nothing", perAnswer)
	}
	b.stop()
	if _, err := b.db().Exec(`UPDATE sync_state SET next_batch = $1`, before); err != nil {
		t.Fatal(err)
	}
	b.start()
	// The redelivered batch is processed before this message: a second reply to the
	// old answer would come first, and the answer applied again would show in the
	// audit rows.
	alice.say("no")
	alice.c.ExpectNext(t, alice.room, "3 of 4")
	if n := b.count(`SELECT count(*) FROM case_events`); n != events+2*perAnswer {
		t.Errorf("redelivery wrote %d audit rows", n-events-2*perAnswer)
	}
}

func TestSecondDMRoomContinuesTheIntake(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := newRequester(t, b, "alice")
	alice.say("hello")
	alice.expect("1 of 4")
	alice.answer("no", "2 of 4")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	second, err := alice.c.CreateDM(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	again := &requester{t: t, c: alice.c, room: second}
	again.say("hello? are you there")
	if m := again.expect("carry on here"); !strings.Contains(m.Body, "2 of 4") {
		t.Errorf("the question should follow: %q", m.Body)
	}
	again.answer("no", "3 of 4")
	if n := b.count(`SELECT count(*) FROM intakes`); n != 1 {
		t.Errorf("%d intakes for one person", n)
	}
}

func TestBadInputOverMatrix(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := newRequester(t, b, "alice")
	alice.say("hello")
	alice.expect("1 of 4")
	version := func() int { return b.count(`SELECT version FROM intakes`) }
	v := version()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(content *event.MessageEventContent, want string) {
		t.Helper()
		if _, err := alice.c.SendContent(ctx, alice.room, content); err != nil {
			t.Fatal(err)
		}
		alice.expect(want)
		if version() != v {
			t.Fatalf("bad input changed the intake")
		}
	}
	send(&event.MessageEventContent{MsgType: event.MsgText, Body: ""}, "looked empty")
	send(&event.MessageEventContent{MsgType: event.MsgText, Body: "\u0000\u0007\u200b"}, "looked empty")
	// Events are capped at 64 KiB after encryption (base64), so 40 kB is about the most.
	send(&event.MessageEventContent{MsgType: event.MsgText, Body: strings.Repeat("long ", 8000)}, "too long")
	send(&event.MessageEventContent{MsgType: event.MsgText, Body: "!destroy everything"}, "do not know the command !destroy")
	send(&event.MessageEventContent{MsgType: event.MsgText, Body: "!add"}, "after !add")
	send(&event.MessageEventContent{MsgType: event.MsgText, Body: "<script>alert(1)</script>",
		Format: event.FormatHTML, FormattedBody: "<script>alert(1)</script>"}, "did not understand")
	send(&event.MessageEventContent{MsgType: event.MsgImage, Body: "photo.jpg", URL: "mxc://localhost/abc"}, "only read text")
	alice.answer("yes", "emergency")
}

func TestGroupRoomsAndUnencryptedChats(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := testenv.NewMatrixUser(t, "alice")
	carol := testenv.NewMatrixUser(t, "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A room with more people than the bot and one other: a polite word, then it leaves.
	group := createEncryptedRoom(t, ctx, alice, b.ID, carol.UserID())
	m := alice.Expect(t, group, "only talk privately")
	if m.Sender != b.ID {
		t.Fatalf("unexpected sender %s", m.Sender)
	}
	if err := alice.WaitMembership(ctx, group, b.ID, event.MembershipLeave); err != nil {
		t.Fatal(err)
	}

	// A direct chat without encryption: the bot says it needs encryption, and keeps nothing.
	resp, err := alice.Mautrix().CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", IsDirect: true, Invite: []id.UserID{b.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.WaitMembership(ctx, resp.RoomID, b.ID, event.MembershipJoin); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Mautrix().SendMessageEvent(ctx, resp.RoomID, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgText, Body: "my secret story"}); err != nil {
		t.Fatal(err)
	}
	alice.Expect(t, resp.RoomID, "encrypted chats")
	if n := b.count(`SELECT count(*) FROM intakes`) + b.count(`SELECT count(*) FROM people`); n != 0 {
		t.Error("a plaintext chat created state")
	}
}

// A message the bot cannot decrypt gets a kind request to send it again.
func TestUndecryptableMessageIsAnswered(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := newRequester(t, b, "alice")
	alice.say("hello")
	alice.expect("1 of 4")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bogus := map[string]any{
		"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "dGhpcyBpcyBub3QgYSByZWFsIGtleSBhdCBhbGwgISE",
		"session_id": "bm8gc3VjaCBzZXNzaW9uIGV4aXN0cyBhbnl3aGVyZSEh", "device_id": "NOPE",
		"ciphertext": "AwgAEnBsYWluIGdhcmJhZ2UgdGhhdCBubyBvbmUgY2FuIGRlY3J5cHQ",
	}
	if _, err := alice.c.Mautrix().SendMessageEvent(ctx, alice.room, event.EventEncrypted, bogus, mautrix.ReqSendEvent{DontEncrypt: true}); err != nil {
		t.Fatal(err)
	}
	alice.c.ExpectTimeout = 45 * time.Second // cryptohelper waits ~25 s for late keys first
	alice.expect("could not read your last message")
}

// The bot's device is cross-signed, so clients trust it through its owner, and it
// stays so after a restart.
func TestBotDeviceIsCrossSigned(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	b.start()
	alice := newRequester(t, b, "alice")
	alice.say("hello")
	alice.expect("1 of 4")
	check := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		mach := alice.c.Mautrix().Crypto.(*cryptohelper.CryptoHelper).Machine()
		devices, err := mach.FetchKeys(ctx, []id.UserID{b.ID}, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(devices[b.ID]) != 1 {
			t.Fatalf("bot has %d devices; want exactly one", len(devices[b.ID]))
		}
		for _, dev := range devices[b.ID] {
			if trust := mach.ResolveTrust(dev); trust < id.TrustStateCrossSignedTOFU {
				t.Errorf("bot device %s trust = %s; want cross-signed", dev.DeviceID, trust)
			}
		}
	}
	check()
	var sealed []byte
	if err := b.db().QueryRow(`SELECT recovery_key FROM matrix_session`).Scan(&sealed); err != nil || len(sealed) < 40 {
		t.Fatalf("recovery key not kept: %v", err)
	}
	deviceID := func() string {
		t.Helper()
		var device string
		if err := b.db().QueryRow(`SELECT device_id FROM matrix_session`).Scan(&device); err != nil || device == "" {
			t.Fatalf("no device ID stored (%q): %v", device, err)
		}
		return device
	}
	device := deviceID()
	b.stop()
	b.start()
	alice.answer("no", "2 of 4")
	check()
	if after := deviceID(); after != device {
		t.Errorf("device changed across a restart: %s -> %s", device, after)
	}
}

// A homeserver that goes away and comes back: the bot reconnects by itself, replies
// queued while it was down are delivered, and the intake goes on.
func TestHomeserverRestart(t *testing.T) {
	t.Parallel()
	hs := testenv.NewDendrite(t)
	b := newBot(t, hs, testenv.NewDB(t))
	b.start()
	c := testenv.NewMatrixUserOn(t, hs, testenv.PG(t), "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	room, err := c.CreateDM(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	alice := &requester{t: t, c: c, room: room}
	alice.say("hello")
	alice.expect("1 of 4")
	alice.answer("no", "2 of 4")
	failed := strings.Count(b.logs.String(), "Sync failed")
	if err := hs.Down(); err != nil {
		t.Fatal(err)
	}
	// Up only once the bot has seen the homeserver gone, or it might never notice.
	if err := b.logs.waitCount(ctx, "Sync failed", failed); err != nil {
		t.Fatalf("the bot did not notice the homeserver going away: %v", err)
	}
	if err := hs.Up(); err != nil {
		t.Fatal(err)
	}
	alice.c.ExpectTimeout = 60 * time.Second
	alice.answer("no", "3 of 4")
	alice.answer("no", "4 of 4")
}
