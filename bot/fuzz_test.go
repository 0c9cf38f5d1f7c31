package bot

import (
	"bytes"
	"errors"
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/text/unicode/norm"

	"switchboard/commands"
	"switchboard/i18n"
)

// The fuzz targets of what people type to the core: seeds are in testdata/fuzz/<target>,
// and `make fuzz` runs each target for FUZZTIME.

// FuzzCommandTable: the real command table, for any caller anywhere, answers with a
// call whose arguments fit their declarations or with an error the dispatcher answers
// from the catalogue.
func FuzzCommandTable(f *testing.F) {
	for _, s := range []string{"!help", "!on for 2h", "!block irc:x 3d spam", "!volunteer add @a:b Émile",
		"!conflict add Иван", "!close resolved", "!limit 99", "!audit 12", "!transfer", "!AUDIT", "!on for 110000d"} {
		f.Add(s, uint8(0xff), uint8(0))
	}
	cat, err := i18n.Load()
	if err != nil {
		f.Fatal(err)
	}
	known := map[string]bool{}
	for _, k := range cat.Keys() {
		known[k] = true
	}
	f.Fuzz(func(t *testing.T, text string, roles, place uint8) {
		all := commands.Anyone | commands.Requester | commands.Volunteer | commands.Staff | commands.Coordinator | commands.Worker
		who := commands.Caller{Roles: commands.Role(roles) & all, Place: commands.Places[int(place)%len(commands.Places)]}
		call, err := Commands().Parse(text, who)
		var unknown *commands.UnknownError
		var usage *commands.UsageError
		switch {
		case errors.Is(err, commands.ErrNotCommand):
			return
		case errors.As(err, &unknown):
			if unknown.Name == "" || unknown.Name != strings.ToLower(unknown.Name) {
				t.Errorf("%q: unknown command named %q", text, unknown.Name)
			}
			return
		case errors.As(err, &usage):
			if !known[usage.Key] {
				t.Errorf("%q: the usage answer %q is not in the catalogue", text, usage.Key)
			}
			return
		case err != nil:
			t.Fatalf("%q: an error the dispatcher cannot answer: %v", text, err)
		}
		if call.Cmd == nil || call.Cmd.Run == nil {
			t.Fatalf("%q: a call without a handler", text)
		}
		if call.Cmd.Roles != 0 && call.Cmd.Roles&who.Roles == 0 {
			t.Errorf("%q: !%s for roles %v", text, call.Cmd.Name, who.Roles)
		}
		for _, a := range call.Cmd.Args {
			if !call.Args.Has(a.Name) {
				if !a.Optional {
					t.Errorf("%q: required %s missing", text, a.Name)
				}
				continue
			}
			switch a.Kind.Name {
			case commands.Duration.Name:
				d := call.Args.Duration(a.Name)
				if d <= 0 || a.MinDuration != 0 && d < a.MinDuration || a.MaxDuration != 0 && d > a.MaxDuration {
					t.Errorf("%q: %s = %v, out of bounds", text, a.Name, d)
				}
			case commands.Number.Name:
				n := call.Args.Int(a.Name)
				if (a.Min != 0 || a.Max != 0) && n < a.Min || a.Max != 0 && n > a.Max {
					t.Errorf("%q: %s = %d, out of bounds", text, a.Name, n)
				}
			case commands.Choice.Name:
				if !slices.Contains(a.Choices, call.Args.String(a.Name)) {
					t.Errorf("%q: %s = %q, not a choice", text, a.Name, call.Args.String(a.Name))
				}
			case commands.MatrixID.Name:
				if !commands.IsMatrixID(call.Args.String(a.Name)) {
					t.Errorf("%q: %s = %q, not a Matrix ID", text, a.Name, call.Args.String(a.Name))
				}
			}
		}
	})
}

// FuzzParseYesNo: a safety answer is never guessed. Whatever was said, "… no" is never
// a clear yes and "… yes" never a clear no; blanks and a final "!" change nothing; a
// clear answer contains its word.
func FuzzParseYesNo(f *testing.F) {
	for _, s := range []string{"yes", "no", "Yes, he did.", "no thanks", "yes and no", "👍", "❌", "ja!", "non", "sí", "", "maybe", "YES NO"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		yes, ok := ParseYesNo(s)
		if y, o := ParseYesNo(s + " no"); y && o {
			t.Errorf("%q read as a clear yes", s+" no")
		}
		if y, o := ParseYesNo("no " + s); y && o {
			t.Errorf("%q read as a clear yes", "no "+s)
		}
		if y, o := ParseYesNo(s + " yes"); !y && o {
			t.Errorf("%q read as a clear no", s+" yes")
		}
		if y, o := ParseYesNo(" \n" + s + " !"); y != yes || o != ok {
			t.Errorf("%q read as %v,%v but %q as %v,%v", s, yes, ok, " \n"+s+" !", y, o)
		}
		if !ok {
			return
		}
		words := noWords
		if yes {
			words = yesWords
		}
		fields := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsPunct(r)
		})
		if !slices.ContainsFunc(fields, func(w string) bool { return words[w] }) {
			t.Errorf("%q read as a clear %v without its word", s, yes)
		}
	})
}

