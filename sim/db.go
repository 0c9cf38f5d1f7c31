package sim

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lib/pq"

	"switchboard/internal/testenv"
)

// Server is the PostgreSQL the simulator works on: a throwaway cluster it started
// (initdb and postgres from the PostgreSQL packages), or a server given by URL. Every
// run gets a database of its own, created and dropped by the simulator; nothing else on
// the server is touched.
type Server struct {
	pg    *testenv.Postgres // the throwaway cluster; nil for a given server
	url   string
	admin *sql.DB
}

// StartServer connects to the server at url, or starts a throwaway cluster when url is
// empty (DATABASE_URL, when set, names the server instead, as in the tests).
func StartServer(url string) (*Server, error) {
	s := &Server{url: url}
	if url == "" {
		pg, err := testenv.StartPostgres()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDatabase, err)
		}
		s.pg, s.url = pg, pg.AdminDSN()
	}
	db, err := sql.Open("postgres", s.url)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: %w", ErrDatabase, err)
	}
	s.admin = db
	return s, nil
}

// Close disconnects, and stops and deletes a throwaway cluster.
func (s *Server) Close() {
	if s.admin != nil {
		_ = s.admin.Close()
	}
	if s.pg != nil {
		s.pg.Stop()
	}
}

// newDatabase creates an empty database for one run and returns its DSN and how to drop it.
func (s *Server) newDatabase(ctx context.Context) (string, func(), error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "switchboard_sim_" + hex.EncodeToString(b[:])
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return "", nil, fmt.Errorf("%w: create %s: %w", ErrDatabase, name, err)
	}
	drop := func() {
		_, _ = s.admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
	}
	if s.pg != nil {
		return s.pg.DSN(name), drop, nil
	}
	dsn, err := withDatabase(s.url, name)
	if err != nil {
		drop()
		return "", nil, err
	}
	return dsn, drop, nil
}

// withDatabase points a DSN (URL or key=value) at another database.
func withDatabase(dsn, name string) (string, error) {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	if strings.Contains(dsn, "=") {
		return dsn + " dbname=" + quoteValue(name), nil // in key=value form the last wins
	}
	return "", fmt.Errorf("database: %q is neither a postgres:// URL nor key=value settings", dsn)
}

func quoteValue(s string) string {
	if s != "" && !strings.ContainsAny(s, ` '\`) {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// parseKV reads lib/pq's key=value settings.
func parseKV(s string) (map[string]string, error) {
	out := map[string]string{}
	r := []rune(s)
	i := 0
	for {
		for i < len(r) && (r[i] == ' ' || r[i] == '\t' || r[i] == '\n') {
			i++
		}
		if i >= len(r) {
			return out, nil
		}
		k := i
		for i < len(r) && r[i] != '=' && r[i] != ' ' {
			i++
		}
		key := string(r[k:i])
		for i < len(r) && r[i] == ' ' {
			i++
		}
		if i >= len(r) || r[i] != '=' {
			return nil, fmt.Errorf("database: %q has no value", key)
		}
		i++
		for i < len(r) && r[i] == ' ' {
			i++
		}
		var v strings.Builder
		if i < len(r) && r[i] == '\'' {
			i++
			for ; i < len(r) && r[i] != '\''; i++ {
				if r[i] == '\\' && i+1 < len(r) {
					i++
				}
				v.WriteRune(r[i])
			}
			if i >= len(r) {
				return nil, fmt.Errorf("database: unterminated quote in the value of %q", key)
			}
			i++
		} else {
			for ; i < len(r) && r[i] != ' '; i++ {
				if r[i] == '\\' && i+1 < len(r) {
					i++
				}
				v.WriteRune(r[i])
			}
		}
		out[key] = v.String()
	}
}

// faultProxy stands between the bot's store and PostgreSQL so that the database can be
// taken away and given back: while down, new connections are refused and open ones are
// cut, as when the server stops. The simulator's own reads bypass it.
type faultProxy struct {
	network, addr string // where it listens
	target        string // where it forwards
	targetNet     string
	dir           string // for a unix socket

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newFaultProxy starts a proxy for dsn and returns the DSN that goes through it.
func newFaultProxy(dsn string) (*faultProxy, string, error) {
	kv := dsn
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if kv, err = pq.ParseURL(dsn); err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrDatabase, err)
		}
	}
	settings, err := parseKV(kv)
	if err != nil {
		return nil, "", err
	}
	host, port := settings["host"], settings["port"]
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "5432"
	}
	p := &faultProxy{conns: map[net.Conn]struct{}{}}
	if strings.HasPrefix(host, "/") {
		p.targetNet, p.target = "unix", filepath.Join(host, ".s.PGSQL."+port)
		if p.dir, err = os.MkdirTemp("", "sbsim-"); err != nil {
			return nil, "", err
		}
		p.network, p.addr = "unix", filepath.Join(p.dir, ".s.PGSQL."+port)
		if err := p.up(); err != nil {
			return nil, "", err
		}
		return p, kv + " host=" + quoteValue(p.dir) + " port=" + port, nil
	}
	p.targetNet, p.target = "tcp", net.JoinHostPort(host, port)
	p.network, p.addr = "tcp", "127.0.0.1:0"
	if err := p.up(); err != nil {
		return nil, "", err
	}
	p.addr = p.ln.Addr().String() // the same port when it comes back
	_, lport, _ := net.SplitHostPort(p.addr)
	return p, kv + " host=127.0.0.1 port=" + lport, nil
}

// up listens (again).
func (p *faultProxy) up() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen(p.network, p.addr)
	if err != nil {
		return fmt.Errorf("%w: the fault proxy cannot listen on %s: %w", ErrDatabase, p.addr, err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.accept(ln)
	return nil
}

// down refuses new connections and cuts the open ones.
func (p *faultProxy) down() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
}

func (p *faultProxy) isDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ln == nil
}

func (p *faultProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *faultProxy) pipe(c net.Conn) {
	s, err := net.Dial(p.targetNet, p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(s, c)
	go cp(c, s)
	<-done
	_ = c.Close()
	_ = s.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	p.mu.Unlock()
}

// close stops the proxy for good.
func (p *faultProxy) close() {
	p.down()
	p.wg.Wait()
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
	}
}

var errRollback = errors.New("sim: read only")

// ErrDatabase marks a failure to get or reach the run's database.
var ErrDatabase = errors.New("database")

// ErrScenario marks a scenario the bot would not take as meant (a roster it refused).
var ErrScenario = errors.New("scenario")

// IsDatabaseError reports whether err is ErrDatabase.
func IsDatabaseError(err error) bool { return errors.Is(err, ErrDatabase) }
