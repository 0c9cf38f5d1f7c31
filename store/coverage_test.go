package store_test

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// TestCoverageHeatMap: !coverage in the coordinators' room gives the table and, after
// it, the heat map as an image action for the bridge: a PNG of the size it says,
// captioned, for the same room.
func TestCoverageHeatMap(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) { c.Coordinators = []string{"@coord:localhost"} })
	v := d.volunteer("@a:localhost", "de en")
	expect(t, d.send("@a:localhost", v, "!shift add Mon 18:00-22:00 Europe/Berlin"), "Shift added")
	d.drainAll()
	const coordRoom = "!coord:localhost"
	in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$c%d", d.seq.Add(1)), Sender: "@coord:localhost",
		Conversation: coordRoom, Text: "!coverage", Group: true, Device: bot.DeviceVerified}
	if err := d.svc.Handle(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	rows := d.drainAll()
	if len(rows) != 2 || rows[0].Action != "" || rows[1].Action != bot.ActionImage {
		t.Fatalf("want the table, then the image: %+v", rows)
	}
	if !strings.Contains(rows[0].Plain, "Volunteers on shift per language") || !strings.Contains(rows[0].Plain, "de  Sun 01") {
		t.Errorf("the table: %q", rows[0].Plain)
	}
	img, m := rows[1], rows[1].Payload.Media
	if img.Conversation != coordRoom || img.Platform != bot.Matrix || !strings.Contains(img.Plain, "heat map") ||
		m == nil || m.MsgType != "m.image" || m.MimeType != "image/png" || m.Size != len(m.Data) {
		t.Fatalf("the image action: %+v", img)
	}
	pic, err := png.Decode(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("the image is not a PNG: %v", err)
	}
	if b := pic.Bounds(); b.Dx() != m.Width || b.Dy() != m.Height || m.Height < 200 {
		t.Errorf("picture %v, said %dx%d", b, m.Width, m.Height)
	}
}
