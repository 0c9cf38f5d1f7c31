package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// needRootDpkg skips (or, in CI, fails) where the package cannot be installed.
func needRootDpkg(t *testing.T) {
	t.Helper()
	_, dpkgErr := exec.LookPath("dpkg")
	_, setprivErr := exec.LookPath("setpriv")
	if os.Geteuid() == 0 && dpkgErr == nil && setprivErr == nil {
		return
	}
	msg := "installing the Debian package needs root, dpkg and setpriv"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("\n\n*** DEBIAN PACKAGE NOT TESTED: " + msg + " ***\n")
}

// pgProxy makes a unix-socket PostgreSQL reachable on 127.0.0.1 for a user who cannot
// enter the test cluster's directory (it belongs to the postgres user). It returns a
// DSN for the same database.
func pgProxy(t *testing.T, dsn string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return dsn // an external server, reached over TCP already
	}
	field := func(k string) string {
		m := regexp.MustCompile(`\b` + k + `='?([^' ]+)'?`).FindStringSubmatch(dsn)
		if m == nil {
			t.Fatalf("no %s in %q", k, dsn)
		}
		return m[1]
	}
	socket := filepath.Join(field("host"), ".s.PGSQL."+field("port"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); u.Close() }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", port, field("user"), field("dbname"))
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// The Debian package, as CI builds it: built with nfpm, installed with dpkg, its unit
// verified by systemd-analyze, and its binary started as its own user (with the
// unit's User=, Group= and NoNewPrivileges) against the test servers, where it
// answers a person.
func TestDebianPackage(t *testing.T) {
	needRootDpkg(t)
	// dpkg has one lock per machine; another test run installing the package at the
	// same time waits here instead of failing on it.
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "switchboard-deb-test.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	version := "0.0.1~test" + strconv.FormatInt(time.Now().Unix(), 10)
	cmd := exec.Command("scripts/package.sh", out)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/package.sh: %v\n%s", err, stderr.String())
	}
	deb := strings.TrimSpace(string(stdout))
	st, err := os.Stat(deb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("package %s: %.1f MiB", filepath.Base(deb), float64(st.Size())/(1<<20))
	contents := sh(t, "dpkg-deb", "--contents", deb)
	for _, want := range []string{"./usr/bin/switchboard", "./lib/systemd/system/switchboard.service",
		"./etc/switchboard/config.yaml", "./usr/share/doc/switchboard/operations.md",
		"./usr/share/doc/switchboard/prometheus/switchboard-rules.yml", "./usr/share/doc/switchboard/grafana/switchboard-dashboard.json"} {
		if !strings.Contains(contents, want+"\n") {
			t.Errorf("the package lacks %s", want)
		}
	}

	sh(t, "dpkg", "-i", deb)
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "switchboard").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, out)
		}
		if _, err := user.Lookup("switchboard"); err == nil {
			t.Errorf("purge left the switchboard user")
		}
	})
	u, err := user.Lookup("switchboard")
	if err != nil {
		t.Fatalf("the package made no switchboard user: %v", err)
	}
	if got := strings.TrimSpace(sh(t, "/usr/bin/switchboard", "--version")); got != "switchboard "+version {
		t.Errorf("--version: %q", got)
	}
	for path, want := range map[string]string{"/etc/switchboard": "drwxr-x--- root switchboard",
		"/etc/switchboard/config.yaml": "-rw-r----- root switchboard", "/usr/bin/switchboard": "-rwxr-xr-x root root"} {
		if got := strings.TrimSpace(sh(t, "stat", "-c", "%A %U %G", path)); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		out, err := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/switchboard.service").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Error("systemd-analyze is not installed (.ci/run installs systemd): the unit was not verified")
	} else {
		t.Log("systemd-analyze is not installed: the unit was not verified")
	}
	// The installed example is refused until it is filled in, with one line.
	check := exec.Command("/usr/bin/switchboard", "check-config", "-c", "/etc/switchboard/config.yaml")
	msg, err := check.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitConfig || strings.Count(string(msg), "\n") != 1 {
		t.Errorf("check-config on the example: %v %q", err, msg)
	}

	// Started as the unit starts it, against the test servers.
	unit, err := os.ReadFile("/lib/systemd/system/switchboard.service")
	if err != nil {
		t.Fatal(err)
	}
	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+) -c (\S+)$`).FindStringSubmatch(string(unit))
	if exec1 == nil || !regexp.MustCompile(`(?m)^User=switchboard$`).Match(unit) || !regexp.MustCompile(`(?m)^NoNewPrivileges=yes$`).Match(unit) {
		t.Fatalf("the unit's ExecStart, User or NoNewPrivileges is not what this test runs")
	}
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	cfgPath := filepath.Join("/etc/switchboard", "ci-"+strconv.Itoa(os.Getpid())+".yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: package-test-pickle-key-0123, data-key: package-test-data-key-0123456789abcdefghijklmn}
database: {url: "%s"}
metrics: {listen: "127.0.0.1:0"}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, pgProxy(t, testenv.NewDB(t)))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(cfgPath) })
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(cfgPath, 0, gid); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: exec.Command("setpriv", "--reuid=switchboard", "--regid=switchboard", "--init-groups",
		"--no-new-privs", "--", exec1[1], "-c", cfgPath), logs: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("bot output:\n%s", p.logs.String())
		}
	})
	addr := opsAddr(t, p, 60*time.Second)
	waitReady(t, addr, "leader", 90*time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)`).FindStringSubmatch(string(status)); m == nil || m[1] != u.Uid {
		t.Errorf("the bot runs as uid %v, want switchboard's %s", m, u.Uid)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	alice := testenv.NewMatrixUser(t, "alice")
	room, err := alice.CreateDM(ctx, id.UserID(botID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, room, "hello"); err != nil {
		t.Fatal(err)
	}
	alice.Expect(t, room, "1 of 4")
	// SIGTERM, as systemctl stop sends: a clean stop, exit code 0.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("exit code %d after SIGTERM", code)
		}
	case <-time.After(30 * time.Second):
		t.Error("the bot did not stop within 30 s of SIGTERM (the unit's TimeoutStopSec)")
	}
}
