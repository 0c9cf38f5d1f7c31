package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// keyRe matches a message key as a string literal in Go source.
var keyRe = regexp.MustCompile(`"(switchboard-[a-z0-9]+(?:-[a-z0-9]+)*)"`)

// usedKeys scans the module's non-test Go files for message keys.
func usedKeys(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".cache" || d.Name() == "node_modules" || d.Name() == "tools" || d.Name() == "testenv" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func TestEveryKeyDefinedDocumentedAndUsed(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	used := usedKeys(t)
	if len(used) < 20 {
		t.Fatalf("found only %d keys in the code; is the scan broken?", len(used))
	}
	defined := map[string]bool{}
	for _, k := range c.Keys() {
		defined[k] = true
		if _, ok := used[k]; !ok {
			t.Errorf("en.json defines %q but no code uses it", k)
		}
	}
	for k, where := range used {
		if !defined[k] {
			t.Errorf("%s uses %q, which en.json does not define", where, k)
		}
		if !c.Documented(k) {
			t.Errorf("%q is not documented in qqq.json", k)
		}
	}
	for k := range c.docs {
		if !defined[k] {
			t.Errorf("qqq.json documents %q, which en.json does not define", k)
		}
	}
}

func TestRender(t *testing.T) {
	c, err := LoadFS(fstest.MapFS{
		"en.json":  {Data: []byte(`{"@metadata":{},"k-a":"Hello **$1**, $2 {{PLURAL:$2|hour|hours}}","k-b":"only English"}`)},
		"de.json":  {Data: []byte(`{"k-a":"Hallo **$1**, $2 {{PLURAL:$2|Stunde|Stunden}}"}`)},
		"qqq.json": {Data: []byte(`{"k-a":"doc"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	plain, md := c.Render("en", "k-a", "<b>x</b>", 1)
	if plain != "Hello <b>x</b>, 1 hour" {
		t.Errorf("plain: %q", plain)
	}
	if md != `Hello **\<b\>x\<\/b\>**, 1 hour` {
		t.Errorf("markdown: %q", md)
	}
	if got := c.Text("de", "k-a", "Ana", 3); got != "Hallo Ana, 3 Stunden" {
		t.Errorf("de: %q", got)
	}
	if got := c.Text("de", "k-b"); got != "only English" {
		t.Errorf("fallback to English: %q", got)
	}
	if got := c.Text("xx", "k-a", "A", 2); got != "Hello A, 2 hours" {
		t.Errorf("unknown language: %q", got)
	}
	if got := c.Text("en", "missing"); got != "⧼missing⧽" {
		t.Errorf("missing key: %q", got)
	}
}

func TestEscapeMarkdown(t *testing.T) {
	in := "    indented code?\n- not a list\n[link](http://x) <img src=x> *em* `tick` 1. two"
	got := EscapeMarkdown(in)
	prev := rune(0)
	for _, r := range got {
		if strings.ContainsRune("-[]()<>*`.", r) && prev != '\\' {
			t.Errorf("%q is not escaped in %q", r, got)
		}
		prev = r
	}
	if strings.Contains(got, "\n ") || strings.HasPrefix(got, " ") {
		t.Errorf("leading spaces kept: %q", got)
	}
}
