package bot

import "testing"

func TestNameKey(t *testing.T) {
	same := [][]string{
		{"Émile", "E\u0301mile", "ÉMILE", "émile", "User:Émile", "Émile\u200e", "\u202aÉmile\u202c"},
		{"Иван", "иван", "ИВАН", "Ива\u200bн"},
		{"Example editor", "Example_editor", "example  Editor", "EXAMPLE EDITOR"},
		{"Straße", "STRASSE", "strasse"},
	}
	for _, group := range same {
		want := NameKey(group[0])
		if want == "" {
			t.Fatalf("%q has no key", group[0])
		}
		for _, n := range group[1:] {
			if got := NameKey(n); got != want {
				t.Errorf("%q: key %q, want %q (the key of %q)", n, got, want, group[0])
			}
		}
	}
	for _, pair := range [][2]string{{"Ivan", "Иван"}, {"Emile", "Émile"}, {"A", "B"}} {
		if NameKey(pair[0]) == NameKey(pair[1]) {
			t.Errorf("%q and %q share a key", pair[0], pair[1])
		}
	}
	for _, bad := range []string{"", "   ", "a|b", "\u200e"} {
		if k := NameKey(bad); k != "" {
			t.Errorf("%q has key %q", bad, k)
		}
	}
	// A key is its own key: comparing keys of keys changes nothing.
	for _, n := range []string{"Émile", "Иван", "Straße"} {
		if k := NameKey(n); NameKey(k) != k {
			t.Errorf("the key of %q is not stable: %q -> %q", n, k, NameKey(k))
		}
	}
}
