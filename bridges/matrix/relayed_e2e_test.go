package matrix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// End to end on Dendrite, in a relayed case (the default): the volunteer works the case
// in a room of helpers only, and what they do reaches the requester's chat with the bot
// with no trace of their account: a message (formatting kept), an edit, a reaction, an
// image (fetched and uploaded again, encrypted) and a redaction; her reply reaches the
// helpers' room as a reply. The test scans every event and state event her client can
// see for the volunteer's ID and display name.
func TestRelayedCaseEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	vol := newPerson(t, b, "vrelay")
	const volName = "Veronika Quillfeather"
	if err := vol.c.Mautrix().SetDisplayName(ctx, volName); err != nil {
		t.Fatal(err)
	}
	onDuty(t, staff, staffRoom, vol)

	alice := newRequester(t, b, "alice")
	alice.intake("An editor keeps undoing my work with rude summaries", "none")
	opened := alice.answer("yes", "Your request is open")
	ref := opened.Body[strings.Index(opened.Body, "SB-") : strings.Index(opened.Body, "SB-")+8]
	vol.cmd("!accept "+ref, "is yours")
	alice.expect("Just write here")
	inv, err := vol.c.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	workers := inv.Room
	intro := vol.c.Expect(t, workers, "!reveal")
	pseudonym := intro.Body[strings.Index(intro.Body, "reaches them as ")+len("reaches them as ") : strings.Index(intro.Body, ", never your account")]

	// A message with formatting.
	first, err := vol.c.SendContent(ctx, workers, &event.MessageEventContent{MsgType: event.MsgText,
		Body: "I can **help** with that", Format: event.FormatHTML, FormattedBody: "I can <strong>help</strong> with that"})
	if err != nil {
		t.Fatal(err)
	}
	relayed := alice.expect(pseudonym + ": I can **help** with that")
	if !strings.Contains(relayed.FormattedBody, "<strong>help</strong>") {
		t.Errorf("the formatting was lost: %q", relayed.FormattedBody)
	}

	// Her reply reaches the helpers as a reply to the volunteer's own message.
	if _, err := alice.c.SendContent(ctx, alice.room, &event.MessageEventContent{MsgType: event.MsgText, Body: "Thank you so much",
		RelatesTo: (&event.RelatesTo{}).SetReplyTo(relayed.ID)}); err != nil {
		t.Fatal(err)
	}
	reply := vol.c.Expect(t, workers, "Thank you so much")
	if got := reply.Event.Content.AsMessage().RelatesTo.GetReplyTo(); got != first {
		t.Errorf("her reply reached the helpers replying to %q, want the volunteer's message %q", got, first)
	}

	// An edit edits the relayed message.
	edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "I can surely help with that"}
	edit.SetEdit(first)
	if _, err := vol.c.SendContent(ctx, workers, edit); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.WaitEvent(ctx, alice.room, func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Type == event.EventMessage && m.RelatesTo.GetReplaceID() == relayed.ID && m.NewContent != nil &&
			strings.Contains(m.NewContent.Body, "I can surely help with that")
	}); err != nil {
		t.Fatalf("the edit did not reach her as an edit: %v", err)
	}

	// A reaction to her (relayed) message lands on her own message.
	if _, err := vol.c.Mautrix().SendReaction(ctx, workers, reply.ID, "❤️"); err != nil {
		t.Fatal(err)
	}
	var thanks id.EventID
	for _, m := range alice.c.Messages(alice.room) {
		if m.Sender == alice.c.UserID() && m.Body == "Thank you so much" {
			thanks = m.ID
		}
	}
	if _, err := alice.c.WaitEvent(ctx, alice.room, func(e *event.Event) bool {
		r := e.Content.AsReaction().RelatesTo
		return e.Type == event.EventReaction && r.EventID == thanks && r.Key == "❤️"
	}); err != nil {
		t.Fatalf("the reaction did not reach her message: %v", err)
	}

	// An image, encrypted on both sides.
	picture := bytes.Repeat([]byte("\x89PNG not really a picture "), 200)
	file := attachment.NewEncryptedFile()
	sealed := file.Encrypt(picture)
	up, err := vol.c.Mautrix().UploadBytes(ctx, sealed, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vol.c.SendContent(ctx, workers, &event.MessageEventContent{MsgType: event.MsgImage, Body: "diff.png",
		File: &event.EncryptedFileInfo{EncryptedFile: *file, URL: up.ContentURI.CUString()},
		Info: &event.FileInfo{MimeType: "image/png", Size: len(picture)}}); err != nil {
		t.Fatal(err)
	}
	img, err := alice.c.WaitEvent(ctx, alice.room, func(e *event.Event) bool {
		return e.Type == event.EventMessage && e.Content.AsMessage().MsgType == event.MsgImage
	})
	if err != nil {
		t.Fatalf("the image did not reach her: %v", err)
	}
	got := img.Content.AsMessage()
	if got.File == nil || got.URL != "" {
		t.Fatalf("the image reached her without encryption: %+v", got)
	}
	uri, err := got.File.URL.Parse()
	if err != nil {
		t.Fatal(err)
	}
	data, err := alice.c.Mautrix().DownloadBytes(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.File.DecryptInPlace(data); err != nil || !bytes.Equal(data, picture) {
		t.Fatalf("the image she got is not the one sent (%v)", err)
	}

	// A redaction removes the relayed message.
	if _, err := vol.c.Mautrix().RedactEvent(ctx, workers, first); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.WaitEvent(ctx, alice.room, func(e *event.Event) bool {
		return e.Type == event.EventRedaction && (e.Redacts == relayed.ID || e.Content.AsRedaction().Redacts == relayed.ID)
	}); err != nil {
		t.Fatalf("the redaction did not reach her: %v", err)
	}

	// Nothing she can see names the volunteer: not the events of her chat, not its
	// state, and she was never invited to the helpers' room.
	state, err := alice.c.Mautrix().State(ctx, alice.room)
	if err != nil {
		t.Fatal(err)
	}
	var seen []any
	for _, e := range alice.c.Events(alice.room) {
		seen = append(seen, e)
	}
	for _, byKey := range state {
		for _, e := range byKey {
			seen = append(seen, e)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("only %d events to scan", len(seen))
	}
	for _, e := range seen {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{vol.c.UserID().String(), volName, "vrelay"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("her client sees %q in %s", secret, raw)
			}
		}
	}
	rooms, err := alice.c.Mautrix().JoinedRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms.JoinedRooms {
		if r == workers {
			t.Error("the requester is in the helpers' room")
		}
	}
}
