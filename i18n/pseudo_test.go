package i18n_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/renderer/html"

	"switchboard/bridges/irc"
	"switchboard/i18n"
)

// The pseudo-locale: every English message made longer, accented and sprinkled with
// right-to-left words, as a translation might be, keeping what a translator must keep
// (parameters, {{PLURAL:…}}, Markdown markers, `code`). Rendering it must break
// nothing: the markup is the English one, every parameter is filled, and IRC's line
// splitting keeps each line under the limit without losing a character.
const pseudoLang = "qps"

var accents = map[rune]string{'a': "áå", 'e': "ëé", 'i': "ïí", 'o': "öø", 'u': "üú", 'A': "ÅÁ", 'E': "ÉË",
	'I': "ÍÏ", 'O': "ØÖ", 'U': "ÚÜ", 'c': "ç", 'n': "ñ", 's': "š", 'y': "ý", 'z': "ž", 'C': "Ç", 'S': "Š"}

// rtlWord is Hebrew with points and Arabic with a tatweel, between right-to-left marks.
const rtlWord = "\u200fעִבְרִית العـربية\u200f"

func pseudo(tpl string) string {
	var b strings.Builder
	rs := []rune(tpl)
	code, inWord, words := false, false, 0
	endWord := func() {
		if inWord {
			words++
			if words%3 == 0 {
				b.WriteString(" " + rtlWord)
			}
		}
		inWord = false
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '`':
			endWord()
			code = !code
			b.WriteRune(r)
			continue
		case code:
			b.WriteRune(r)
			continue
		case r == '$' && i+1 < len(rs) && unicode.IsDigit(rs[i+1]):
			endWord()
			b.WriteRune(r)
			for i+1 < len(rs) && unicode.IsDigit(rs[i+1]) {
				i++
				b.WriteRune(rs[i])
			}
			continue
		case strings.HasPrefix(string(rs[i:]), "{{PLURAL:"):
			endWord()
			end := i + strings.IndexRune(string(rs[i:]), '|')
			b.WriteString(string(rs[i : end+1]))
			i = end
			continue
		}
		if unicode.IsLetter(r) {
			if a, ok := accents[r]; ok {
				b.WriteString(a)
			} else {
				b.WriteRune(r)
			}
			inWord = true
			continue
		}
		endWord()
		b.WriteRune(r)
	}
	endWord()
	return b.String()
}

var (
	placeholderRe = regexp.MustCompile(`\$(\d+)`)
	pluralParamRe = regexp.MustCompile(`\{\{PLURAL:\$(\d+)\|`)
	tagRe         = regexp.MustCompile(`</?[a-z0-9]+`)
	md            = goldmark.New(goldmark.WithRendererOptions(html.WithHardWraps()))
)

// hostile is a parameter as people type them: markup, right-to-left text, accents, a
// word longer than an IRC line.
const hostile = "<b>x</b> **[y](javascript:z)** `t` _u_ \u202eعربي עברית Ñandú " +
	"Zaunkönigsüberwachungsdienstleistungsunternehmensbeschäftigtenvertretungsversammlungsprotokollführerstellvertreterin"

// params gives a message's parameters: numbers where {{PLURAL}} reads them (a
// different one per message, so every form is met), hostile text elsewhere.
func params(tpl string, seed int) []any {
	n := 0
	for _, m := range placeholderRe.FindAllStringSubmatch(tpl, -1) {
		k, _ := strconv.Atoi(m[1])
		n = max(n, k)
	}
	plural := map[int]bool{}
	for _, m := range pluralParamRe.FindAllStringSubmatch(tpl, -1) {
		k, _ := strconv.Atoi(m[1])
		plural[k] = true
	}
	numbers := []int{0, 1, 2, 3, 5, 11, 21, 22, 101, 1000}
	out := make([]any, n)
	for i := range out {
		if plural[i+1] {
			out[i] = numbers[(seed+i)%len(numbers)]
		} else {
			out[i] = hostile + strconv.Itoa(i+1)
		}
	}
	return out
}

