package testenv

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Dump takes a real pg_dump (plain SQL, data included) of the database dsn names, as
// an attacker with a backup or a copy of the disk would read it.
func Dump(tb testing.TB, dsn string) string {
	tb.Helper()
	bin, err := pgDumpTool()
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--no-owner", "--no-privileges", "--dbname", dsn)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("pg_dump: %v: %s", err, stderr.String())
	}
	if !bytes.Contains(out.Bytes(), []byte("COPY public.")) {
		tb.Fatalf("pg_dump wrote no data:\n%s", out.String()[:min(out.Len(), 2000)])
	}
	return out.String()
}

// pgDumpTool prefers the pg_dump of the server's own version (next to postgres), which
// can always read it.
func pgDumpTool() (string, error) {
	if _, postgres, err := pgTools(); err == nil {
		if real, rerr := filepath.EvalSymlinks(postgres); rerr == nil {
			p := filepath.Join(filepath.Dir(real), "pg_dump")
			if _, serr := os.Stat(p); serr == nil {
				return p, nil
			}
		}
	}
	return exec.LookPath("pg_dump")
}
