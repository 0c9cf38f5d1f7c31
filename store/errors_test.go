package store_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// A turn that fails for a reason of ours logs one line: the event ID and the trail of
// what was being done, down to the store's query, and never what the person wrote.
// The person gets an apology, not silence.
func TestFailedTurnLogsTheTrail(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	ref := d.intake(alice, room, "none", "en")
	logs := &testenv.Logs{}
	d.svc = bot.NewService(d.st, mustCatalogue(t), d.cfg, nil, zerolog.New(logs), func() time.Time { return time.UnixMilli(d.clock.Load()) })
	// A fault no retry mends: the table additions go to is gone.
	if _, err := d.st.DB.Exec(`ALTER TABLE case_additions RENAME TO case_additions_gone`); err != nil {
		t.Fatal(err)
	}
	const secret = "my landlord Zebulon Quux"
	expect(t, d.send(alice, room, "!add "+secret), "something went wrong on my side")
	var errors []map[string]any
	for _, l := range logs.Lines() {
		if strings.Contains(l, secret) {
			t.Errorf("a log line holds what the person wrote: %s", l)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		if e["level"] == "error" {
			errors = append(errors, e)
		}
	}
	if len(errors) != 1 {
		t.Fatalf("%d error lines, want one for the failed turn: %q", len(errors), logs.Lines())
	}
	msg, _ := errors[0]["error"].(string)
	for _, want := range []string{"matrix event $e", "!add: ", "store: add to case", "case_additions"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error %q lacks %q", msg, want)
		}
	}
	if id, _ := errors[0]["event_id"].(string); !strings.HasPrefix(id, "$e") {
		t.Errorf("the error line has no event ID: %v", errors[0])
	}
	if n := d.count(`SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.kind = 'requester_added'`, ref); n != 0 {
		t.Errorf("the failed turn left %d events behind", n)
	}
}
