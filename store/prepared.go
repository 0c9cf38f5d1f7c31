package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// stmtCache holds one server-side prepared statement per query text. lib/pq runs a
// query with arguments as two round trips (parse and describe, then bind and
// execute) and PostgreSQL plans it afresh each time; a prepared statement is one
// round trip and no planning. A turn runs about ten statements, so this is most of
// the core's latency (docs/benchmarks.md). Every query in this package is a constant,
// so the cache is bounded by the number of queries in the source.
type stmtCache struct {
	db    *sqlx.DB
	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt
}

func newStmtCache(db *sqlx.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sqlx.Stmt{}}
}

// prepareWait bounds how long preparing waits for a connection. Preparing takes a
// second connection from the pool while the caller's transaction holds one; without a
// bound, transactions that had taken every connection would wait for each other for
// ever.
const prepareWait = 50 * time.Millisecond

// get returns the statement for query, preparing it once; nil if it cannot be
// prepared now (the database away, or the pool busy), in which case the caller runs
// the query plainly and the transaction's own error handling takes over.
func (c *stmtCache) get(ctx context.Context, query string) *sqlx.Stmt {
	c.mu.Lock()
	st := c.stmts[query]
	c.mu.Unlock()
	if st != nil {
		return st
	}
	pctx, cancel := context.WithTimeout(ctx, prepareWait)
	defer cancel()
	st, err := c.db.PreparexContext(pctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.stmts[query]; prev != nil {
		_ = st.Close()
		return prev
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		_ = st.Close()
		delete(c.stmts, q)
	}
}

// preparedTx is a transaction that runs its queries through the cache. database/sql
// prepares a statement on a connection the first time a transaction on that
// connection uses it, and reuses it after.
type preparedTx struct {
	tx    *sqlx.Tx
	cache *stmtCache
}

func (p *preparedTx) stmt(ctx context.Context, query string) *sqlx.Stmt {
	if p.cache == nil {
		return nil
	}
	st := p.cache.get(ctx, query)
	if st == nil {
		return nil
	}
	return p.tx.StmtxContext(ctx, st)
}

func (p *preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, query, args...)
}

func (p *preparedTx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := p.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return p.tx.GetContext(ctx, dest, query, args...)
}

func (p *preparedTx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := p.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return p.tx.SelectContext(ctx, dest, query, args...)
}

func (p *preparedTx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st := p.stmt(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return p.tx.QueryRowxContext(ctx, query, args...)
}
