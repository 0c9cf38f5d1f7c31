package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/internal/testenv"
	"switchboard/store"
)

// Fencing, replica by replica: who may write, and that the old leader's writes are
// refused by the database once another replica took over, even while its own clock
// says its lease still runs.
func TestLeaseFencing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := testenv.NewDB(t)
	open := func(holder string) *store.Store {
		t.Helper()
		st, err := store.Open(ctx, store.WithAppName(dsn, store.AppName(holder)), store.Options{DataKey: testenv.DataKey}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b := open("a"), open("b")
	// a's lease is long: its own clock keeps saying it leads, so only the database
	// can refuse its writes after the take-over.
	la, lb := a.NewLease("a", time.Minute), b.NewLease("b", 3*time.Second)
	a.SetFence(la)
	b.SetFence(lb)
	n := 0
	write := func(st *store.Store) error {
		n++
		return st.InTx(ctx, func(tx bot.Tx) error {
			_, err := tx.MarkProcessed(ctx, bot.Matrix, fmt.Sprintf("$ev%d", n), time.Now())
			return err
		})
	}
	if err := write(a); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("a write before anyone leads: %v", err)
	}
	if ok, _, err := la.TryAcquire(ctx); !ok || err != nil {
		t.Fatalf("a could not take a free lease: %v", err)
	}
	if err := write(a); err != nil {
		t.Fatalf("the leader's write: %v", err)
	}
	if ok, holder, err := lb.TryAcquire(ctx); ok || err != nil || holder != "a" {
		t.Fatalf("b took a live lease: %v %q %v", ok, holder, err)
	}
	if err := write(b); !errors.Is(err, store.ErrNotLeader) {
		t.Fatalf("a standby's write: %v", err)
	}
	// a stops renewing (paused, cut off); as far as the database knows its lease
	// has run out.
	if _, err := b.DB.ExecContext(ctx, `UPDATE switchboard_lease SET expires_at = clock_timestamp()`); err != nil {
		t.Fatal(err)
	}
	if ok, holder, err := lb.TryAcquire(ctx); !ok || err != nil || holder != "a" {
		t.Fatalf("b could not take the run-out lease: %v %q %v", ok, holder, err)
	}
	if lb.Epoch() != 2 {
		t.Errorf("epoch %d after one take-over, want 2", lb.Epoch())
	}
	if err := write(b); err != nil {
		t.Fatalf("the new leader's write: %v", err)
	}
	// a comes back: its transactions and single writes are refused by the fence.
	if err := write(a); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("the old leader's transaction: %v", err)
	}
	if err := a.OutboxSent(ctx, 1); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("the old leader's single write: %v", err)
	}
	if err := la.Renew(ctx); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("the old leader renewed: %v", err)
	}
	var processed int
	if err := b.DB.QueryRowContext(ctx, `SELECT count(*) FROM processed_events`).Scan(&processed); err != nil || processed != 2 {
		t.Errorf("%d events written, want the two of the leaders (%v)", processed, err)
	}
	// b dies: its sessions, and with them the advisory lock, go at once (as
	// PostgreSQL sees a killed process), and a takes over without waiting for b's
	// lease to run out. The kill is waited for (the timeout argument): without it the
	// backends were sometimes still exiting, holding the lock, when a asked (once in
	// six full runs under load).
	if _, err := a.DB.ExecContext(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE application_name = $1`,
		store.AppName("b")); err != nil {
		t.Fatal(err)
	}
	if ok, holder, err := la.TryAcquire(ctx); !ok || err != nil || holder != "b" {
		t.Fatalf("a could not take over from a dead leader at once: %v %q %v", ok, holder, err)
	}
	if err := write(a); err != nil {
		t.Errorf("a's write as leader again: %v", err)
	}
}

// The guard that needs no database: a leader whose lease ran out by its own clock
// (paused, cut off) opens no new database connection, which also stops the writes
// that do not pass through the fence (mautrix's crypto store). A standby that never
// led may connect.
func TestLeaseGate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := openStore(t, testenv.NewDB(t))
	// No idle connections: every statement below needs a new one.
	st.DB.SetMaxIdleConns(0)
	const ttl = 2 * time.Second
	l := st.NewLease("a", ttl)
	st.SetFence(l)
	if _, err := st.DB.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatalf("a standby's connection: %v", err)
	}
	took := time.Now() // the lease's local deadline is counted from after this
	if ok, _, err := l.TryAcquire(ctx); !ok || err != nil {
		t.Fatalf("could not take a free lease: %v", err)
	}
	if _, err := st.DB.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatalf("the leader's connection: %v", err)
	}
	// Never renewed: wait for the lease to run out by this process's clock.
	for l.Gate() == nil {
		if time.Since(took) > ttl+10*time.Second {
			t.Fatal("the lease never ran out")
		}
		time.Sleep(50 * time.Millisecond) // polling a deadline
	}
	if since := time.Since(took); since < ttl {
		t.Errorf("the gate closed %s after the lease was taken, before its %s ran out", since, ttl)
	}
	if _, err := st.DB.ExecContext(ctx, `SELECT 1`); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("a new connection after the lease ran out: %v, want %v", err, store.ErrNotLeader)
	}
}
