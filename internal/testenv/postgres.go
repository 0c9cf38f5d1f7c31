package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// ErrExternal is returned by operations that need to own the server process
// (Down, Up, Restart) when the server is an external one from DATABASE_URL.
var ErrExternal = errors.New("testenv: the server is external (DATABASE_URL) and cannot be stopped or restarted")

// Postgres is a PostgreSQL server for tests: a throwaway cluster owned by the
// harness, or the server named by DATABASE_URL. Tests get isolation from
// NewDatabase, not from separate servers.
type Postgres struct {
	external string // DATABASE_URL, or empty for an owned cluster
	admin    *sql.DB

	dir      string // owned cluster: socket dir, log and data/
	port     int
	postgres string
	cred     *syscall.Credential // non-nil when running as root

	mu   sync.Mutex
	proc *child
}

var dbCounter atomic.Int64

// errNoPGTools: initdb and postgres are not installed.
var errNoPGTools = errors.New("testenv: initdb/postgres not found")

// pgSettings make the cluster fast and disposable: surviving an OS crash is
// worthless for a database deleted after the run. synchronous_commit stays on:
// with fsync off it costs only a write(), and turning it off would make Down
// (a server crash) lose the last committed transactions, which a real server
// never does and restart tests would then report as bot bugs.
const pgSettings = `
listen_addresses = ''
fsync = off
full_page_writes = off
max_connections = 300
log_min_messages = warning
`

// StartPostgres uses the server in DATABASE_URL when set, and otherwise starts
// a throwaway cluster in a temp dir that listens on a unix socket only.
func StartPostgres() (*Postgres, error) {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		p := &Postgres{external: u}
		return p, p.openAdmin()
	}
	return startOwnedPostgres()
}

