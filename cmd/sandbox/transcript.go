package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

// stepTimeout bounds the wait for one answer. It is generous because the machine may
// be busy; a step that takes it is a failure of the demo, reported as such.
const stepTimeout = 90 * time.Second

// transcript prints a conversation across rooms as the people in them saw it: each
// message once, under the name of the room it was seen in, with the sender's role.
// Every Matrix message that reached someone unencrypted is noted, and the demo
// fails on it.
type transcript struct {
	out   io.Writer
	names map[id.UserID]string

	mu        sync.Mutex
	printed   map[id.EventID]bool
	place     string // the room the last lines were printed under
	plaintext []string
}

func newTranscript(out io.Writer) *transcript {
	return &transcript{out: out, names: map[id.UserID]string{}, printed: map[id.EventID]bool{}}
}

func (t *transcript) printf(format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, format, a...)
}

// section starts a part of the story.
func (t *transcript) section(title string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.place = ""
	fmt.Fprintf(t.out, "\n=== %s ===\n", title)
}

// note is a line of narration.
func (t *transcript) note(format string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.place = ""
	fmt.Fprintf(t.out, "\n%s\n", fmt.Sprintf(format, a...))
}

// line prints one message under its room's heading.
func (t *transcript) line(place, who, text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if place != t.place {
		fmt.Fprintf(t.out, "\n  [%s]\n", place)
		t.place = place
	}
	const width = 16
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	fmt.Fprintf(t.out, "    %-*s › %s\n", width, who, strings.TrimRight(lines[0], " "))
	for _, l := range lines[1:] {
		fmt.Fprintln(t.out, strings.TrimRight(strings.Repeat(" ", width+7)+l, " "))
	}
}

func (t *transcript) name(u id.UserID) string {
	if n, ok := t.names[u]; ok {
		return n
	}
	return u.String()
}

// room is one Matrix room as one member sees it.
type room struct {
	t     *transcript
	c     *testenv.Client
	id    id.RoomID
	place string
	next  int // the first message in c.Messages(id) not yet looked at
}

func (t *transcript) room(c *testenv.Client, r id.RoomID, place string) *room {
	return &room{t: t, c: c, id: r, place: place}
}

// say sends text as the room's member and prints it.
func (r *room) say(ctx context.Context, text string) error {
	ev, err := r.c.Send(ctx, r.id, text)
	if err != nil {
		return fmt.Errorf("%s in %s: %w", r.t.name(r.c.UserID()), r.place, err)
	}
	r.t.mu.Lock()
	r.t.printed[ev] = true
	r.t.mu.Unlock()
	r.t.line(r.place, r.t.name(r.c.UserID()), text)
	return nil
}

// expect waits for a message from someone else containing substr, and prints what
// the member saw up to it that was not printed yet.
func (r *room) expect(ctx context.Context, substr string) (testenv.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	m, err := r.c.WaitFor(ctx, r.id, func(m testenv.Msg) bool { return strings.Contains(m.Body, substr) })
	if err != nil {
		return m, fmt.Errorf("%s never saw %q in %s: %w", r.t.name(r.c.UserID()), substr, r.place, err)
	}
	r.show(m.ID)
	return m, nil
}

// talk is say followed by expect.
func (r *room) talk(ctx context.Context, text, want string) (testenv.Msg, error) {
	if err := r.say(ctx, text); err != nil {
		return testenv.Msg{}, err
	}
	return r.expect(ctx, want)
}

// show prints the messages seen in the room up to the event until ("" for all so far).
func (r *room) show(until id.EventID) {
	msgs := r.c.Messages(r.id)
	for ; r.next < len(msgs); r.next++ {
		m := msgs[r.next]
		r.t.mu.Lock()
		seen := r.t.printed[m.ID]
		r.t.printed[m.ID] = true
		if !seen && !m.Encrypted {
			r.t.plaintext = append(r.t.plaintext, fmt.Sprintf("%s in %s: %q", r.t.name(m.Sender), r.place, m.Body))
		}
		r.t.mu.Unlock()
		if !seen {
			r.t.line(r.place, r.t.name(m.Sender), m.Body)
		}
		if m.ID == until {
			r.next++
			return
		}
	}
}

// ircChat is an IRC user's private conversation with the bot.
type ircChat struct {
	t     *transcript
	c     *testenv.IRCClient
	who   string
	bot   string
	place string
	next  int
}

func (c *ircChat) say(text string) error {
	if err := c.c.Privmsg(c.bot, text); err != nil {
		return fmt.Errorf("%s on IRC: %w", c.who, err)
	}
	c.t.line(c.place, c.who, text)
	return nil
}

// expect waits for a line from the bot containing substr and prints the bot's lines
// up to it.
func (c *ircChat) expect(ctx context.Context, substr string) error {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	fromBot := func(m testenv.IRCMsg) bool { return strings.EqualFold(m.From, c.bot) }
	want, err := c.c.WaitFor(ctx, func(m testenv.IRCMsg) bool { return fromBot(m) && strings.Contains(m.Text, substr) })
	if err != nil {
		return fmt.Errorf("%s never got %q on IRC: %w", c.who, substr, err)
	}
	msgs := c.c.Messages()
	for ; c.next < len(msgs); c.next++ {
		m := msgs[c.next]
		if fromBot(m) {
			c.t.line(c.place, c.bot, m.Text)
		}
		if m.Time.Equal(want.Time) && m.Text == want.Text {
			c.next++
			break
		}
	}
	return nil
}

func (c *ircChat) talk(ctx context.Context, text, want string) error {
	if err := c.say(text); err != nil {
		return err
	}
	return c.expect(ctx, want)
}
