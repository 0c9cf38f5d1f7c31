package matrix_test

import (
	"bytes"
	"context"
	"image/png"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"switchboard/internal/testenv"
)

// !coverage in the coordinators' room: the table, then the heat map as an image that is
// encrypted twice over, as a relayed file is: the event (m.room.encrypted on the wire)
// and the file itself (uploaded encrypted, its key only inside the event). The
// coordinator downloads it, decrypts it and finds a PNG of the size the event says.
func TestCoverageHeatMapEndToEnd(t *testing.T) {
	t.Parallel()
	b := newBot(t, testenv.Homeserver(t), testenv.NewDB(t))
	coord := testenv.NewMatrixUser(t, "coord")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	room, err := coord.CreateRoom(ctx, "Coordinators", b.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.cfg.Service.CoordinatorsRoom = room.String()
	b.cfg.Service.Coordinators = []string{coord.UserID().String()}
	b.start()
	// A volunteer on shift on Mondays in German, straight into the roster.
	db := b.db()
	var vid int64
	if err := db.QueryRowContext(ctx, `INSERT INTO volunteers (user_id, wiki_username, status, languages, created_at, updated_at)
		VALUES ('@v:localhost', 'V', 'active', '{de}', 0, 0) RETURNING id`).Scan(&vid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO shifts (volunteer_id, weekday, start_min, end_min, tz)
		VALUES ($1, 1, 1080, 1320, 'Europe/Berlin')`, vid); err != nil {
		t.Fatal(err)
	}
	if err := coord.WaitMembership(ctx, room, b.ID, event.MembershipJoin); err != nil {
		t.Fatal(err)
	}
	if _, err := coord.Send(ctx, room, "!coverage"); err != nil {
		t.Fatal(err)
	}
	coord.Expect(t, room, "Volunteers on shift per language")
	msg := coord.Expect(t, room, "heat map")
	if msg.Type != event.MsgImage || !msg.Encrypted || msg.Event == nil {
		t.Fatalf("the heat map must be an encrypted image event: %+v", msg)
	}
	content := msg.Event.Content.AsMessage()
	if content.File == nil || content.URL != "" || content.Info == nil || content.Info.MimeType != "image/png" {
		t.Fatalf("the image file must be encrypted too: %+v", content)
	}
	uri, err := content.File.URL.Parse()
	if err != nil {
		t.Fatal(err)
	}
	data, err := coord.Mautrix().DownloadBytes(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err == nil {
		t.Fatal("the homeserver holds the picture in the clear")
	}
	if err := content.File.DecryptInPlace(data); err != nil {
		t.Fatalf("decrypting the picture: %v", err)
	}
	pic, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the decrypted file is not a PNG: %v", err)
	}
	if bounds := pic.Bounds(); bounds.Dx() != content.Info.Width || bounds.Dy() != content.Info.Height || len(data) != content.Info.Size {
		t.Errorf("picture %v of %d bytes; the event says %dx%d, %d bytes", bounds, len(data), content.Info.Width, content.Info.Height, content.Info.Size)
	}
}