// FuzzUsername: MediaWiki's normalisation gives a name it leaves as it is, with none of
// the characters a title may not hold; the comparison key is the same for a name and
// its normalised form, is its own key, and ignores invisible format characters.
func FuzzUsername(f *testing.F) {
	for _, s := range []string{"émile", "E\u0301mile", "User:Иван", "@bob_smith", " a  b ", "\u200fAlice\u202e", "x#y",
		"User:@x", "@@x", "ǆemal", "ﬀoo", "ΐ", strings.Repeat("a", 256), "ß", "İstanbul", "\u0345x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizeUsername(s)
		key := NameKey(s)
		if !ok || n == "" {
			if n != "" || key != "" {
				t.Errorf("%q: invalid or empty, yet name %q and key %q", s, n, key)
			}
			return
		}
		if again, ok := NormalizeUsername(n); !ok || again != n {
			t.Errorf("%+q normalises to %+q, which normalises to %+q, %v", s, n, again, ok)
		}
		switch {
		case len(n) > 255, strings.ContainsAny(n, "#<>[]|{}/:_"), !utf8.ValidString(n),
			strings.ContainsFunc(n, func(r rune) bool {
				return unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r)
			}),
			n != strings.TrimSpace(n), strings.Contains(n, "  "):
			t.Errorf("%q normalises to %q, which MediaWiki would not take as it is", s, n)
		}
		if !norm.NFC.IsNormalString(n) {
			t.Errorf("%q normalises to %q, not in NFC", s, n)
		}
		if key == "" {
			t.Fatalf("%q: a valid name %q without a key", s, n)
		}
		if k := NameKey(n); k != key {
			t.Errorf("%q has key %q, its normal form %q has %q", s, key, n, k)
		}
		if k := NameKey(key); k != key {
			t.Errorf("%q has key %q, whose key is %q", s, key, k)
		}
		mid := len(s) / 2
		for mid > 0 && !utf8.RuneStart(s[mid]) {
			mid--
		}
		if marked := s[:mid] + "\u200f" + s[mid:] + "\u202a"; NameKey(marked) != key {
			t.Errorf("%q has key %q, with bidi marks %q", s, key, NameKey(marked))
		}
	})
}

// FuzzParseParties: a list of usernames gives at most 20 distinct valid names, each in
// normal form, and reads back the same when written out again.
func FuzzParseParties(f *testing.F) {
	for _, s := range []string{"none", "Alice, Bob", "User:Alice; alice\nBOB", "a,,b", "x#y, z", "n/a", "None."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, ok := ParseParties(s)
		if !ok {
			if names != nil {
				t.Errorf("%q refused with %q", s, names)
			}
			return
		}
		if names == nil || len(names) > maxParties {
			t.Fatalf("%q gave %d names (nil: %v)", s, len(names), names == nil)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if again, ok := NormalizeUsername(n); !ok || again != n || n == "" || seen[n] {
				t.Errorf("%q gave %q, not a distinct name in normal form", s, n)
			}
			seen[n] = true
		}
		if len(names) == 0 {
			return
		}
		joined := strings.Join(names, ", ")
		if noneWords[strings.ToLower(joined)] {
			return // a person named "None" is no answer: the word wins
		}
		if again, ok := ParseParties(joined); !ok || !slices.Equal(again, names) {
			t.Errorf("%+q gave %+q, which written out reads as %+q, %v", s, names, again, ok)
		}
	})
}

var (
	fenceMD = goldmark.New(goldmark.WithRendererOptions(gmhtml.WithHardWraps())) // as bridges/matrix renders
	tagRe   = regexp.MustCompile(`<[^>]*>`)
)

// FuzzCodeFence: text typed by people (an audit reason) inside replyCode's code block
// stays in it, as typed: one <pre>, nothing rendered after it.
func FuzzCodeFence(f *testing.F) {
	for _, s := range []string{"plain", "a ``` b", "```\n**x**", "````", "x\n```\n<b>y</b>", "~~~\n# h", "\r```\r*x*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fence := codeFence(text)
		md := "**Audit**\n\n" + fence + "\n" + text + "\n" + fence
		var buf bytes.Buffer
		if err := fenceMD.Convert([]byte(md), &buf); err != nil {
			t.Fatal(err)
		}
		out := strings.TrimSpace(buf.String())
		head := "<p><strong>Audit</strong></p>\n<pre><code>"
		if !strings.HasPrefix(out, head) || !strings.HasSuffix(out, "</code></pre>") || strings.Count(out, "<pre>") != 1 {
			t.Fatalf("%q left its code block:\n%s", text, out)
		}
		inner := out[len(head) : len(out)-len("</code></pre>")]
		if tags := tagRe.FindAllString(inner, -1); len(tags) > 0 {
			t.Fatalf("%q rendered as markup %q inside its code block", text, tags)
		}
		if !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
			return
		}
		if got := strings.TrimSuffix(html.UnescapeString(inner), "\n"); got != strings.TrimSuffix(text, "\n") && got != text {
			t.Errorf("%q shows as %q", text, got)
		}
	})
}
