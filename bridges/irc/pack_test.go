package irc

import (
	"strings"
	"testing"

	"switchboard/i18n"
)

// firstAnswer is what the core says to a new identified IRC requester's first message,
// as one message (bot/service.go puts the IRC note after the greeting).
func firstAnswer(t *testing.T, botID string) string {
	t.Helper()
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	for _, k := range []struct {
		key    string
		params []any
	}{{"switchboard-greeting", nil}, {"switchboard-irc-not-encrypted", []any{botID}},
		{"switchboard-safety-intro", nil}, {"switchboard-q-harm", nil}} {
		plain, _ := cat.Render("en", k.key, k.params...)
		paras = append(paras, plain)
	}
	return strings.Join(paras, "\n\n")
}

// Under a flood limit of a line a second the first answer is at most two lines, with
// every word in order, each line within the budget of the longest nick and host the
// network allows, and the safety question whole on one line.
func TestFirstAnswerIsTwoLines(t *testing.T) {
	for _, c := range []struct{ bot, nick string }{
		{"@switchboard:example.org", "ann"},
		{"@switchboard-help:wikimedia-community.example.org", strings.Repeat("n", 30)},
	} {
		text := firstAnswer(t, c.bot)
		budget := lineBudget("Switchboard", c.nick, 10, 64)
		lines := PackLines(text, budget)
		if len(lines) > 2 {
			t.Errorf("to %s: %d lines, want at most 2:\n%s", c.nick, len(lines), strings.Join(lines, "\n"))
		}
		checkLines(t, text, lines, budget)
		cat, _ := i18n.Load()
		question, _ := cat.Render("en", "switchboard-q-harm")
		whole := false
		for _, l := range lines {
			whole = whole || strings.Contains(l, question)
		}
		if !whole {
			t.Errorf("to %s: the safety question %q is not whole on one line:\n%s", c.nick, question, strings.Join(lines, "\n"))
		}
	}
}

func TestPackLines(t *testing.T) {
	// Short paragraphs share a line; list items keep lines of their own.
	text := "One.\n\nTwo.\n- item one\n- item two\n\nThree."
	lines := PackLines(text, 60)
	want := []string{"One. Two.", "- item one", "- item two", "Three."}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", lines, want)
	}
	checkLines(t, text, lines, 60)
	// The last paragraph moves to a line of its own rather than be cut...
	text = strings.Repeat("word ", 10) + "\n\nIs this the question you were asked?"
	lines = PackLines(text, 60)
	if last := lines[len(lines)-1]; last != "Is this the question you were asked?" {
		t.Errorf("the question was cut: %q", lines)
	}
	checkLines(t, text, lines, 60)
	// ...but one longer than a line is cut like any other text.
	text = "Short.\n\n" + strings.Repeat("long question ", 10) + "?"
	lines = PackLines(text, 40)
	checkLines(t, text, lines, 40)
	if len(lines) < 4 {
		t.Errorf("a question longer than a line was not cut: %q", lines)
	}
}

// checkLines: no line is empty or over max, and the words are all there, in order.
func checkLines(t *testing.T, text string, lines []string, max int) {
	t.Helper()
	var words []string
	for _, l := range lines {
		if l == "" || len(l) > max {
			t.Errorf("bad line %q (%d bytes, max %d)", l, len(l), max)
		}
		words = append(words, strings.Fields(l)...)
	}
	if strings.Join(words, " ") != strings.Join(strings.Fields(text), " ") {
		t.Errorf("words lost, cut or moved:\n%q\nfrom\n%q", lines, text)
	}
}
