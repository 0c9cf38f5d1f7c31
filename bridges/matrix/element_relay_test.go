package matrix_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/internal/testenv"
)

// agent is a Matrix user on Element's crypto (interop/element/agent.mjs), driven one
// JSON command at a time.
type agent struct {
	t      *testing.T
	name   string
	user   string
	cmd    *exec.Cmd
	stdin  *json.Encoder
	lines  chan []byte
	stderr *bytes.Buffer
}

func startAgent(t *testing.T, hs *testenv.Dendrite, name string) *agent {
	t.Helper()
	node, requester := elementRequester(t)
	script := filepath.Join(filepath.Dir(requester), "agent.mjs")
	user, password := hs.NewUser(t, name)
	a := &agent{t: t, name: name, user: user.String(), lines: make(chan []byte, 16), stderr: &bytes.Buffer{}}
	a.cmd = exec.Command(node, script, "--homeserver", hs.URL(), "--user", user.String(), "--password", password, "--timeout-ms", "60000")
	a.cmd.Dir = filepath.Dir(script)
	a.cmd.Stderr = a.stderr
	in, err := a.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a.stdin = json.NewEncoder(in)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			a.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(a.lines)
	}()
	t.Cleanup(func() {
		_ = in.Close()
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
		if t.Failed() {
			t.Logf("%s (agent.mjs) stderr, last 4 kB:\n%s", name, tail(a.stderr.String(), 4096))
		}
	})
	if ready := a.read(); ready["ready"] != true {
		t.Fatalf("agent %s did not start: %v", name, ready)
	}
	return a
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

func (a *agent) read() map[string]any {
	a.t.Helper()
	select {
	case line, ok := <-a.lines:
		if !ok {
			a.t.Fatalf("agent %s exited", a.name)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			a.t.Fatalf("agent %s said %q", a.name, line)
		}
		return m
	case <-time.After(120 * time.Second):
		a.t.Fatalf("agent %s did not answer within 120 s", a.name)
	}
	return nil
}

// do runs one command and fails the test when the agent reports an error.
func (a *agent) do(cmd map[string]any) map[string]any {
	a.t.Helper()
	if err := a.stdin.Encode(cmd); err != nil {
		a.t.Fatal(err)
	}
	res := a.read()
	if res["ok"] != true {
		a.t.Fatalf("agent %s, %v: %v", a.name, cmd["op"], res["error"])
	}
	return res
}

func (a *agent) str(res map[string]any, key string) string {
	s, _ := res[key].(string)
	return s
}

