package main

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"switchboard/internal/testenv"
)

// watchConnections samples how many connections the cluster serves, so a run shows
// how far it stays from max_connections (the limit the memory phase once hit). It
// returns the peak seen so far and the limit.
func watchConnections(ctx context.Context, pg *testenv.Postgres) (func() (peak, limit int), error) {
	db, err := sql.Open("postgres", pg.AdminDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var limit int
	if err := db.QueryRowContext(ctx, `SELECT current_setting('max_connections')::int`).Scan(&limit); err != nil {
		db.Close()
		return nil, err
	}
	var mu sync.Mutex
	peak := 0
	go func() {
		defer db.Close()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'`).Scan(&n); err == nil {
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return peak, limit
	}, nil
}
