package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNotLeader is a write refused because this process does not hold the lease (any
// more): another replica took over, or the lease ran out while this one could not
// renew it. It is not retried.
var ErrNotLeader = errors.New("not the leader: the lease is held by another replica or ran out")

// leaseLock is the session advisory lock the leader holds on its lease connection:
// PostgreSQL drops it the moment the leader's process dies, so a standby can take
// over without waiting for the lease to run out.
const leaseLock = int64(0x5357424c_65616465) // "SWBleade"

// AppName is the application_name of a replica's sessions: a new leader ends the
// sessions of the one it replaces by it.
func AppName(holder string) string { return "switchboard:" + holder }

// WithAppName sets application_name in a lib/pq connection string (URL or key=value).
func WithAppName(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("application_name", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	// In key=value form the last occurrence of a key wins.
	return dsn + " application_name='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "'"
}

// Lease is this replica's side of the leader lease.
type Lease struct {
	s      *Store
	holder string
	ttl    time.Duration

	mu       sync.Mutex
	conn     *sql.Conn // holds the advisory lock while leading
	epoch    int64
	deadline time.Time // local, monotonic: the lease surely ends by then
	leading  bool
}

// NewLease prepares the lease of holder (unique per process) with the given time to
// live; nothing is taken yet.
func (s *Store) NewLease(holder string, ttl time.Duration) *Lease {
	return &Lease{s: s, holder: holder, ttl: ttl}
}

// Epoch is the epoch this replica holds (or last held).
func (l *Lease) Epoch() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epoch
}

// valid reports whether the lease surely still runs, by this process's own clock.
// It is the guard that needs no database: a process that was paused or cut off past
// its lease stops writing before it could learn that from anyone.
func (l *Lease) valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading && time.Now().Before(l.deadline)
}

// Gate refuses a new database connection to a replica whose lease ran out by its
// own clock (a standby, which never led, may connect). With the new leader ending
// the old one's sessions, this keeps a resumed old leader from writing through any
// code path, the crypto store's included.
func (l *Lease) Gate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch > 0 && !(l.leading && time.Now().Before(l.deadline)) {
		return ErrNotLeader
	}
	return nil
}

