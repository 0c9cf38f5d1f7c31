package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// holdingProxy stands between the bot and the homeserver and, when armed for a room,
// forwards the bot's sends into it but keeps back the homeserver's answer: the event is
// in the room, and the bot does not know it.
type holdingProxy struct {
	mu   sync.Mutex
	room string
	held int
}

func (p *holdingProxy) arm(room id.RoomID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.room = string(room)
}

func (p *holdingProxy) heldSends() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *holdingProxy) handler(target *url.URL) http.Handler {
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		hold := p.room != "" && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/send/") &&
			(strings.Contains(r.URL.Path, p.room) || strings.Contains(r.URL.EscapedPath(), url.PathEscape(p.room)))
		if hold {
			p.held++
		}
		p.mu.Unlock()
		if hold {
			proxy.ServeHTTP(httptest.NewRecorder(), r.Clone(context.WithoutCancel(r.Context())))
			<-r.Context().Done() // the bot dies waiting for the answer
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

// SIGKILL between receiving a helper's message and relaying it to the requester, and
// messages written while the bot is dead: after the restart each reaches the other
// side exactly once (the relay is an outbox row committed with the event's handling,
// and its transaction ID makes a repeated send the same event).
func TestKillMidRelayLosesAndDoublesNothing(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	target, err := url.Parse(hs.URL())
	if err != nil {
		t.Fatal(err)
	}
	hold := &holdingProxy{}
	srv := httptest.NewServer(hold.handler(target))
	t.Cleanup(srv.Close)
	botID, password := hs.NewUser(t, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Second)
	defer cancel()
	staff := testenv.NewMatrixUser(t, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: kill-relay-pickle-key-0123, data-key: kill-relay-data-key-0123456789abcdefgh}
database: {url: "%s"}
service:
  staff-room: "%s"
  staff: ["%s"]
  case-rooms: relayed
logging: {level: debug, format: json}
`, srv.URL, botID, password, testenv.NewDB(t), staffRoom, staff.UserID())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, cfgPath)
	talk := func(c *testenv.Client, room id.RoomID, text, want string) {
		t.Helper()
		if _, err := c.Send(ctx, room, text); err != nil {
			t.Fatal(err)
		}
		c.Expect(t, room, want)
	}
	vol := testenv.NewMatrixUser(t, "vkill")
	volDM, err := vol.CreateDM(ctx, id.UserID(botID))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range testenv.Enrol(vol.UserID().String()) {
		talk(staff, staffRoom, c, vol.UserID().String())
	}
	talk(vol, volDM, "!languages en", "You help in")
	talk(vol, volDM, "!on", "on duty")
	alice := testenv.NewMatrixUser(t, "alice")
	dm, err := alice.CreateDM(ctx, id.UserID(botID))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"},
		{"no", "what happened"}, {"Someone follows me to every article", "usernames"}, {"none", "Which wiki"},
		{"en.wikipedia.org", "language"}, {"en", "Shall I open"}, {"yes", "is open"}} {
		talk(alice, dm, s[0], s[1])
	}
	vol.Expect(t, volDM, "New request")
	talk(vol, volDM, "!accept", "is yours")
	alice.Expect(t, dm, "Just write here")
	inv, err := vol.NextInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	workers := inv.Room
	vol.Expect(t, workers, "!reveal")

	// The relay of the volunteer's words is sent, and the answer kept from the bot: kill.
	hold.arm(dm)
	if _, err := vol.Send(ctx, workers, "First words before the crash"); err != nil {
		t.Fatal(err)
	}
	for hold.heldSends() == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the bot never tried to relay the message")
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.kill(t)
	// Both sides write while the bot is dead.
	if _, err := vol.Send(ctx, workers, "Written while the bot was down"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, dm, "Are you there? It happened again"); err != nil {
		t.Fatal(err)
	}
	hold.arm("")
	startProc(t, bin, cfgPath)
	alice.ExpectTimeout, vol.ExpectTimeout = 90*time.Second, 90*time.Second
	vol.Expect(t, workers, "Are you there? It happened again")
	alice.Expect(t, dm, "Written while the bot was down")
	// A marker after everything: once it has arrived, nothing earlier can still come.
	if _, err := vol.Send(ctx, workers, "marker"); err != nil {
		t.Fatal(err)
	}
	alice.Expect(t, dm, "marker")
	count := func(c *testenv.Client, room id.RoomID, text string) int {
		n := 0
		for _, m := range c.Messages(room) {
			if m.Sender == id.UserID(botID) && strings.Contains(m.Body, text) {
				n++
			}
		}
		return n
	}
	for _, text := range []string{"First words before the crash", "Written while the bot was down", "marker"} {
		if n := count(alice, dm, text); n != 1 {
			t.Errorf("%q reached her %d times, want once", text, n)
		}
	}
	if n := count(vol, workers, "Are you there? It happened again"); n != 1 {
		t.Errorf("her message reached the helpers %d times, want once", n)
	}
}
