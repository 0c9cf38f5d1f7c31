package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// `make demo` against the real servers, as a newcomer runs it: it must finish, and
// print the journey's key lines in order, so that the demo (and docs/demo.md, made
// from it) cannot quietly stop showing the product. The demo itself waits for every
// answer it prints and fails on a Matrix message that came unencrypted.
func TestDemo(t *testing.T) {
	var out, logs lockedBuffer
	o := options{demo: true, out: &out, log: zerolog.New(&logs).Level(zerolog.WarnLevel)}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	start := time.Now()
	err := run(ctx, o)
	t.Logf("the demo took %s", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("the demo failed: %v\n\noutput:\n%s\nbot log:\n%s", err, out.String(), logs.String())
	}
	text := out.String()
	inOrder(t, text,
		// Set-up: the roster made by staff, as they would.
		`(?m)^=== Set-up`,
		`Sam \(staff\) +› !volunteer add @volunteer:localhost Vera_Volunteer`,
		`@volunteer:localhost now mentors @trainee:localhost`,
		`You are on duty until`,
		// An everyday case, both sides.
		`(?m)^=== 1\. An everyday case`,
		`switchboard +› Your request is open\. Its reference is SB-`,
		`I have added that to your request`,
		`\[Vera ⇄ switchboard`,
		`switchboard +› New request SB-\w{5} for you`,
		`Vera \(volunteer\) +› !accept`,
		`switchboard +› Good news: a volunteer has taken your request`,
		`\[case room SB-\w{5} \(helpers only`,
		`Welcome to the private room for SB-`,
		`They have now started posting about me`, // her addition, in the summary
		`Vera \(volunteer\) +› Hello, I am here to help`,
		`switchboard +› Helper \w+: Hello, I am here to help`,
		`switchboard +› @requester:localhost \(direct message\): Here: https://en\.wikipedia\.org/w/index\.php\?diff=1234567`,
		`A follow-up from the requester`,
		`switchboard +› @requester:localhost \(direct message\): One more thing`,
		`switchboard +› Helper \w+: That helps, thank you`,
		`Vera \(volunteer\) +› !close resolved`,
		`switchboard +› SB-\w{5} is closed`,
		`How did it go\?`,
		`requester +› 5`,
		`Thank you for your feedback`,
		`I have kept your comment on SB-`,
		// A staff-route case: the page, !ack, the staff room.
		`(?m)^=== 2\. A staff-route case`,
		`requester +› yes\n +switchboard +› Thank you for telling me\. Your request will go to Wikimedia Foundation staff`,
		`📟 page \(ntfy\) POST /sam-phone — Title: "Switchboard: staff-route case SB-\w{5}", Priority: urgent`,
		`\[staff room\]\n +switchboard +› @staff:localhost: a staff-route request SB-\w{5} needs an on-call staff member`,
		`Sam \(staff\) +› !ack SB-\w{5}`,
		`Paging has stopped`,
		`\[staff case room SB-\w{5}`,
		`The requester answered \(What happened\): A user I blocked found my home address`,
		`Sam \(staff\) +› Hello, I am from the Trust and Safety team`,
		`switchboard +› Staff member \w+: Hello, I am from the Trust and Safety team`,
		`switchboard +› @requester:localhost \(direct message\): Yes, I am at a friend's place`,
		// An IRC requester, relayed into a case room worked by a trainee and mentor.
		`(?m)^=== 3\. An IRC requester`,
		`Tomas \(trainee\) +› !on`,
		`\[IRC: requester ⇄ Switchboard`,
		// The greeting and the note share a line: IRC replies are packed into few lines.
		`Switchboard +› Hello, and thank you for writing\..* Please note: IRC is not end-to-end encrypted`,
		`Tomas \(trainee\) +› !accept`,
		`Switchboard +› Good news: a volunteer has taken your request`,
		`appear here marked \(IRC\)`,
		`switchboard +› requester \(IRC\): It happened again this morning\.`,
		`Switchboard +› Helper \w+: I am sorry\. On which talk page was it\?`,
		`Vera \(volunteer\) +› I am the mentor of the helper`,
		`Switchboard +› Helper \w+: I am the mentor of the helper`,
		`Tomas \(trainee\) +› !close referred`,
		`Switchboard +› Thank you for your feedback`,
		// Coordinators, then what is where, from the homeserver.
		`Chris \(coord\.\) +› !stats 7d\n +switchboard +› Last 7 days: 2 requests opened, 2 closed`,
		`(?m)^=== What is where: the 9 rooms`,
		`(?m)^  Switchboard staff +encrypted +Kim \(staff\), Sam \(staff\)$`,
		`The demo is over`,
	)
	where := text[strings.Index(text, "=== What is where"):]
	for _, want := range []string{
		`(?m)^  Switchboard coordinators +encrypted +Chris \(coord\.\)$`,
		`(?m)^  Switchboard volunteers +encrypted +Sam \(staff\), Tomas \(trainee\), Vera \(volunteer\)$`,
		`(?m)^  Switchboard SB-\w{5} +encrypted +Sam \(staff\)$`,                  // the staff case, still open
		`(?m)^  Switchboard SB-\w{5} +encrypted +\(nobody else: the bot alone\)$`, // a closed case
		`(?m)^  direct chat +encrypted +requester$`,
	} {
		if !regexp.MustCompile(want).MatchString(where) {
			t.Errorf("what is where lacks %s:\n%s", want, where)
		}
	}
	// Relayed rooms: the requester is in no case room, and nothing that reached her
	// names a helper's account or display name.
	if regexp.MustCompile(`(?m)^  Switchboard SB-.*requester`).MatchString(where) {
		t.Errorf("the requester is in a case room:\n%s", where)
	}
	helper := regexp.MustCompile(`@volunteer|@trainee|@staff|\b(Vera|Tomas|Sam|Kim)\b`)
	for _, block := range strings.Split(text, "\n  [")[1:] {
		if !strings.HasPrefix(block, "requester ⇄ switchboard") && !strings.HasPrefix(block, "IRC: requester") {
			continue
		}
		for _, line := range strings.Split(block, "\n")[1:] {
			// Her own lines are hers; narration is not indented.
			if strings.HasPrefix(line, "    requester ") || !strings.HasPrefix(line, "    ") {
				continue
			}
			if helper.MatchString(line) {
				t.Errorf("the requester was shown a helper's name or account: %s", line)
			}
		}
	}
}

// inOrder checks that each pattern matches text after the previous one's match.
func inOrder(t *testing.T, text string, patterns ...string) {
	t.Helper()
	at := 0
	for _, p := range patterns {
		loc := regexp.MustCompile(p).FindStringIndex(text[at:])
		if loc == nil {
			t.Fatalf("the demo's output lacks %s after offset %d; output:\n%s", p, at, text)
		}
		at += loc[1]
	}
}
