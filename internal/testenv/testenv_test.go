package testenv_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"maunium.net/go/mautrix"

	"switchboard/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.NeedPostgres, testenv.NeedDendrite, testenv.NeedIRC)
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := openDB(t, testenv.NewDB(t)), openDB(t, testenv.NewDB(t))
	if _, err := a.Exec(`CREATE TABLE cases (id int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Exec(`INSERT INTO cases VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename = 'cases'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("second database sees the first one's table")
	}
}

func TestManyDatabasesInParallel(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run("db", func(t *testing.T) {
			t.Parallel()
			var got int
			if err := openDB(t, testenv.NewDB(t)).QueryRow(`SELECT $1::int`, i).Scan(&got); err != nil || got != i {
				t.Fatalf("got %d, %v", got, err)
			}
		})
	}
}

func TestPostgresRestart(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPostgres(t)
	db := openDB(t, pg.NewDatabase(t))
	if _, err := db.Exec(`CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')`); err != nil {
		t.Fatal(err)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	// The pool's old connections are dead; database/sql must replace them.
	var v string
	var err error
	for range 3 {
		if err = db.QueryRow(`SELECT v FROM t`).Scan(&v); err == nil {
			break
		}
	}
	if err != nil || v != "kept" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}

func TestEncryptedDMRoundTrip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	alice := testenv.NewMatrixUser(t, "alice")
	bob := testenv.NewMatrixUser(t, "bob")
	t.Logf("two users registered and logged in with E2EE in %v", time.Since(start))

	start = time.Now()
	room, err := alice.CreateDM(ctx, bob.UserID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, room, "hello, I need help"); err != nil {
		t.Fatal(err)
	}
	inv, err := bob.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Room != room || inv.Inviter != alice.UserID() || !inv.IsDirect {
		t.Fatalf("unexpected invite %+v", inv)
	}
	got := bob.Expect(t, room, "I need help")
	if got.Body != "hello, I need help" || got.Sender != alice.UserID() || !got.Encrypted {
		t.Fatalf("bob got %+v", got)
	}
	t.Logf("first encrypted message decrypted by the invitee %v after room creation", time.Since(start))

	start = time.Now()
	if _, err := bob.Send(ctx, room, "a volunteer is here"); err != nil {
		t.Fatal(err)
	}
	reply := alice.Expect(t, room, "volunteer")
	if !reply.Encrypted || reply.Sender != bob.UserID() {
		t.Fatalf("alice got %+v", reply)
	}
	t.Logf("encrypted reply decrypted in %v", time.Since(start))

	// The cursor has moved past the first message: only new ones match.
	if _, err := alice.Send(ctx, room, "thanks"); err != nil {
		t.Fatal(err)
	}
	if m := bob.Expect(t, room, ""); m.Body != "thanks" {
		t.Fatalf("cursor did not advance: %q", m.Body)
	}
	if n := len(bob.Messages(room)); n != 3 {
		t.Fatalf("bob recorded %d messages, want 3", n)
	}
	if u := append(alice.Undecryptable(), bob.Undecryptable()...); len(u) != 0 {
		t.Fatalf("undecryptable events: %v", u)
	}
	// A volunteer who left may be invited back into the same room.
	if err := bob.Leave(ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Mautrix().InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: bob.UserID()}); err != nil {
		t.Fatal(err)
	}
	if inv, err := bob.NextInvite(ctx); err != nil || inv.Room != room {
		t.Fatalf("re-invite: %+v, %v", inv, err)
	}
	if _, err := alice.Send(ctx, room, "welcome back"); err != nil {
		t.Fatal(err)
	}
	bob.Expect(t, room, "welcome back")
}

func TestSendRefusesUnencryptedRoom(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice := testenv.NewMatrixUser(t, "plain")
	resp, err := alice.Mautrix().CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, resp.RoomID, "secret"); err == nil || !strings.Contains(err.Error(), "not an encrypted room") {
		t.Fatalf("Send in a plaintext room: %v", err)
	}
}

func TestDendriteRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	hs := testenv.NewDendrite(t)
	alice := testenv.NewMatrixUserOn(t, hs, testenv.PG(t), "ralice")
	bob := testenv.NewMatrixUserOn(t, hs, testenv.PG(t), "rbob")
	room, err := alice.CreateDM(ctx, bob.UserID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.NextInvite(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := hs.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("homeserver restarted in %v", time.Since(start))
	start = time.Now()
	if _, err := alice.Send(ctx, room, "still there?"); err != nil {
		t.Fatal(err)
	}
	if m := bob.Expect(t, room, "still there?"); !m.Encrypted {
		t.Fatalf("not encrypted after restart: %+v", m)
	}
	t.Logf("message delivered %v after restart", time.Since(start))
}
