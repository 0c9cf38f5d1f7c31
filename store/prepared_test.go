package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
)

// Every connection held by a transaction that meets a query for the first time:
// preparing it needs a second connection, which must not be waited for without end.
func TestPreparingNeverDeadlocksAFullPool(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, testenv.NewDB(t), Options{MaxOpenConns: 2, MaxIdleConns: 2, DataKey: testenv.DataKey}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var holding sync.WaitGroup
	holding.Add(2)
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			errs <- s.InTx(ctx, func(tx bot.Tx) error {
				holding.Done()
				holding.Wait() // both connections are now taken
				var n int
				return tx.(*Tx).tx.GetContext(ctx, &n, `SELECT $1::int + 1`, i)
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a transaction failed (deadlocked until the test's deadline?): %v", err)
		}
	}
	// Once the pool is free the statement is prepared and reused.
	if err := s.InTx(ctx, func(tx bot.Tx) error {
		var n int
		return tx.(*Tx).tx.GetContext(ctx, &n, `SELECT $1::int + 1`, 5)
	}); err != nil {
		t.Fatal(err)
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if s.stmts.stmts[`SELECT $1::int + 1`] == nil {
		t.Error("the statement was not kept")
	}
}
