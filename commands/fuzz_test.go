package commands

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// The fuzz targets of what people type: seeds are in testdata/fuzz/<target>, and
// `make fuzz` runs each target for FUZZTIME.

// FuzzParse: whatever is typed, Parse answers with a call whose arguments fit their
// declarations, or with one of its three errors; and it reads a line the same with
// blanks around it and with the command's name in capitals.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"!help", "!on for 2h", "!block irc:x 3d spam and more", "!vol rm 3",
		"!volunteer mentor @a:b @c:d", "!close resolved  thanks\nall", "!limit 11", "!languages de fr",
		"! help", "!!!", "!add", "hello !help"} {
		f.Add(s, uint8(0xff), uint8(0))
	}
	f.Fuzz(func(t *testing.T, text string, roles, place uint8) {
		who := Caller{Roles: Role(roles) & (Anyone | Requester | Volunteer | Staff | Coordinator | Worker),
			Place: Places[int(place)%len(Places)]}
		call, err := testTable.Parse(text, who)
		checkParsed(t, text, who, call, err)

		again, err2 := testTable.Parse(" \t"+text+"\n ", who)
		if !sameOutcome(call, err, again, err2) {
			t.Errorf("%q parsed as %v, %v but with blanks around as %v, %v", text, call, err, again, err2)
		}
		if name, rest, ok := split(text); ok && isASCII(name) {
			upper := Prefix + strings.ToUpper(name) + rest
			again, err2 := testTable.Parse(upper, who)
			if !sameOutcome(call, err, again, err2) {
				t.Errorf("%q parsed as %v, %v but %q as %v, %v", text, call, err, upper, again, err2)
			}
		}
	})
}

func checkParsed(t *testing.T, text string, who Caller, call Call[*ctx], err error) {
	t.Helper()
	var unknown *UnknownError
	var usage *UsageError
	switch {
	case err == nil:
	case errors.Is(err, ErrNotCommand):
		return
	case errors.As(err, &unknown):
		if unknown.Name == "" {
			t.Errorf("%q: an unknown command without a name", text)
		}
		return
	case errors.As(err, &usage):
		if usage.Key == "" {
			t.Errorf("%q: a usage error without a catalogue key", text)
		}
		return
	default:
		t.Fatalf("%q: an error of no declared kind: %v", text, err)
	}
	if !strings.HasPrefix(strings.TrimSpace(text), Prefix) {
		t.Fatalf("%q is not a command but was parsed as !%s", text, call.Cmd.Name)
	}
	if call.Cmd == nil || call.Cmd.Run == nil {
		t.Fatalf("%q: a call without a handler", text)
	}
	if call.Cmd.Roles != 0 && call.Cmd.Roles&who.Roles == 0 {
		t.Errorf("%q: !%s ran for roles %v", text, call.Cmd.Name, who.Roles)
	}
	if call.Args.Rest != strings.TrimSpace(call.Args.Rest) {
		t.Errorf("%q: the rest %q has blanks around it", text, call.Args.Rest)
	}
	for _, a := range call.Cmd.Args {
		v, ok := call.Args.values[a.Name]
		if !ok {
			if !a.Optional {
				t.Errorf("%q: the required argument %s is missing", text, a.Name)
			}
			continue
		}
		checkValue(t, text, a, v)
	}
}

func checkValue(t *testing.T, text string, a Arg, v any) {
	t.Helper()
	bad := func(why string) { t.Errorf("%q: argument %s = %#v %s", text, a.Name, v, why) }
	switch a.Kind.Name {
	case Duration.Name:
		d := v.(time.Duration)
		if d <= 0 || a.MinDuration != 0 && d < a.MinDuration || a.MaxDuration != 0 && d > a.MaxDuration {
			bad("is out of bounds")
		}
	case Number.Name:
		n := v.(int)
		if (a.Min != 0 || a.Max != 0) && n < a.Min || a.Max != 0 && n > a.Max {
			bad("is out of bounds")
		}
	case Choice.Name:
		found := false
		for _, c := range a.Choices {
			found = found || c == v.(string)
		}
		if !found {
			bad("is not one of the choices")
		}
	case MatrixID.Name:
		if !IsMatrixID(v.(string)) {
			bad("is not a Matrix ID")
		}
	case Target.Name:
		if s := v.(string); !IsMatrixID(s) && !isIRCTarget(s) {
			bad("is not a target")
		}
	case Words.Name:
		ws := v.([]string)
		if len(ws) == 0 {
			bad("has no words")
		}
		for _, w := range ws {
			if w == "" || strings.ContainsFunc(w, unicode.IsSpace) {
				bad("has a word with blanks")
			}
		}
	case Text.Name:
		if s := v.(string); s == "" || s != strings.TrimSpace(s) {
			bad("is empty or has blanks around it")
		}
	}
}

func sameOutcome(a Call[*ctx], errA error, b Call[*ctx], errB error) bool {
	if (errA == nil) != (errB == nil) {
		return false
	}
	if errA != nil {
		return reflect.DeepEqual(errA, errB)
	}
	return a.Cmd == b.Cmd && reflect.DeepEqual(a.Args, b.Args)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzParseDuration: a duration read is positive, reads back from its own String,
// and "Nd" is exactly N times 24 hours (never a product that overflowed).
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90m", "12h", "30d", "1h30m", "0", "-5m", "1.5d", "2562047h", "106751d", "D", "1e3s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDuration(s)
		if !ok {
			if d != 0 {
				t.Errorf("%q refused with %v", s, d)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("%q read as %v", s, d)
		}
		if back, ok := ParseDuration(d.String()); !ok || back != d {
			t.Errorf("%q read as %v, whose String reads as %v, %v", s, d, back, ok)
		}
		if n, days := strings.CutSuffix(strings.ToLower(s), "d"); days {
			h, err := time.ParseDuration(n + "h")
			if err != nil || d/24 != h || d%24 != 0 {
				t.Errorf("%q read as %v, want 24 × %v (%v)", s, d, h, err)
			}
		}
		if isASCII(s) {
			if up, ok := ParseDuration(strings.ToUpper(s)); !ok || up != d {
				t.Errorf("%q read as %v, in capitals as %v, %v", s, d, up, ok)
			}
		}
	})
}
