package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// BenchmarkHandle is the core's share of a reply's latency: one inbound message, one
// transaction on a real PostgreSQL (unix socket), replies written to the outbox.
func BenchmarkHandle(b *testing.B) {
	d := newDeskB(b)
	script := []string{"hello", "no", "no", "no", "no", "A story long enough.", "none", "en.wikipedia.org", "en", "yes", "!cancel"}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		in := bot.Inbound{Platform: bot.Matrix, EventID: fmt.Sprintf("$b%d", i), Sender: alice, Conversation: room, Text: script[i%len(script)]}
		if err := d.svc.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if _, err := d.st.DB.Exec(`DELETE FROM outbox`); err != nil {
		b.Fatal(err)
	}
}

func newDeskB(b *testing.B) *desk {
	dsn := testenv.NewDB(b)
	d := &desk{t: b, dsn: dsn, cfg: testConfig()}
	d.clock.Store(time.Now().UnixMilli())
	d.open()
	return d
}
