package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// yesWords and noWords accept the obvious variants in the languages volunteers are
// most likely to meet. Anything else is re-asked: a safety answer is never guessed.
var (
	yesWords = wordSet("y yes yeah yea yep yup sure correct true ja jo oui si sí sim da tak 👍 ✅")
	noWords  = wordSet("n no nope nah false nein nee non não nao nie net ❌ 👎")
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// ParseYesNo reads a yes/no answer. ok is false when the answer is unclear.
func ParseYesNo(text string) (yes, ok bool) {
	t := strings.ToLower(strings.TrimSpace(text))
	t = strings.TrimRightFunc(t, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	// "yes, he did" and "no thanks" are clear; "yes and no" is not.
	fields := strings.FieldsFunc(t, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == '.' || r == '!' })
	if len(fields) == 0 {
		return false, false
	}
	first := fields[0]
	hasYes, hasNo := false, false
	for _, f := range fields {
		hasYes = hasYes || yesWords[f]
		hasNo = hasNo || noWords[f]
	}
	switch {
	case yesWords[first] && !hasNo:
		return true, true
	case noWords[first] && !hasYes:
		return false, true
	}
	return false, false
}

// noneWords mean "no usernames to give".
var noneWords = wordSet("none no nobody n/a na - nothing unknown keine keiner niemand aucun ninguno ninguna nadie")

// maxParties bounds a list so one message cannot flood the case.
const maxParties = 20

// ParseParties splits a list of wiki usernames and normalises each as MediaWiki does.
// "none" gives an empty, non-nil list. ok is false when a name cannot be a MediaWiki
// username.
func ParseParties(text string) (names []string, ok bool) {
	// Cleaned before it is split: NFC turns U+037E (Greek question mark) into ";", and
	// "a\u037eb" was one party named "A;b" where "a;b" is two (found by FuzzParseParties).
	t := strings.TrimSpace(cleanName(text))
	if noneWords[strings.ToLower(strings.TrimRight(t, "."))] {
		return []string{}, true
	}
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == '\n' || r == ';' }) {
		name, valid := NormalizeUsername(part)
		if !valid {
			return nil, false
		}
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	if len(names) == 0 || len(names) > maxParties {
		return nil, false
	}
	return names, true
}

// NormalizeUsername applies MediaWiki's title normalisation to a username: an optional
// "User:" prefix or leading "@" dropped, underscores as spaces, runs of spaces
// collapsed, first letter upper-case. valid is false for characters MediaWiki forbids
// in titles, or a name longer than 255 bytes.
func NormalizeUsername(s string) (name string, valid bool) {
	s = strings.TrimSpace(strings.ReplaceAll(cleanName(s), "_", " "))
	// Prefixes are dropped until none is left: "@@x" or "User:@x" dropped only one,
	// and the name left ("@x") normalised to yet another ("X"), so one person had two
	// comparison keys (found by FuzzUsername).
	for {
		t := strings.TrimSpace(strings.TrimPrefix(s, "@"))
		if i := strings.IndexByte(t, ':'); i >= 0 && strings.EqualFold(strings.TrimSpace(t[:i]), "user") {
			t = strings.TrimSpace(t[i+1:])
		}
		if t == s {
			break
		}
		s = t
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", true
	}
	if len(s) > 255 || strings.ContainsAny(s, "#<>[]|{}/:") {
		return "", false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "", false
		}
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:], true
}

// languages maps names and autonyms people type to a language code. Codes of two or
// three letters are taken as they are.
var languages = map[string]string{
	"english": "en", "deutsch": "de", "german": "de", "français": "fr", "francais": "fr",
	"french": "fr", "español": "es", "espanol": "es", "spanish": "es", "italiano": "it",
	"italian": "it", "português": "pt", "portugues": "pt", "portuguese": "pt",
	"nederlands": "nl", "dutch": "nl", "polski": "pl", "polish": "pl", "русский": "ru",
	"russian": "ru", "українська": "uk", "ukrainian": "uk", "svenska": "sv", "swedish": "sv",
	"中文": "zh", "chinese": "zh", "日本語": "ja", "japanese": "ja", "العربية": "ar",
	"arabic": "ar", "हिन्दी": "hi", "hindi": "hi", "türkçe": "tr", "turkish": "tr",
	"فارسی": "fa", "persian": "fa", "indonesia": "id", "indonesian": "id",
	"bahasa indonesia": "id", "עברית": "he", "hebrew": "he", "한국어": "ko", "korean": "ko",
	// How German and Spanish speakers name the catalogues' languages.
	"englisch": "en", "spanisch": "es", "inglés": "en", "ingles": "en", "alemán": "de", "aleman": "de",
	"castellano": "es", "schweizerdeutsch": "gsw",
}

// ParseLanguage turns "Deutsch", "german" or "de" into a language code.
func ParseLanguage(text string) (code string, ok bool) {
	t := strings.ToLower(strings.Trim(strings.TrimSpace(text), ".!"))
	if c, ok := languages[t]; ok {
		return c, true
	}
	if n := len(t); n == 2 || n == 3 {
		for _, r := range t {
			if r < 'a' || r > 'z' {
				return "", false
			}
		}
		return t, true
	}
	return "", false
}

// greetingWords make up an opening that says nothing yet ("hi", "hello there").
var greetingWords = map[string]bool{
	"hi": true, "hello": true, "hey": true, "hallo": true, "hola": true, "bonjour": true, "salut": true,
	"good": true, "morning": true, "afternoon": true, "evening": true, "there": true, "help": true,
	"please": true, "switchboard": true, "anyone": true, "ciao": true, "moin": true, "servus": true,
}

// IsGreeting reports whether an opening is only a greeting: nothing a handler needs to
// read, so it is not kept with the request.
func IsGreeting(s string) bool {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
	for _, w := range words {
		if !greetingWords[w] {
			return false
		}
	}
	return true
}
