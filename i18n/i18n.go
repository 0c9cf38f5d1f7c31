// Package i18n holds every text a person reads, in the banana JSON format that
// translatewiki.net uses (i18n/en.json, documented for translators in i18n/qqq.json;
// de.json and es.json await review by native speakers), and renders a message for a
// language with $N parameters and {{PLURAL:…}} (CLDR's plural rules, plural.go),
// looking along MediaWiki's language fallback chains (fallback.go).
//
// Messages are written in a small subset of Markdown (**bold**, `code`, "- " lists).
// Render returns two forms: Markdown for clients that show formatting (parameters
// escaped, so nothing a person typed is ever rendered as markup) and plain text for the
// plain body and for IRC (emphasis markers removed from the template only).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.json
var files embed.FS

// Fallback is the language every other one falls back to; en.json is complete by rule.
const Fallback = "en"

// Catalogue is the set of loaded languages. It is read-only after Load and safe to share.
type Catalogue struct {
	langs map[string]map[string]string
	docs  map[string]string
}

// Load reads the embedded catalogue.
func Load() (*Catalogue, error) { return LoadFS(files) }

// LoadFS reads every <lang>.json of a directory; qqq.json becomes the documentation.
func LoadFS(fsys fs.FS) (*Catalogue, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	c := &Catalogue{langs: map[string]map[string]string{}}
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("i18n/%s: %w", name, err)
		}
		msgs := make(map[string]string, len(m))
		for k, v := range m {
			if k == "@metadata" {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("i18n/%s: key %q is not a string", name, k)
			}
			msgs[k] = s
		}
		lang := strings.TrimSuffix(name, ".json")
		if lang == "qqq" {
			c.docs = msgs
			continue
		}
		c.langs[lang] = msgs
	}
	if _, ok := c.langs[Fallback]; !ok {
		return nil, fmt.Errorf("i18n: %s.json is missing", Fallback)
	}
	return c, nil
}

// Keys lists the keys of the fallback catalogue, sorted.
func (c *Catalogue) Keys() []string {
	keys := make([]string, 0, len(c.langs[Fallback]))
	for k := range c.langs[Fallback] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Documented reports whether qqq.json explains key to translators.
func (c *Catalogue) Documented(key string) bool { _, ok := c.docs[key]; return ok }

// Has reports whether the catalogue has a translation file for lang.
func (c *Catalogue) Has(lang string) bool { _, ok := c.langs[lang]; return ok }

// Languages lists the languages the catalogue has, English first, then by code.
func (c *Catalogue) Languages() []string {
	out := []string{Fallback}
	for l := range c.langs {
		if l != Fallback {
			out = append(out, l)
		}
	}
	sort.Strings(out[1:])
	return out
}

// Autonym is a catalogue language's name in itself ("Deutsch"), or its code when its
// file does not say.
func (c *Catalogue) Autonym(lang string) string {
	if s := c.langs[lang]["switchboard-language-name"]; s != "" {
		return s
	}
	return lang
}

// template finds a message along the language's fallback chain (see Chain); the
// language it was found in decides the plural rules.
func (c *Catalogue) template(lang, key string) (string, string) {
	for _, l := range Chain(lang) {
		if s, ok := c.langs[l][key]; ok {
			return s, l
		}
	}
	// A missing key shows as MediaWiki does, so a gap is visible but nothing breaks.
	return "⧼" + key + "⧽", Fallback
}

// Param is a parameter whose text depends on the catalogue and the language it is
// rendered in (the list of languages offered, say), for callers that build a message
// without knowing either.
type Param interface {
	Text(c *Catalogue, lang string) string
}

// OfferedLanguages is the parameter naming every language of the catalogue, each in
// itself: "English, Deutsch, Español".
var OfferedLanguages Param = offered{}

type offered struct{}

func (offered) Text(c *Catalogue, _ string) string {
	names := make([]string, 0, len(c.langs))
	for _, l := range c.Languages() {
		names = append(names, c.Autonym(l))
	}
	return strings.Join(names, ", ")
}

// Text renders a message as plain text.
func (c *Catalogue) Text(lang, key string, params ...any) string {
	plain, _ := c.Render(lang, key, params...)
	return plain
}

// Render renders a message in both forms. Parameters may be strings or integers;
// an integer parameter is what {{PLURAL:$N|…}} looks at.
func (c *Catalogue) Render(lang, key string, params ...any) (plain, markdown string) {
	tpl, used := c.template(lang, key)
	copied := false
	for i, p := range params {
		if p, ok := p.(Param); ok {
			if !copied { // the caller's slice stays as it was
				params, copied = append([]any(nil), params...), true
			}
			params[i] = p.Text(c, used)
		}
	}
	tpl = expandPlural(tpl, used, params)
	return substitute(stripEmphasis(tpl), params, false), substitute(tpl, params, true)
}

var paramRe = regexp.MustCompile(`\$(\d+)`)

func substitute(tpl string, params []any, markdown bool) string {
	return paramRe.ReplaceAllStringFunc(tpl, func(m string) string {
		idx, _ := strconv.Atoi(m[1:])
		if idx < 1 || idx > len(params) {
			return m
		}
		s := fmt.Sprint(params[idx-1])
		if markdown {
			return EscapeMarkdown(s)
		}
		return s
	})
}

// PlainText is Markdown written by people the bot trusts (a text module staff wrote)
// without its emphasis markers, for plain bodies and IRC.
func PlainText(markdown string) string { return stripEmphasis(markdown) }

func stripEmphasis(s string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(s)
}

// EscapeMarkdown makes text typed by a person inert in Markdown: every ASCII
// punctuation character is backslash-escaped (CommonMark allows this for all of
// them), so HTML, links and list markers show as the characters that were typed.
// Leading spaces are trimmed from each line so indentation cannot open a code block.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	lineStart := true
	for _, r := range s {
		if lineStart && (r == ' ' || r == '\t') {
			continue
		}
		lineStart = r == '\n'
		if r < 128 && strings.ContainsRune("\\`*_{}[]()#+-.!<>|~\"'&:=;$%^@,?/", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
