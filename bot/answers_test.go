package bot

import (
	"reflect"
	"testing"
)

func TestParseYesNo(t *testing.T) {
	cases := []struct {
		in      string
		yes, ok bool
	}{
		{"yes", true, true}, {"Y", true, true}, {"YES!", true, true}, {"yeah", true, true},
		{"Yes, he threatened me", true, true}, {" ja ", true, true}, {"👍", true, true},
		{"no", false, true}, {"N", false, true}, {"No.", false, true}, {"nope", false, true},
		{"no thanks", false, true}, {"Nein", false, true},
		{"", false, false}, {"maybe", false, false}, {"yes and no", false, false},
		{"not sure", false, false}, {"I don't know", false, false}, {"okay", false, false},
		{"no, yes", false, false},
	}
	for _, tc := range cases {
		yes, ok := ParseYesNo(tc.in)
		if yes != tc.yes || ok != tc.ok {
			t.Errorf("ParseYesNo(%q) = %v, %v; want %v, %v", tc.in, yes, ok, tc.yes, tc.ok)
		}
	}
}

func TestNormalizeUsername(t *testing.T) {
	cases := []struct {
		in, want string
		valid    bool
	}{
		{"example_user", "Example user", true},
		{"  User:some__one  ", "Some one", true},
		{"user: ärger", "Ärger", true},
		{"@Troll", "Troll", true},
		{"ßtraße", "ßtraße", true}, // MediaWiki leaves ß alone; unicode.ToUpper does too
		{"bad#name", "", false},
		{"a<b", "", false},
		{"[[Link]]", "", false},
		{"x\x00y", "", false},
	}
	for _, tc := range cases {
		got, valid := NormalizeUsername(tc.in)
		if got != tc.want || valid != tc.valid {
			t.Errorf("NormalizeUsername(%q) = %q, %v; want %q, %v", tc.in, got, valid, tc.want, tc.valid)
		}
	}
}

func TestParseParties(t *testing.T) {
	got, ok := ParseParties("troll_one, User:Troll one; second\nthird_person")
	want := []string{"Troll one", "Second", "Third person"}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, %v; want %q", got, ok, want)
	}
	none, ok := ParseParties("None")
	if !ok || none == nil || len(none) != 0 {
		t.Errorf("none: got %#v, %v; want an empty non-nil list", none, ok)
	}
	if _, ok := ParseParties("a{b}"); ok {
		t.Error("a forbidden character was accepted")
	}
	if _, ok := ParseParties(" , ,"); ok {
		t.Error("an empty list was accepted")
	}
	many := ""
	for i := range 25 {
		many += string(rune('A'+i)) + "x,"
	}
	if _, ok := ParseParties(many); ok {
		t.Error("more than maxParties names were accepted")
	}
}

func TestParseLanguage(t *testing.T) {
	for in, want := range map[string]string{"English": "en", "deutsch": "de", "de": "de", "ES.": "es", "Français": "fr", "fil": "fil"} {
		if got, ok := ParseLanguage(in); !ok || got != want {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "klingonish", "d3", "a"} {
		if _, ok := ParseLanguage(in); ok {
			t.Errorf("ParseLanguage(%q) accepted", in)
		}
	}
}

func TestNewRef(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		r := NewRef()
		if len(r) != 8 || r[:3] != RefPrefix || NormalizeRef(r[3:]) != r {
			t.Fatalf("bad reference %q", r)
		}
		seen[r] = true
	}
	if len(seen) < 990 {
		t.Errorf("references repeat too often: %d distinct of 1000", len(seen))
	}
}
