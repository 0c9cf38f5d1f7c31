package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"switchboard/i18n"
)

// The core's typed names (bot/kinds.go, bot/types.go, …) whose values the store's SQL
// may spell out.
var namedTypes = map[string]bool{
	"EventKind": true, "TimerKind": true, "Action": true, "LinkKind": true, "CaseState": true,
	"Route": true, "OfferState": true, "VolunteerStatus": true, "IntakeStatus": true, "Step": true,
	"Platform": true, "TextName": true,
}

// storeOwn are names the store itself gives a column value, which the core never sees.
var storeOwn = map[string]string{
	actionMessage: "the outbox's action column for a plain message (bot.Action \"\")",
	"reason":      "the key under which the audit log's detail held a free-text reason before version 14",
	i18n.Fallback: "the language the shipped text modules are seeded in",
}

// TestSQLNamesAreDefined reads every quoted word in the store's SQL (its Go sources and
// its migrations) and fails on one that no typed constant of the core defines: a
// renamed or misspelt kind ('payed') would otherwise match nothing, silently.
func TestSQLNamesAreDefined(t *testing.T) {
	defined := coreNames(t)
	if len(defined) < 50 {
		t.Fatalf("found only %d names in package bot; the scan is broken", len(defined))
	}
	word := regexp.MustCompile(`'([a-z][a-z_]*)'`)
	check := func(where, sql string) int {
		n := 0
		for _, m := range word.FindAllStringSubmatch(sql, -1) {
			n++
			if !defined[m[1]] && storeOwn[m[1]] == "" {
				t.Errorf("%s: the SQL names '%s', which the core does not define", where, m[1])
			}
		}
		return n
	}
	seen := 0
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					seen += check(fset.Position(lit.Pos()).String(), s)
				}
			}
			return true
		})
	}
	migrations, _ := filepath.Glob("upgrades/*.sql")
	for _, f := range migrations {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var body []string
		for _, l := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				body = append(body, l)
			}
		}
		seen += check(f, strings.Join(body, "\n"))
	}
	if seen < 40 {
		t.Fatalf("only %d quoted names in the store's SQL; the scan is broken", seen)
	}
}

// coreNames collects the values of the core's string constants of the named types.
func coreNames(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../bot", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, decl := range f.Decls {
				gen, ok := decl.(*ast.GenDecl)
				if !ok || gen.Tok != token.CONST {
					continue
				}
				for _, spec := range gen.Specs {
					vs := spec.(*ast.ValueSpec)
					typ, ok := vs.Type.(*ast.Ident)
					if !ok || !namedTypes[typ.Name] {
						continue
					}
					for _, v := range vs.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							names[s] = true
						}
					}
				}
			}
		}
	}
	return names
}