// The relayed case of TestRelayedCaseEndToEnd with Element's crypto on both sides: a
// volunteer's message, reply, edit, reaction, image and redaction reach the requester's
// chat with no trace of the volunteer's account in anything her client has, and her
// words reach the helpers' room.
func TestElementRelayedCase(t *testing.T) {
	t.Parallel()
	hs := testenv.Homeserver(t)
	b := newBot(t, hs, testenv.NewDB(t))
	staff, staffRoom := staffRoomFor(t, b)
	b.start()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()
	vol := startAgent(t, hs, "vel")
	alice := startAgent(t, hs, "ael")
	volDM := vol.str(vol.do(map[string]any{"op": "dm", "with": b.ID.String()}), "room")
	for _, c := range testenv.Enrol(vol.user) {
		if _, err := staff.Send(ctx, staffRoom, c); err != nil {
			t.Fatal(err)
		}
		staff.Expect(t, staffRoom, vol.user)
	}
	say := func(a *agent, room, text, want string) map[string]any {
		t.Helper()
		a.do(map[string]any{"op": "send", "room": room, "body": text})
		return a.do(map[string]any{"op": "expect", "room": room, "contains": want})
	}
	say(vol, volDM, "!languages en", "You help in")
	say(vol, volDM, "!on", "on duty")
	dm := alice.str(alice.do(map[string]any{"op": "dm", "with": b.ID.String()}), "room")
	var opened map[string]any
	for _, s := range [][2]string{{"hello", "1 of 4"}, {"no", "2 of 4"}, {"no", "3 of 4"}, {"no", "4 of 4"},
		{"no", "what happened"}, {"An editor keeps undoing my work with rude summaries", "usernames"},
		{"none", "Which wiki"}, {"en.wikipedia.org", "language"}, {"en", "Shall I open"}, {"yes", "Your request is open"}} {
		opened = say(alice, dm, s[0], s[1])
	}
	body := alice.str(opened, "body")
	ref := body[strings.Index(body, "SB-") : strings.Index(body, "SB-")+8]
	say(vol, volDM, "!accept "+ref, "is yours")
	alice.do(map[string]any{"op": "expect", "room": dm, "contains": "Just write here"})
	workers := vol.str(vol.do(map[string]any{"op": "invite"}), "room")
	intro := vol.str(vol.do(map[string]any{"op": "expect", "room": workers, "contains": "!reveal"}), "body")
	pseudonym := intro[strings.Index(intro, "reaches them as ")+len("reaches them as ") : strings.Index(intro, ", never your account")]

	first := vol.str(vol.do(map[string]any{"op": "send", "room": workers, "body": "I can **help** with that",
		"html": "I can <strong>help</strong> with that"}), "event_id")
	relayed := alice.do(map[string]any{"op": "expect", "room": dm, "contains": pseudonym + ": I can **help** with that"})
	if !strings.Contains(alice.str(relayed, "formatted_body"), "<strong>help</strong>") || relayed["encrypted"] != true {
		t.Errorf("relayed to her: %v", relayed)
	}
	relayedID := alice.str(relayed, "event_id")

	thanks := alice.str(alice.do(map[string]any{"op": "send", "room": dm, "body": "Thank you so much", "reply_to": relayedID}), "event_id")
	reply := vol.do(map[string]any{"op": "expect", "room": workers, "contains": "Thank you so much"})
	if rel, _ := reply["content"].(map[string]any)["m.relates_to"].(map[string]any); rel == nil ||
		fmt.Sprint(rel["m.in_reply_to"]) != fmt.Sprint(map[string]any{"event_id": first}) {
		t.Errorf("her reply reached the helpers as %v, want a reply to %s", reply["content"], first)
	}

	vol.do(map[string]any{"op": "edit", "room": workers, "event": first, "body": "I can surely help with that"})
	alice.do(map[string]any{"op": "expect_event", "room": dm, "type": "m.room.message", "replaces": relayedID})

	vol.do(map[string]any{"op": "react", "room": workers, "event": vol.str(reply, "event_id"), "key": "❤️"})
	alice.do(map[string]any{"op": "expect_event", "room": dm, "type": "m.reaction", "relates_to": thanks, "key": "❤️"})

	picture := bytes.Repeat([]byte("\x89PNG not really a picture "), 200)
	vol.do(map[string]any{"op": "image", "room": workers, "name": "diff.png", "data_b64": base64.StdEncoding.EncodeToString(picture)})
	img := alice.do(map[string]any{"op": "expect", "room": dm, "contains": "diff.png"})
	got := alice.do(map[string]any{"op": "download", "room": dm, "event": alice.str(img, "event_id")})
	if data, _ := base64.StdEncoding.DecodeString(alice.str(got, "data_b64")); !bytes.Equal(data, picture) {
		t.Error("the image she got is not the one the volunteer sent")
	}

	vol.do(map[string]any{"op": "redact", "room": workers, "event": first})
	alice.do(map[string]any{"op": "expect_event", "room": dm, "type": "m.room.redaction", "redacts": relayedID})

	scan := alice.do(map[string]any{"op": "scan", "room": dm})
	events, _ := scan["events"].([]any)
	if len(events) < 20 {
		t.Fatalf("only %d events to scan", len(events))
	}
	for _, e := range events {
		for _, secret := range []string{vol.user, strings.TrimPrefix(strings.Split(vol.user, ":")[0], "@")} {
			if strings.Contains(e.(string), secret) {
				t.Errorf("her client has %q in %s", secret, e)
			}
		}
	}
	joined, _ := alice.do(map[string]any{"op": "rooms"})["joined"].([]any)
	for _, r := range joined {
		if r == workers {
			t.Error("the requester is in the helpers' room")
		}
	}
}