// ircBudget is what bridges/irc leaves for text in one PRIVMSG to a nick of 30
// characters from a bot named Switchboard with user and host at their longest:
// 512 - CRLF - ":Switchboard!~" user(10) "@" host(64) " PRIVMSG " nick(30) " :".
const ircBudget = 512 - 2 - (1 + 11 + 1 + 11 + 1 + 64) - 9 - 30 - 2

// english reads en.json: the raw file and its templates by key.
func english(t *testing.T) ([]byte, map[string]string) {
	t.Helper()
	raw, err := os.ReadFile("en.json")
	if err != nil {
		t.Fatal(err)
	}
	var en map[string]json.RawMessage
	if err := json.Unmarshal(raw, &en); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range en {
		var s string
		if k != "@metadata" && json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	return raw, out
}

func TestPseudoLocaleRendersEveryMessage(t *testing.T) {
	raw, en := english(t)
	fake := map[string]string{}
	for k, s := range en {
		fake[k] = pseudo(s)
	}
	q, _ := json.Marshal(fake)
	c, err := i18n.LoadFS(fstest.MapFS{"en.json": {Data: raw}, pseudoLang + ".json": {Data: q}})
	if err != nil {
		t.Fatal(err)
	}
	longer := 0
	for _, key := range c.Keys() {
		if checkMessage(t, c, pseudoLang, key, en[key]) {
			longer++
		}
	}
	if len(c.Keys()) < 200 || longer < len(c.Keys())*9/10 {
		t.Fatalf("%d messages, %d of them longer in the pseudo-locale: is the transform working?", len(c.Keys()), longer)
	}
}

// checkMessage renders key in lang and in English with the same parameters, and
// reports whether lang's plain text came out longer.
func checkMessage(t *testing.T, c *i18n.Catalogue, lang, key, enTemplate string) bool {
	t.Helper()
	tplParams := params(enTemplate, len(key))
	enPlain, enMD := c.Render("en", key, tplParams...)
	plain, mdText := c.Render(lang, key, tplParams...)
	for _, form := range []string{plain, mdText} {
		for _, bad := range []string{"{{", "}}", "PLURAL", "⧼", "\uFFFD"} {
			if strings.Contains(form, bad) {
				t.Errorf("%s %s: %q is left in %q", lang, key, bad, form)
			}
		}
		if placeholderRe.MatchString(strings.ReplaceAll(form, hostile, "")) {
			t.Errorf("%s %s: a placeholder is left: %q", lang, key, form)
		}
	}
	for _, p := range tplParams {
		if s, ok := p.(string); ok && !strings.Contains(plain, s) {
			t.Errorf("%s %s: parameter %q is missing from %q", lang, key, s[len(s)-1:], plain)
		}
	}
	if got, want := tags(t, mdText), tags(t, enMD); got != want {
		t.Errorf("%s %s: the markup differs from English:\n got  %s\n want %s\n text %q", lang, key, got, want, mdText)
	}
	lines := irc.SplitLines(plain, ircBudget)
	for _, l := range lines {
		if len(l) > ircBudget || !utf8.ValidString(l) || l == "" {
			t.Errorf("%s %s: IRC line of %d bytes (limit %d), valid UTF-8 %v: %q", lang, key, len(l), ircBudget, utf8.ValidString(l), l)
		}
	}
	if nonSpace(strings.Join(lines, "")) != nonSpace(plain) {
		t.Errorf("%s %s: IRC splitting lost text:\n%q\n%q", lang, key, lines, plain)
	}
	return utf8.RuneCountInString(plain) > utf8.RuneCountInString(enPlain)
}

func tags(t *testing.T, markdown string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		t.Fatal(err)
	}
	return strings.Join(tagRe.FindAllString(buf.String(), -1), " ")
}

func nonSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}
