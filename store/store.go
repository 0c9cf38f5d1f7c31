// Package store keeps Switchboard's state in PostgreSQL through sqlx and lib/pq. The
// schema is embedded SQL run by go.mau.fi/util/dbutil upgrade tables (the mechanism
// mautrix's crypto store already uses on the same database). One file per aggregate;
// Store implements bot.Store.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"switchboard/bot"
)

//go:embed upgrades/*.sql
var upgrades embed.FS

var upgradeTable = dbutil.BuildUpgradeTable().WithFSPath(upgrades, "upgrades").Finish()

// Store is the PostgreSQL store. DB is the shared pool; Dbutil wraps the same pool
// for migrations and for mautrix's crypto store.
type Store struct {
	DB     *sqlx.DB
	Dbutil *dbutil.Database
	log    zerolog.Logger
	stmts  *stmtCache
	keys   *Keys
	opts   Options
	// lease, once set (SetFence), is checked by every write: see lease.go.
	lease atomic.Pointer[Lease]
	// events counts the audit log between metrics scrapes: see metrics.go.
	events eventCounts
	// onShift is who is on shift this minute, for routing: see routing.go.
	onShift onShiftCache
}

var _ bot.Store = (*Store)(nil)

// Options size the connection pool and give the secret that seals stored content.
type Options struct {
	MaxOpenConns int
	MaxIdleConns int
	// DataKey is the secret the keys that seal case content and hash names are
	// derived from (encryption.data-key); required. RetiredDataKeys are earlier ones,
	// kept to open what they sealed until it is sealed again under DataKey at start.
	DataKey         string
	RetiredDataKeys []string
	// OnRetry, when set, is called for every retried operation (for metrics).
	OnRetry func()
}

// Open connects to PostgreSQL, waiting with backoff while it is unreachable (a bot
// started before its database must not crash-loop), then brings the schema up to date.
func Open(ctx context.Context, dsn string, opts Options, log zerolog.Logger) (*Store, error) {
	if opts.DataKey == "" {
		return nil, errNoKeys
	}
	keys, err := NewKeys(opts.DataKey, opts.RetiredDataKeys...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{log: log, opts: opts, keys: keys}
	connector, err := newConnector(dsn, s.gate)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	raw := sql.OpenDB(connector)
	if opts.MaxOpenConns > 0 {
		raw.SetMaxOpenConns(opts.MaxOpenConns)
	}
	if opts.MaxIdleConns > 0 {
		raw.SetMaxIdleConns(opts.MaxIdleConns)
	}
	raw.SetConnMaxIdleTime(5 * time.Minute)
	s.DB = sqlx.NewDb(raw, "postgres")
	s.stmts = newStmtCache(s.DB)
	if err := s.retry(ctx, "connect", func() error { return raw.PingContext(ctx) }); err != nil {
		raw.Close()
		return nil, err
	}
	s.Dbutil, err = dbutil.NewWithDB(raw, "postgres")
	if err != nil {
		raw.Close()
		return nil, err
	}
	s.Dbutil.VersionTable = "switchboard_version"
	s.Dbutil.UpgradeTable = upgradeTable
	s.Dbutil.Log = dbutil.ZeroLogger(log.With().Str("db_section", "switchboard").Logger())
	if err := s.Dbutil.Upgrade(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("upgrading the database schema: %w", err)
	}
	if err := s.retry(ctx, "seal stored content", func() error { return s.sealAtRest(ctx) }); err != nil {
		raw.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.stmts.close()
	return s.DB.Close()
}

// InTx runs fn in one transaction. When the database is unreachable, or PostgreSQL
// asks for a retry (deadlock, serialization failure), the whole transaction is run
// again after a backoff; fn must therefore do nothing outside the transaction.
func (s *Store) InTx(ctx context.Context, fn func(bot.Tx) error) error {
	return s.retry(ctx, "transaction", func() error {
		tx, err := s.begin(ctx)
		if err != nil {
			return err
		}
		if err := fn(&Tx{tx: &preparedTx{tx: tx, cache: s.stmts}, k: s.keys, shifts: &s.onShift}); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// begin starts a write transaction; with a lease set, its first statement is the
// fence, so a replica that is not the leader writes nothing.
func (s *Store) begin(ctx context.Context) (*sqlx.Tx, error) {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if l := s.lease.Load(); l != nil {
		if err := l.fence(ctx, tx); err != nil {
			_ = tx.Rollback()
			return nil, err
		}
	}
	return tx, nil
}

// exec runs one write statement, behind the fence when a lease is set.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.lease.Load() == nil {
		return s.DB.ExecContext(ctx, query, args...)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return res, tx.Commit()
}

// gate is asked before every new connection (see Lease.Gate).
func (s *Store) gate() error {
	if l := s.lease.Load(); l != nil {
		return l.Gate()
	}
	return nil
}

// retry runs op until it succeeds, fails for a reason other than availability, or ctx
// ends. It says once, clearly, that the database is away, and once that it is back.
func (s *Store) retry(ctx context.Context, what string, op func() error) error {
	backoff := 100 * time.Millisecond
	failing := false
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !Retryable(err) || ctx.Err() != nil {
			if failing && err == nil {
				s.log.Info().Str("op", what).Int("attempts", attempt).Msg("Database is reachable again")
			}
			return err
		}
		if s.opts.OnRetry != nil {
			s.opts.OnRetry()
		}
		if transient(err) && attempt < 5 {
			// A deadlock or serialization failure: retry at once, quietly.
			backoff = 10 * time.Millisecond
		} else if !failing || attempt%10 == 0 {
			failing = true
			s.log.Warn().Err(err).Str("op", what).Dur("retry_in", backoff).Msg("Database unavailable; retrying, nothing is lost meanwhile")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(max(backoff*2, 100*time.Millisecond), 10*time.Second)
	}
}

func transient(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "40001" || pqErr.Code == "40P01")
}

// Retryable reports whether err means "try again later" rather than "this is wrong".
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code.Class() == "08", // connection exception
			pqErr.Code == "57P01", pqErr.Code == "57P02", pqErr.Code == "57P03", // shutdown, starting up
			pqErr.Code == "53300", // too many connections
			transient(err):
			return true
		}
		return false
	}
	var netErr *net.OpError
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ENOENT) ||
		errors.As(err, &netErr) {
		return true
	}
	// lib/pq reports some connection failures only as text.
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "bad connection") ||
		strings.Contains(msg, "the database system is")
}

// Tx implements bot.Tx on one sqlx transaction.
type Tx struct {
	tx     *preparedTx
	k      *Keys
	shifts *onShiftCache
}

var _ bot.Tx = (*Tx)(nil)

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// wrap says what the store was doing when an error happened, keeping the cause for
// errors.Is and errors.As (retries look for the driver's error through it).
func wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("store: "+format+": %w", append(args, *errp)...)
	}
}
