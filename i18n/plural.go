package i18n

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Plural forms follow MediaWiki's {{PLURAL:$N|…}}: the forms are written in the order
// of the language's CLDR plural categories (zero, one, two, few, many, other, keeping
// only those the language has), so Russian writes one|few|many and Arabic all six. A
// form "N=text" is used for exactly the number N, whatever the language. When a message
// gives fewer forms than the language has, the last one stands for the rest, as in
// MediaWiki.
//
// The rules are CLDR's, from golang.org/x/text/feature/plural (maintained by the Go
// team; its tables are CLDR plural.CLDRVersion). That package tells the category of a
// number but not which categories a language has, so those are found once per
// language by asking it about a range of numbers.

var pluralRe = regexp.MustCompile(`\{\{PLURAL:\$(\d+)\|([^}]*)\}\}`)

func expandPlural(tpl, lang string, params []any) string {
	if !strings.Contains(tpl, "{{PLURAL:") {
		return tpl
	}
	return pluralRe.ReplaceAllStringFunc(tpl, func(m string) string {
		sub := pluralRe.FindStringSubmatch(m)
		idx, _ := strconv.Atoi(sub[1])
		n := 0
		if idx >= 1 && idx <= len(params) {
			n = toInt(params[idx-1])
		}
		return PluralForm(lang, n, strings.Split(sub[2], "|"))
	})
}

// PluralForm picks the form for n in lang from forms written in MediaWiki's order.
func PluralForm(lang string, n int, forms []string) string {
	var positional []string
	for _, f := range forms {
		if eq := strings.IndexByte(f, '='); eq > 0 {
			if k, err := strconv.Atoi(f[:eq]); err == nil {
				if k == n {
					return f[eq+1:]
				}
				continue
			}
		}
		positional = append(positional, f)
	}
	if len(positional) == 0 {
		return ""
	}
	i := pluralIndex(lang, n)
	if i >= len(positional) {
		i = len(positional) - 1
	}
	return positional[i]
}

// pluralIndex is the position of n's CLDR category among the categories lang has.
func pluralIndex(lang string, n int) int {
	tag := pluralTag(lang)
	if n < 0 {
		n = -n
	}
	form := plural.Cardinal.MatchPlural(tag, n%10000000, 0, 0, 0, 0)
	for i, f := range categories(tag) {
		if f == form {
			return i
		}
	}
	return 0
}

func pluralTag(lang string) language.Tag {
	tag, err := language.Parse(lang)
	if err != nil {
		// A MediaWiki code BCP 47 does not know (de-formal): its base language.
		base, _, _ := strings.Cut(lang, "-")
		tag, _ = language.Parse(base)
	}
	return tag
}

var categoryCache sync.Map // language.Tag → []plural.Form

// categoryOrder is CLDR's (and so MediaWiki's) order of the plural categories.
var categoryOrder = []plural.Form{plural.Zero, plural.One, plural.Two, plural.Few, plural.Many, plural.Other}

// categories lists the plural categories a language has, in CLDR order. Every
// category of every language in CLDR shows up among the integers to 1000, a million
// (French and others have "many" for it) and a few decimals ("other" in Russian or
// Polish is for fractions only).
func categories(tag language.Tag) []plural.Form {
	if c, ok := categoryCache.Load(tag); ok {
		return c.([]plural.Form)
	}
	seen := map[plural.Form]bool{}
	for i := 0; i <= 1000; i++ {
		seen[plural.Cardinal.MatchPlural(tag, i, 0, 0, 0, 0)] = true
	}
	seen[plural.Cardinal.MatchPlural(tag, 1000000, 0, 0, 0, 0)] = true
	for _, d := range [][5]int{{0, 1, 1, 5, 5}, {1, 1, 1, 5, 5}, {2, 1, 1, 5, 5}, {1, 2, 1, 50, 5}, {0, 2, 2, 1, 1}} {
		seen[plural.Cardinal.MatchPlural(tag, d[0], d[1], d[2], d[3], d[4])] = true
	}
	var out []plural.Form
	for _, f := range categoryOrder {
		if seen[f] {
			out = append(out, f)
		}
	}
	categoryCache.Store(tag, out)
	return out
}

func toInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}
