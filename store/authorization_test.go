package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"switchboard/bot"
	"switchboard/commands"
	"switchboard/internal/testenv"
)

// TestAuthorization gives every command and subcommand of the table, as every kind of
// caller, in every place. Whoever the table does not allow gets exactly the answer to a
// command that does not exist (silence, in a room that is not theirs; "not yours" from a
// case's room, where everyone present knows the case) and changes nothing; whoever it
// allows is never told the command does not exist. The rows come from the table, so a
// new command is checked without anyone remembering to add it here.
func TestAuthorization(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	d.reconfigure(func(c *bot.Config) {
		c.Coordinators = []string{"@coord:localhost"}
		c.VolunteersConversation = "!vols:localhost"
	})
	vDM := d.volunteer("@vol:localhost", "en", "!on", "!limit 10")
	d.send("@bob:localhost", "!dm-bob:localhost", "hello")

	type place struct {
		name  string
		who   string
		conv  string
		group bool
		roles commands.Role
		where commands.Place
		// silent: the bot does not take commands from this person here at all.
		silent bool
	}
	places := []place{
		{"requester DM", "@bob:localhost", "!dm-bob:localhost", false, commands.Anyone | commands.Requester, commands.DM, false},
		{"volunteer DM", "@vol:localhost", vDM, false, commands.Anyone | commands.Requester | commands.Volunteer, commands.DM, false},
		{"coordinator DM", "@coord:localhost", "!dm-coord:localhost", false, commands.Anyone | commands.Requester | commands.Coordinator, commands.DM, false},
		{"staff DM", staff, "!dm-staff:localhost", false, commands.Anyone | commands.Requester | commands.Staff, commands.DM, false},
		{"staff room, staff", staff, staffRoom, true, commands.Anyone | commands.Staff, commands.StaffRoom, false},
		{"staff room, volunteer", "@vol:localhost", staffRoom, true, 0, commands.StaffRoom, true},
		{"coordinators' room, coordinator", "@coord:localhost", "!coord:localhost", true, commands.Anyone | commands.Coordinator, commands.CoordinatorsRoom, false},
		{"coordinators' room, volunteer", "@vol:localhost", "!coord:localhost", true, 0, commands.CoordinatorsRoom, true},
		{"volunteers' room, volunteer", "@vol:localhost", "!vols:localhost", true, commands.Anyone | commands.Volunteer, commands.VolunteersRoom, false},
		{"volunteers' room, requester", "@bob:localhost", "!vols:localhost", true, 0, commands.VolunteersRoom, true},
	}
	// The case rooms: one whose case the volunteer works, one for each command the worker
	// may run there (they change the case), and a visitor: the requester in their own room.
	caseRoom := func(n int) string {
		who, dm := fmt.Sprintf("@req%d:localhost", n), fmt.Sprintf("!dm-req%d:localhost", n)
		ref := d.intake(who, dm, "none", "en")
		roomID := fmt.Sprintf("!case%d:localhost", n)
		expect(t, d.send("@vol:localhost", vDM, "!accept "+ref), "is yours")
		acts := d.actions()
		if len(acts) != 1 {
			t.Fatalf("actions after accept: %+v", acts)
		}
		ctx := context.Background()
		if err := d.svc.RoomCreated(ctx, acts[0].Payload.CaseID, roomID); err != nil {
			t.Fatal(err)
		}
		if err := d.svc.Joined(ctx, bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$join%d", n), Sender: "@vol:localhost", Conversation: roomID}); err != nil {
			t.Fatal(err)
		}
		d.drain(roomID)
		return roomID
	}
	visited := caseRoom(0)
	places = append(places, place{"case room, requester", "@req0:localhost", visited, true, commands.Anyone, commands.CaseRoom, false})

	say := func(p place, text string) []string {
		return d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$a%d", d.seq.Add(1)), Sender: p.who,
			Conversation: p.conv, Text: text, Group: p.group})
	}
	changes := func() int {
		return d.count(`SELECT count(*) FROM case_events`) + d.count(`SELECT count(*) FROM outbox WHERE action <> 'message'`)
	}
	// Every line any entry answers to: its name, aliases and subcommands. A name may
	// mean different commands in different places (!text: the staff's library in the
	// staff room, a worker's sending in a case room), so each line is judged by the entry
	// that the place gives it.
	type line struct{ name, text string }
	var lines []line
	seen := map[string]bool{}
	addLine := func(name, text string) {
		if !seen[text] {
			seen[text] = true
			lines = append(lines, line{name, text})
		}
	}
	for _, c := range bot.Commands() {
		addLine(c.Name, "!"+c.Name)
		for _, a := range c.Aliases {
			addLine(a, "!"+a)
		}
		for _, s := range c.Sub {
			addLine(c.Name, "!"+c.Name+" "+s.Name)
		}
	}
	// entryAt finds the roles of the entry a name reaches in a place.
	entryAt := func(name string, where commands.Place) (commands.Role, bool) {
		for _, c := range bot.Commands() {
			if c.Places&where != 0 && (c.Name == name || contains(c.Aliases, name)) {
				return c.Roles, true
			}
		}
		return 0, false
	}
	checked := 0
	for _, p := range places {
		unknown := strings.Join(say(p, "!nosuchcommand"), "\n")
		if p.silent != (unknown == "") {
			t.Fatalf("%s: an unknown command got %q", p.name, unknown)
		}
		for _, l := range lines {
			roles, found := entryAt(l.name, p.where)
			allowed := found && roles&p.roles != 0
			before := changes()
			got := strings.Join(say(p, l.text), "\n")
			checked++
			if allowed {
				if strings.Contains(got, "do not know the command") || strings.Contains(got, "not something you can do") {
					t.Errorf("%s: %q is allowed by the table but was refused: %q", p.name, l.text, got)
				}
				continue
			}
			want := strings.ReplaceAll(unknown, "nosuchcommand", l.name)
			if p.where == commands.CaseRoom && found {
				want = "That is not something you can do here: only the volunteer working this case can."
			}
			if got != want {
				t.Errorf("%s: %q should be refused like an unknown command:\n got  %q\n want %q", p.name, l.text, got, want)
			}
			if after := changes(); after != before {
				t.Errorf("%s: the refused %q changed something (%d -> %d)", p.name, l.text, before, after)
			}
		}
	}
	// The worker, in the room of a case of their own: each case-room command once (the
	// volunteer's own rows above switched them off duty).
	expect(t, d.send("@vol:localhost", vDM, "!on"), "on duty")
	n := 1
	for _, c := range bot.Commands() {
		if c.Places&commands.CaseRoom == 0 || c.Roles&commands.Worker == 0 {
			continue
		}
		p := place{"case room, worker", "@vol:localhost", caseRoom(n), true, commands.Anyone | commands.Worker, commands.CaseRoom, false}
		n++
		got := strings.Join(say(p, "!"+c.Name), "\n")
		d.actions() // a transfer or escalation takes the volunteer out of the room
		checked++
		if got == "" || strings.Contains(got, "do not know the command") || strings.Contains(got, "not something you can do") {
			t.Errorf("the worker's !%s in their case room: %q", c.Name, got)
		}
	}
	if checked < 200 {
		t.Fatalf("only %d command lines checked", checked)
	}
	t.Logf("%d command lines checked", checked)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
