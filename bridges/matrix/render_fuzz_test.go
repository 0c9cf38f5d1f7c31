package matrix

import (
	"html"
	"maps"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"maunium.net/go/mautrix/event"

	"switchboard/i18n"
)

// The fuzz targets of the message renderer: seeds are in testdata/fuzz/<target>, and
// `make fuzz` runs each target for FUZZTIME. They need no server (testenv.Main starts
// none under -fuzz).

var htmlTag = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>|<!--.*?-->`)

// FuzzRender: what a person typed, as a parameter of a catalogue message (here the
// story in the summary a requester confirms), is shown as typed in both bodies and
// never becomes markup: the formatted body has the tags the message has with a
// harmless parameter, no more, besides paragraphs and line breaks.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"<img src=x onerror=alert(1)>", "[click](javascript:alert(1))", "**bold** _it_ `code`",
		"line\n    code", "# heading\n- item\n1. one\n> quote", "a\n\nb", "&lt;b&gt; &amp;", "x\r\r      code",
		"<!-- c -->", "| a | b |\n|---|---|", "~~~\nfence\n~~~", "www.example.org https://example.org", "\\*", "![i](x.png)"} {
		f.Add(s)
	}
	cat, err := i18n.Load()
	if err != nil {
		f.Fatal(err)
	}
	const key, marker = "switchboard-summary", "MARKER"
	summary := func(story string) *event.MessageEventContent {
		plain, md := cat.Render("en", key, "en.wikipedia.org", "Alice, Bob", "en", story)
		return render(plain, md, false)
	}
	neutral := summary(marker)
	// Paragraphs and line breaks are the person's; every other tag is the message's,
	// as many times as it has it.
	own := map[string]bool{"<p>": true, "</p>": true, "<br>": true, "<br />": true}
	tags := func(body string) map[string]int {
		n := map[string]int{}
		for _, tag := range htmlTag.FindAllString(body, -1) {
			if !own[tag] {
				n[tag]++
			}
		}
		return n
	}
	wantTags := tags(neutral.FormattedBody)
	f.Fuzz(func(t *testing.T, story string) {
		c := summary(story)
		if !strings.Contains(c.Body, story) {
			t.Errorf("the plain body does not show %q as typed: %q", story, c.Body)
		}
		if got := tags(c.FormattedBody); !maps.Equal(got, wantTags) {
			t.Fatalf("%q became markup: tags %v, want %v:\n%s", story, got, wantTags, c.FormattedBody)
		}
		if !utf8.ValidString(story) || strings.ContainsRune(story, 0) {
			return
		}
		want := strings.Replace(blankless(textOf(neutral.FormattedBody)), marker, blankless(story), 1)
		if got := blankless(textOf(c.FormattedBody)); got != want {
			t.Errorf("%q shows as\n%s\nwant\n%s", story, got, want)
		}
	})
}

// textOf is the text an HTML body shows.
func textOf(s string) string { return html.UnescapeString(htmlTag.ReplaceAllString(s, "")) }

// blankless is s without blanks, which rendering may change.
func blankless(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// markdownTags are what CommonMark makes of Markdown, without raw HTML.
var markdownTags = map[string]bool{"p": true, "br": true, "strong": true, "em": true, "code": true, "pre": true,
	"a": true, "img": true, "ul": true, "ol": true, "li": true, "blockquote": true, "hr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true}

var attrRe = regexp.MustCompile(`\s([a-zA-Z-]+)="([^"]*)"`)

// FuzzRenderHelperMarkdown: a helper's words keep their Markdown on the way to a
// requester (relayOut), but raw HTML never passes: only CommonMark's own tags, with
// no attribute but a link's or image's address and text, a list's start and a code
// block's language, and no script address.
func FuzzRenderHelperMarkdown(f *testing.F) {
	for _, s := range []string{"<script>alert(1)</script>", "<a href=\"javascript:x\">y</a>", "[x](javascript:alert(1))",
		"[x](JAVASCRIPT:alert(1))", "![i](data:text/html,x)", "<img src=x onerror=y>", "```js\nx\n```", "3. three",
		"<b onmouseover=x>b</b>", "[x](<java\nscript:y>)", "<!-- c --><div>", "[a]: vbscript:x\n[a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := render("Helper: "+text, "**Helper:** "+text, false)
		for _, m := range htmlTag.FindAllStringSubmatch(c.FormattedBody, -1) {
			if m[2] == "" {
				if m[0] != "<!-- raw HTML omitted -->" {
					t.Fatalf("%q became a comment %s", text, m[0])
				}
				continue
			}
			if !markdownTags[strings.ToLower(m[2])] {
				t.Fatalf("%q became raw HTML %s", text, m[0])
			}
			for _, a := range attrRe.FindAllStringSubmatch(m[3], -1) {
				name, val := strings.ToLower(a[1]), strings.ToLower(html.UnescapeString(a[2]))
				switch {
				case name == "href" || name == "src":
					scheme := strings.Map(func(r rune) rune {
						if unicode.IsSpace(r) || unicode.IsControl(r) {
							return -1
						}
						return r
					}, val)
					for _, bad := range []string{"javascript:", "vbscript:", "data:text", "file:"} {
						if strings.HasPrefix(scheme, bad) {
							t.Fatalf("%q became a link to %q", text, a[2])
						}
					}
				case name == "alt" || name == "title" || name == "start" || name == "class" && strings.HasPrefix(val, "language-"):
				default:
					t.Fatalf("%q gave a tag an attribute %s", text, a[0])
				}
			}
		}
	})
}
