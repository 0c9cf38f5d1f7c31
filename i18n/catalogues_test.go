package i18n_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"switchboard/i18n"
)

// TestCataloguesRenderLikeEnglish puts every real translation through the same checks.
func TestCataloguesRenderLikeEnglish(t *testing.T) {
	_, en := english(t)
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Languages()) < 3 {
		t.Fatalf("languages: %q", c.Languages())
	}
	for _, lang := range c.Languages()[1:] {
		for _, key := range c.Keys() {
			checkMessage(t, c, lang, key, en[key])
		}
	}
}

var codeSpanRe = regexp.MustCompile("`([^`]*)`")

// TestTranslationsAreComplete: de.json and es.json translate every English message and
// nothing else, keep every parameter, and keep what people type as it is: the first
// word of each `code` span (the command) is the English one.
func TestTranslationsAreComplete(t *testing.T) {
	_, en := english(t)
	for _, lang := range []string{"de", "es"} {
		raw, err := os.ReadFile(lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var tr map[string]json.RawMessage
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatal(err)
		}
		for k := range tr {
			if _, ok := en[k]; !ok && k != "@metadata" {
				t.Errorf("%s.json has %q, which en.json does not", lang, k)
			}
		}
		for k, enText := range en {
			var s string
			if err := json.Unmarshal(tr[k], &s); err != nil || s == "" {
				t.Errorf("%s.json lacks %q", lang, k)
				continue
			}
			// The room's name is the bot's name and the reference in every language.
			if k != "switchboard-room-name" && s == enText && len(enText) > 12 {
				t.Errorf("%s.json leaves %q in English: %q", lang, k, s)
			}
			if got, want := sorted(placeholderRe.FindAllString(s, -1)), sorted(placeholderRe.FindAllString(enText, -1)); !slices.Equal(uniq(got), uniq(want)) {
				t.Errorf("%s %s: parameters %q, English has %q", lang, k, got, want)
			}
			if got, want := commandsIn(s), commandsIn(enText); !slices.Equal(got, want) {
				t.Errorf("%s %s: commands %q, English has %q", lang, k, got, want)
			}
		}
	}
}

func commandsIn(s string) []string {
	var out []string
	for _, m := range codeSpanRe.FindAllStringSubmatch(s, -1) {
		out = append(out, strings.Fields(m[1] + " ")[0])
	}
	return sorted(out)
}

func sorted(s []string) []string { slices.Sort(s); return s }

func uniq(s []string) []string { return slices.Compact(s) }
