package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// TestAccessBoundary runs every command of every role, in every place it can be given,
// with the reference of a staff-route case and with a reference that does not exist.
// For everyone but staff the two answers must be the same, and the case unchanged: a
// volunteer, trainee, coordinator or other requester cannot learn that it exists.
func TestAccessBoundary(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.cfg.Coordinators = []string{"@coord:localhost"}
	d.reconfigure(func(*bot.Config) {})
	vDM := d.volunteer("@vol:localhost", "en", "!on")
	d.volunteer("@mentor:localhost", "en")
	trDM := "!dm-trainee:localhost"
	d.send(staff, staffRoom, "!volunteer add @trainee:localhost Trainee_W")
	d.send(staff, staffRoom, "!volunteer confirm @trainee:localhost")
	d.send(staff, staffRoom, "!volunteer mentor @trainee:localhost @mentor:localhost")
	d.send("@trainee:localhost", trDM, "!languages en")
	d.send("@trainee:localhost", trDM, "!on")
	// Bob is another requester, with an intake of his own under way.
	d.send("@bob:localhost", "!dm-bob:localhost", "hello")
	staffRef := d.staffCase(alice, room)
	d.drain(staffRoom)
	const bogus = "SB-ZZZZZ"
	state := func() string {
		var s string
		if err := d.st.DB.Get(&s, `SELECT state || route || version || staff_id || coalesce(volunteer_id::text, '') FROM cases WHERE ref = $1`, staffRef); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state()

	// Every command and subcommand of the table, with a reference where one may go.
	var templates []string
	for _, c := range bot.Commands() {
		templates = append(templates, "!"+c.Name+" {REF}", "!"+c.Name+" show {REF}", "!"+c.Name)
		for _, sub := range c.Sub {
			templates = append(templates, "!"+c.Name+" "+sub.Name+" {REF}", "!"+c.Name+" "+sub.Name)
		}
	}
	places := []struct{ who, conv string }{
		{"@bob:localhost", "!dm-bob:localhost"},
		{"@vol:localhost", vDM},
		{"@trainee:localhost", trDM},
		{"@coord:localhost", "!dm-coord:localhost"},
		{"@coord:localhost", "!coord:localhost"},
		{"@vol:localhost", "!coord:localhost"},
		{"@vol:localhost", staffRoom},
	}
	normal := func(rs []string, ref string) string {
		return strings.ReplaceAll(strings.Join(rs, "\n"), ref, "REF")
	}
	// Everything the commands make the bot send, wherever it goes, that is not an
	// answer naming the reference the command itself named: none of it may show the
	// staff-route reference (a queue listing, an offer, a notice to another room).
	var unprompted []string
	for _, p := range places {
		for _, tpl := range templates {
			if strings.HasPrefix(tpl, "!cancel") || strings.HasPrefix(tpl, "!accept") && p.who == "@vol:localhost" && !strings.Contains(tpl, "{REF}") {
				continue // would act on their own offer or request, which differs by design
			}
			send := func(ref string) []string {
				text := strings.ReplaceAll(tpl, "{REF}", ref)
				in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$b%d", d.seq.Add(1)), Sender: p.who,
					Conversation: p.conv, Text: text, Group: strings.HasPrefix(p.conv, "!coord") || p.conv == staffRoom}
				if err := d.svc.Handle(context.Background(), in); err != nil {
					t.Fatalf("Handle(%q): %v", text, err)
				}
				var answers []string
				for _, m := range d.drainAll() {
					if m.Conversation == p.conv && m.Action == "" {
						answers = append(answers, m.Plain)
						if strings.Contains(text, ref) {
							continue // compared with the bogus reference's answer below
						}
					}
					if m.Conversation != staffRoom {
						unprompted = append(unprompted, m.Conversation+": "+shown(m))
					}
				}
				return answers
			}
			withStaff, withBogus := normal(send(staffRef), staffRef), normal(send(bogus), bogus)
			if withStaff != withBogus {
				t.Errorf("%s in %s, %q: the answer differs for a staff-route case:\n staff: %q\n bogus: %q", p.who, p.conv, tpl, withStaff, withBogus)
			}
			if strings.Contains(withStaff, "staff-route") {
				t.Errorf("%s in %s, %q: an answer mentions a staff-route case: %q", p.who, p.conv, tpl, withStaff)
			}
		}
	}
	if after := state(); after != before {
		t.Errorf("the staff-route case changed: %s -> %s", before, after)
	}
	// Nor does it show in their views of the queue, in offers or anywhere else.
	if len(unprompted) < len(places) {
		t.Fatalf("only %d messages to look at", len(unprompted))
	}
	for _, m := range unprompted {
		if strings.Contains(m, staffRef) {
			t.Errorf("the staff-route reference was shown: %q", m)
		}
	}
	// Staff see it.
	expect(t, d.send(staff, staffRoom, "!audit "+staffRef), "staff route")
}