// fence is the first statement of every write transaction of the leader: the lease
// row must still carry this replica's epoch and not have run out. The share lock
// holds until commit, so a take-over waits for writes in flight, and every later
// write of the old leader fails here.
func (l *Lease) fence(ctx context.Context, tx *sqlx.Tx) error {
	if !l.valid() {
		return ErrNotLeader
	}
	l.mu.Lock()
	epoch := l.epoch
	l.mu.Unlock()
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM switchboard_lease
		WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > clock_timestamp() FOR SHARE`, l.holder, epoch).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotLeader
	}
	return err
}

// TryAcquire takes the lease if it is free: never held, run out, or its holder's
// session is gone. It returns whether this replica now leads, and the holder it
// took over from ("" if none).
func (l *Lease) TryAcquire(ctx context.Context) (bool, string, error) {
	conn, err := l.s.DB.Conn(ctx)
	if err != nil {
		return false, "", err
	}
	ok, prev, err := l.tryAcquire(ctx, conn)
	if err != nil || !ok {
		conn.Close() // also frees the advisory lock if it was taken
		return false, prev, err
	}
	return true, prev, nil
}

func (l *Lease) tryAcquire(ctx context.Context, conn *sql.Conn) (bool, string, error) {
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, leaseLock).Scan(&locked); err != nil {
		return false, "", err
	}
	var holder string
	var epoch int64
	var live bool
	if err := conn.QueryRowContext(ctx, `SELECT holder, epoch, expires_at > clock_timestamp() FROM switchboard_lease WHERE id = 1`).
		Scan(&holder, &epoch, &live); err != nil {
		return false, "", err
	}
	if live && !locked {
		return false, holder, nil // a leader is alive and renewing
	}
	if !locked {
		// The lease ran out but its holder's session lives on: a paused or cut-off
		// leader. End its sessions first, so none of them is left in a transaction
		// that the epoch change below would wait for, and none can write after it.
		if _, err := conn.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`, AppName(holder)); err != nil {
			return false, holder, err
		}
	}
	start := time.Now()
	var newEpoch int64
	err := conn.QueryRowContext(ctx, `UPDATE switchboard_lease SET holder = $1, epoch = epoch + 1,
		expires_at = clock_timestamp() + $2 * interval '1 millisecond' WHERE id = 1 AND epoch = $3 RETURNING epoch`,
		l.holder, l.ttl.Milliseconds(), epoch).Scan(&newEpoch)
	if errors.Is(err, sql.ErrNoRows) {
		return false, holder, nil // another standby was quicker
	}
	if err != nil {
		return false, holder, err
	}
	if !locked {
		// The old holder's sessions were ended: its lock goes with them. Wait for it
		// (bounded), so that the next standby sees this replica's lock.
		lctx, cancel := context.WithTimeout(ctx, l.ttl/2)
		defer cancel()
		if _, err := conn.ExecContext(lctx, `SELECT pg_advisory_lock($1)`, leaseLock); err != nil {
			return false, holder, fmt.Errorf("lease: the old leader's lock: %w", err)
		}
	}
	if holder != "" && holder != l.holder {
		// Sessions of the old leader that connected after the check above (a pool
		// reconnecting) are ended too; their writes fail the fence anyway.
		if _, err := conn.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1`, AppName(holder)); err != nil {
			return false, holder, err
		}
	}
	l.mu.Lock()
	l.conn, l.epoch, l.deadline, l.leading = conn, newEpoch, start.Add(l.ttl), true
	l.mu.Unlock()
	return true, holder, nil
}

// Renew extends the lease. ErrNotLeader: it was lost (taken over, or ran out first).
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	conn, epoch, leading := l.conn, l.epoch, l.leading
	l.mu.Unlock()
	if !leading {
		return ErrNotLeader
	}
	start := time.Now()
	res, err := conn.ExecContext(ctx, renewSQL, l.holder, epoch, l.ttl.Milliseconds())
	if err != nil {
		// The lease connection broke (a take-over ended it, or the network or the
		// database went away): ask on a fresh one whether the lease is still ours.
		if res, err = l.reconnect(ctx, epoch); err != nil {
			if !l.valid() || errors.Is(err, ErrNotLeader) {
				l.lose()
				return ErrNotLeader
			}
			return err
		}
	}
	if n, _ := res.RowsAffected(); n != 1 {
		l.lose()
		return ErrNotLeader
	}
	l.mu.Lock()
	// A renewal that took longer than the lease cannot have extended it in time.
	if l.leading && time.Since(start) < l.ttl {
		l.deadline = start.Add(l.ttl)
	}
	l.mu.Unlock()
	return nil
}

const renewSQL = `UPDATE switchboard_lease SET expires_at = clock_timestamp() + $3 * interval '1 millisecond'
	WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > clock_timestamp()`

// reconnect renews on a new connection and takes the advisory lock there, which
// went with the old connection. Nobody else can hold it unless they took the lease,
// and then the renewal finds another epoch.
func (l *Lease) reconnect(ctx context.Context, epoch int64) (sql.Result, error) {
	conn, err := l.s.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	res, err := conn.ExecContext(ctx, renewSQL, l.holder, epoch, l.ttl.Milliseconds())
	if err != nil {
		conn.Close()
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		conn.Close()
		return nil, ErrNotLeader
	}
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, leaseLock).Scan(&locked); err != nil || !locked {
		conn.Close()
		if err == nil {
			err = ErrNotLeader
		}
		return nil, err
	}
	l.mu.Lock()
	old := l.conn
	l.conn = conn
	l.mu.Unlock()
	old.Close()
	return res, nil
}

func (l *Lease) lose() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leading = false
}

// Release gives the lease up on a clean stop, so a standby takes over at once.
func (l *Lease) Release(ctx context.Context) {
	l.mu.Lock()
	conn, epoch, leading := l.conn, l.epoch, l.leading
	l.leading = false
	l.mu.Unlock()
	if conn == nil {
		return
	}
	if leading {
		_, _ = conn.ExecContext(ctx, `UPDATE switchboard_lease SET expires_at = clock_timestamp() WHERE id = 1 AND holder = $1 AND epoch = $2`,
			l.holder, epoch)
	}
	conn.Close()
}

// SetFence makes every write of the store check the lease first.
func (s *Store) SetFence(l *Lease) { s.lease.Store(l) }

// gatedConnector refuses new connections when gate says so.
type gatedConnector struct {
	driver.Connector
	gate func() error
}

func (g gatedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if g.gate != nil {
		if err := g.gate(); err != nil {
			return nil, err
		}
	}
	return g.Connector.Connect(ctx)
}

func newConnector(dsn string, gate func() error) (driver.Connector, error) {
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return gatedConnector{Connector: c, gate: gate}, nil
}
