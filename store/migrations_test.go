package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"testing"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"

	"switchboard/internal/testenv"
)

// The migration files: numbered one after another, each header's versions matching
// its file name (00-latest.sql is the first schema, v0 -> v1). Two branches that took
// the same number show up here, not as a step silently replaced at the next start.
func TestMigrationFiles(t *testing.T) {
	files, err := fs.Glob(upgrades, "upgrades/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^upgrades/(\d\d)-[a-z0-9-]+\.sql$`)
	header := regexp.MustCompile(`^-- v(\d+) -> v(\d+): \S`)
	byVersion := map[int]string{}
	for _, f := range files {
		m := name.FindStringSubmatch(f)
		if m == nil {
			t.Errorf("%s: not NN-name.sql", f)
			continue
		}
		raw, err := fs.ReadFile(upgrades, f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := bytes.Cut(raw, []byte("\n"))
		h := header.FindSubmatch(first)
		if h == nil {
			t.Errorf("%s: first line %q is not `-- vA -> vB: what`", f, first)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		from, _ := strconv.Atoi(string(h[1]))
		to, _ := strconv.Atoi(string(h[2]))
		if want := max(n, 1); to != want || from != to-1 {
			t.Errorf("%s: header v%d -> v%d, want v%d -> v%d", f, from, to, want-1, want)
		}
		if other, dup := byVersion[to]; dup {
			t.Errorf("%s and %s both migrate to v%d", other, f, to)
		}
		byVersion[to] = f
	}
	for v := 1; v <= len(byVersion); v++ {
		if byVersion[v] == "" {
			t.Errorf("no migration to v%d", v)
		}
	}
	if len(upgradeTable) != len(byVersion) || len(byVersion) < 11 {
		t.Errorf("%d files, %d steps in the upgrade table", len(byVersion), len(upgradeTable))
	}
}

// A database as the previous release left it (main's v9) is migrated on start to the
// latest version; a database a newer Switchboard migrated is refused.
func TestMigrationsUpgradeAndRefuseNewer(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.NewDB(t)
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	old, err := dbutil.NewWithDB(raw, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	const previous = 9 // the last version before the phone-ack and lease migrations
	old.VersionTable, old.UpgradeTable = "switchboard_version", upgradeTable[:previous]
	old.Log = dbutil.ZeroLogger(zerolog.Nop())
	if err := old.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	version := func() int {
		t.Helper()
		var v int
		if err := raw.QueryRow(`SELECT version FROM switchboard_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(); v != previous {
		t.Fatalf("set up at v%d, want v%d", v, previous)
	}
	var logs bytes.Buffer
	s, err := Open(ctx, dsn, Options{DataKey: testenv.DataKey}, zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if v := version(); v != len(upgradeTable) {
		t.Errorf("after a start: v%d, want v%d", v, len(upgradeTable))
	}
	var leaseRows, tokenTable int
	if err := raw.QueryRow(`SELECT (SELECT count(*) FROM switchboard_lease WHERE epoch = 0),
		(SELECT count(*) FROM information_schema.tables WHERE table_name = 'pager_ack_tokens')`).Scan(&leaseRows, &tokenTable); err != nil {
		t.Fatal(err)
	}
	if leaseRows != 1 || tokenTable != 1 {
		t.Errorf("lease rows %d, pager_ack_tokens tables %d: v10 and v11 did not run", leaseRows, tokenTable)
	}
	steps := 0
	for sc := bufio.NewScanner(&logs); sc.Scan(); {
		if bytes.Contains(sc.Bytes(), []byte("Upgrading database")) {
			steps++
		}
	}
	if steps != len(upgradeTable)-previous {
		t.Errorf("%d upgrade steps logged, want %d", steps, len(upgradeTable)-previous)
	}

	if _, err := raw.Exec(`UPDATE switchboard_version SET version = version + 1, compat = version + 1`); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, dsn, Options{DataKey: testenv.DataKey}, zerolog.Nop()); !errors.Is(err, dbutil.ErrUnsupportedDatabaseVersion) {
		if err == nil {
			s.Close()
		}
		t.Errorf("a database from a newer version: %v, want %v", err, dbutil.ErrUnsupportedDatabaseVersion)
	}
}