// startOwnedPostgres starts a throwaway cluster, whatever DATABASE_URL says.
func startOwnedPostgres() (*Postgres, error) {
	initdb, postgres, err := pgTools()
	if err != nil {
		return nil, err
	}
	cred, err := pgCredential()
	if err != nil {
		return nil, err
	}
	dir, err := makeTempDir(pgTempBase(cred != nil), "switchboard-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{dir: dir, port: 5432, postgres: postgres, cred: cred}
	if err := p.initCluster(initdb); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := p.Up(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := p.openAdmin(); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// pgTools finds initdb and postgres on PATH, else in Debian's versioned
// directories, where a plain `apt-get install postgresql` puts them.
func pgTools() (initdb, postgres string, err error) {
	if initdb, err = exec.LookPath("initdb"); err == nil {
		if postgres, err = exec.LookPath("postgres"); err == nil {
			return initdb, postgres, nil
		}
		// Keep both from the same version when only initdb is linked onto PATH.
		if real, rerr := filepath.EvalSymlinks(initdb); rerr == nil {
			postgres = filepath.Join(filepath.Dir(real), "postgres")
			if _, serr := os.Stat(postgres); serr == nil {
				return initdb, postgres, nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		initdb, postgres = filepath.Join(d, "initdb"), filepath.Join(d, "postgres")
		if _, err1 := os.Stat(initdb); err1 == nil {
			if _, err2 := os.Stat(postgres); err2 == nil {
				return initdb, postgres, nil
			}
		}
	}
	return "", "", fmt.Errorf("%w on PATH or in /usr/lib/postgresql/*/bin (apt-get install postgresql), or set DATABASE_URL", errNoPGTools)
}

func pgVersion(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// pgCredential returns the identity to run the server as: initdb and postgres
// refuse to run as root.
func pgCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testenv: running as root needs the postgres OS user for initdb: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// pgTempBase picks where the cluster lives. Unix socket paths are limited to
// about 100 bytes, and when we drop root the postgres user must be able to
// reach the directory, so odd TMPDIRs fall back to /tmp.
func pgTempBase(dropsRoot bool) string {
	base := os.TempDir()
	if len(base) > 60 {
		return "/tmp"
	}
	if dropsRoot {
		for d := base; ; d = filepath.Dir(d) {
			st, err := os.Stat(d)
			if err != nil || st.Mode().Perm()&0o001 == 0 {
				return "/tmp"
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return base
}

func (p *Postgres) dataDir() string { return filepath.Join(p.dir, "data") }
func (p *Postgres) logPath() string { return filepath.Join(p.dir, "postgres.log") }

func (p *Postgres) initCluster(initdb string) error {
	if p.cred != nil {
		if err := os.Chown(p.dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return err
		}
	}
	cmd := exec.Command(initdb, "-D", p.dataDir(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testenv: initdb: %w\n%s", err, out)
	}
	// Settings go into the config file rather than onto the command line so
	// that Up after Down starts an identical server.
	conf := pgSettings + fmt.Sprintf("unix_socket_directories = '%s'\nport = %d\n", p.dir, p.port)
	f, err := os.OpenFile(filepath.Join(p.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Up starts the owned cluster's server and waits until it accepts
// connections. The postmaster is our child rather than pg_ctl's daemon so we
// can watch it with Wait and have it die with the test binary.
func (p *Postgres) Up() error {
	if p.external != "" {
		return ErrExternal
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		select {
		case <-p.proc.exited:
		default:
			return nil
		}
	}
	logf, err := os.OpenFile(p.logPath(), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(p.postgres, "-D", p.dataDir())
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	// SIGQUIT is PostgreSQL's immediate shutdown, like pg_ctl stop -m immediate.
	proc, err := startWatched(cmd, syscall.SIGQUIT)
	if err != nil {
		return fmt.Errorf("testenv: start postgres: %w", err)
	}
	p.proc = proc
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := pingDSN(p.DSN("postgres")); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			proc.stop(syscall.SIGQUIT, 5*time.Second)
			return fmt.Errorf("testenv: postgres not ready after 30s: %v\n%s", err, tailFile(p.logPath(), 30))
		}
		select {
		case <-proc.exited:
			return fmt.Errorf("testenv: postgres exited during startup (%v)\n%s", proc.err, tailFile(p.logPath(), 30))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func pingDSN(dsn string) error {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// Down stops the server at once, as a crash would (immediate shutdown, crash
// recovery on the next start), and keeps its data for Up.
func (p *Postgres) Down() error {
	if p.external != "" {
		return ErrExternal
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		p.proc.stop(syscall.SIGQUIT, 10*time.Second)
	}
	return nil
}

// Restart simulates "the database restarts": same data, socket and port, so
// DSNs handed out before stay valid and open pools must reconnect.
func (p *Postgres) Restart() error {
	if err := p.Down(); err != nil {
		return err
	}
	return p.Up()
}

// Stop shuts the server down and deletes the cluster; an external server is
// only disconnected from. Safe to call more than once.
func (p *Postgres) Stop() {
	if p.admin != nil {
		_ = p.admin.Close()
	}
	if p.external != "" {
		return
	}
	_ = p.Down()
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
	}
}

func (p *Postgres) openAdmin() error {
	db, err := sql.Open("postgres", p.AdminDSN())
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("testenv: connect to postgres: %w", err)
	}
	p.admin = db
	return nil
}

// AdminDSN connects to the maintenance database; tests should use NewDatabase.
func (p *Postgres) AdminDSN() string {
	if p.external != "" {
		return p.external
	}
	return p.DSN("postgres")
}

// DSN returns a lib/pq connection string for database db on this server.
func (p *Postgres) DSN(db string) string {
	if p.external == "" {
		return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable",
			dsnQuote(p.dir), p.port, dsnQuote(db))
	}
	if u, err := url.Parse(p.external); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		u.RawPath = ""
		return u.String()
	}
	// In key=value form the last occurrence of a key wins.
	return p.external + " dbname=" + dsnQuote(db)
}

func dsnQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, ` '\`) {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// NewDatabase creates an empty database with a unique name and returns its
// DSN; it is dropped when the test ends. Names are unique across processes
// too, since packages may share one server through DATABASE_URL.
func (p *Postgres) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("sb_%s_%d_%s", slug(tb.Name(), 36), dbCounter.Add(1), randomHex(3))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, err := p.CreateDatabase(ctx, name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.dropDatabase(name) })
	return dsn
}

// CreateDatabase creates a database with the given name, kept until the
// server is stopped, and returns its DSN; for use outside tests.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	if _, err := p.admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return "", fmt.Errorf("testenv: create database %s: %w", name, err)
	}
	return p.DSN(name), nil
}

// dropDatabase ignores errors: the test may have left the server down, and a
// leftover database in a throwaway cluster harms nobody.
func (p *Postgres) dropDatabase(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = p.admin.ExecContext(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	_, _ = p.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
}
