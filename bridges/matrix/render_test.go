package matrix

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"switchboard/i18n"
)

func TestRenderNeverTurnsInputIntoMarkup(t *testing.T) {
	cat, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	evil := "<img src=x onerror=alert(1)> [click](javascript:alert(1)) **bold**\n    code\n# heading"
	plain, md := cat.Render("en", "switchboard-summary", "en.wikipedia.org", "A, B", "en", evil)
	c := render(plain, md, false)
	if c.Format != event.FormatHTML || c.MsgType != event.MsgText {
		t.Fatalf("content: %+v", c)
	}
	for _, bad := range []string{"<img", "<a ", "<strong>bold", "<code>", "<pre>", "<h1>"} {
		if strings.Contains(c.FormattedBody, bad) {
			t.Errorf("formatted body contains %q: %s", bad, c.FormattedBody)
		}
	}
	if !strings.Contains(c.FormattedBody, "&lt;img src=x onerror=alert(1)&gt;") || !strings.Contains(c.Body, evil) {
		t.Errorf("the text must show as typed:\n%s\n%s", c.FormattedBody, c.Body)
	}
	if !strings.Contains(c.FormattedBody, "<strong>Wiki:</strong>") {
		t.Errorf("the catalogue's own formatting is lost: %s", c.FormattedBody)
	}
	if c.Mentions == nil || len(c.Mentions.UserIDs) != 0 || c.Mentions.Room {
		t.Error("bot messages must carry empty m.mentions so they never ping anyone")
	}
	if n := render("x", "x", true); n.MsgType != event.MsgNotice {
		t.Error("notices must be m.notice")
	}
}

func TestSealRecoveryKey(t *testing.T) {
	sealed := seal([]byte("pickle-1"), "EsTc abcd efgh")
	if strings.Contains(string(sealed), "abcd") {
		t.Fatal("recovery key stored in the clear")
	}
	if got, err := unseal([]byte("pickle-1"), sealed); err != nil || got != "EsTc abcd efgh" {
		t.Fatalf("unseal: %q %v", got, err)
	}
	if _, err := unseal([]byte("pickle-2"), sealed); err == nil || !strings.Contains(err.Error(), "pickle-key") {
		t.Errorf("a wrong pickle key must be reported clearly: %v", err)
	}
}
