package i18n

import (
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
)

// TestPluralForms checks CLDR's rules through the catalogue, as translators write
// them: Russian and Polish one|few|many, Arabic zero|one|two|few|many|other.
func TestPluralForms(t *testing.T) {
	c, err := LoadFS(fstest.MapFS{
		"en.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|file|files}}"}`)},
		"ru.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|файл|файла|файлов}}"}`)},
		"pl.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|plik|pliki|plików}}"}`)},
		"ar.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|صفر|واحد|اثنان|قليل|كثير|آخر}}"}`)},
		"fr.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|fichier|fichiers}}"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		lang string
		n    int
		want string
	}{
		{"en", 0, "files"}, {"en", 1, "file"}, {"en", 2, "files"},
		{"fr", 0, "fichier"}, {"fr", 1, "fichier"}, {"fr", 2, "fichiers"},
		{"ru", 1, "файл"}, {"ru", 21, "файл"}, {"ru", 101, "файл"}, {"ru", 11, "файлов"},
		{"ru", 2, "файла"}, {"ru", 4, "файла"}, {"ru", 22, "файла"}, {"ru", 12, "файлов"}, {"ru", 14, "файлов"},
		{"ru", 0, "файлов"}, {"ru", 5, "файлов"}, {"ru", 25, "файлов"}, {"ru", 111, "файлов"},
		{"pl", 1, "plik"}, {"pl", 2, "pliki"}, {"pl", 3, "pliki"}, {"pl", 4, "pliki"}, {"pl", 22, "pliki"},
		{"pl", 0, "plików"}, {"pl", 5, "plików"}, {"pl", 12, "plików"}, {"pl", 13, "plików"}, {"pl", 21, "plików"},
		{"pl", 25, "plików"}, {"pl", 112, "plików"},
		{"ar", 0, "صفر"}, {"ar", 1, "واحد"}, {"ar", 2, "اثنان"}, {"ar", 3, "قليل"}, {"ar", 10, "قليل"},
		{"ar", 103, "قليل"}, {"ar", 11, "كثير"}, {"ar", 99, "كثير"}, {"ar", 111, "كثير"}, {"ar", 100, "آخر"},
		{"ar", 102, "آخر"}, {"ar", 1000, "آخر"},
	}
	for _, tc := range cases {
		got := c.Text(tc.lang, "k", tc.n)
		if want := strconv.Itoa(tc.n) + " " + tc.want; got != want {
			t.Errorf("%s, %d: got %q, want %q", tc.lang, tc.n, got, want)
		}
	}
}

// TestPluralFewerFormsAndExplicitNumbers: a message with fewer forms than its language
// has uses the last for the rest, and "N=" forms win for their number, as in MediaWiki.
func TestPluralFewerFormsAndExplicitNumbers(t *testing.T) {
	for _, tc := range []struct {
		lang  string
		n     int
		forms []string
		want  string
	}{
		{"ru", 5, []string{"файл", "файла"}, "файла"},
		{"ar", 100, []string{"a", "b", "c"}, "c"},
		{"en", 0, []string{"0=no files", "one file", "$1 files"}, "no files"},
		{"en", 1, []string{"0=no files", "one file", "$1 files"}, "one file"},
		{"en", 7, []string{"0=no files", "one file", "$1 files"}, "$1 files"},
		{"ru", 12, []string{"12=дюжина", "один", "несколько", "много"}, "дюжина"},
		{"en", 3, []string{"only"}, "only"},
	} {
		if got := PluralForm(tc.lang, tc.n, tc.forms); got != tc.want {
			t.Errorf("%s %d %q: got %q, want %q", tc.lang, tc.n, tc.forms, got, tc.want)
		}
	}
}

// TestFallbackChains: a language without a message takes it from MediaWiki's chain,
// and uses the plural rules of the language the message came from.
func TestFallbackChains(t *testing.T) {
	for lang, want := range map[string][]string{
		"de-ch": {"de-ch", "de", "en"},
		"gsw":   {"gsw", "de", "en"},
		"als":   {"als", "gsw", "de", "en"},
		"DE_AT": {"de-at", "de", "en"},
		"es-mx": {"es-mx", "es", "en"},
		"qug":   {"qug", "qu", "es", "en"},
		"en":    {"en"},
		"xx":    {"xx", "en"},
	} {
		if got := Chain(lang); !slices.Equal(got, want) {
			t.Errorf("Chain(%q) = %q, want %q", lang, got, want)
		}
	}
	c, err := LoadFS(fstest.MapFS{
		"en.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|day|days}}","only-en":"English"}`)},
		"de.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|Tag|Tage}}"}`)},
		"ru.json": {Data: []byte(`{"k":"$1 {{PLURAL:$1|день|дня|дней}}"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, key, want string }{
		{"gsw", "k", "2 Tage"}, {"de-ch", "k", "2 Tage"}, {"bar", "k", "2 Tage"},
		{"gsw", "only-en", "English"}, {"uk", "k", "2 дня"}, {"es", "k", "2 days"},
	} {
		if got := c.Text(tc.lang, tc.key, 2); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
}
