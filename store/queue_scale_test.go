package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/scaleseed"
	"switchboard/internal/testenv"
)

// !queue lists the 200 requests that have waited longest, and its heading counts them
// all: with 10,000 waiting it once said "200 requests are waiting".
func TestQueueCountsEveryWaitingRequest(t *testing.T) {
	d := newDesk(t, testenv.NewDB(t))
	s, err := scaleseed.New(context.Background(), d.dsn, testenv.DataKey)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	queue := func() string {
		t.Helper()
		out := d.deliver(bot.Inbound{Platform: bot.Matrix, EventID: "$queue" + time.Now().Format("150405.000000000"),
			Sender: "@staff:localhost", Conversation: d.cfg.CoordinatorsConversation, Text: "!queue", Group: true})
		if len(out) != 1 {
			t.Fatalf("!queue answered %d messages, want 1", len(out))
		}
		return out[0]
	}
	// Seeded without volunteers, every case is queued.
	if err := s.OpenCases(context.Background(), 150, time.UnixMilli(d.clock.Load())); err != nil {
		t.Fatal(err)
	}
	got := queue()
	if !strings.HasPrefix(got, "150 requests are waiting:") || strings.Count(got, "\n- ") != 150 {
		t.Errorf("150 waiting: %q…", got[:min(len(got), 80)])
	}
	if err := s.OpenCases(context.Background(), 450, time.UnixMilli(d.clock.Load())); err != nil {
		t.Fatal(err)
	}
	got = queue()
	if !strings.HasPrefix(got, "450 requests are waiting; the 200 that have waited longest:") || strings.Count(got, "\n- ") != 200 {
		t.Errorf("450 waiting: %q…", got[:min(len(got), 80)])
	}
}
