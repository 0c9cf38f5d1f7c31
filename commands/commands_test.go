package commands

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// ctx records which handler ran with which arguments.
type ctx struct {
	ran  string
	args Args
}

func handler(name string) func(*ctx, Args) error {
	return func(c *ctx, a Args) error { c.ran, c.args = name, a; return nil }
}

var testTable = Table[*ctx]{
	{Name: "help", Aliases: []string{"h"}, Roles: Anyone, Places: DM | StaffRoom | CaseRoom, HelpKey: "k-help", Run: handler("help")},
	{Name: "add", Roles: Requester, Places: DM, Args: []Arg{{Name: "text", Kind: Text}},
		HelpKey: "k-add", UsageKey: "k-add-usage", Run: handler("add")},
	{Name: "on", Roles: Volunteer, Places: DM,
		Args:    []Arg{{Name: "for", Kind: Duration, Optional: true, Lead: "for", MinDuration: time.Minute, MaxDuration: 24 * time.Hour}},
		HelpKey: "k-on", UsageKey: "k-on-usage", Run: handler("on")},
	{Name: "limit", Roles: Volunteer, Places: DM, Args: []Arg{{Name: "n", Kind: Number, Min: 1, Max: 10}},
		HelpKey: "k-limit", UsageKey: "k-limit-usage", Run: handler("limit")},
	{Name: "languages", Roles: Volunteer, Places: DM, Args: []Arg{{Name: "codes", Kind: Words}},
		HelpKey: "k-lang", UsageKey: "k-lang-usage", Run: handler("languages")},
	{Name: "block", Roles: Staff, Places: DM | StaffRoom,
		Args:    []Arg{{Name: "target", Kind: Target}, {Name: "for", Kind: Duration, Optional: true}, {Name: "reason", Kind: Text, Optional: true}},
		HelpKey: "k-block", UsageKey: "k-block-usage", Run: handler("block")},
	{Name: "volunteer", Aliases: []string{"vol"}, Roles: Staff, Places: DM | StaffRoom, HelpKey: "k-vol", UsageKey: "k-vol-usage",
		Sub: []*Command[*ctx]{
			{Name: "list", Run: handler("vol list")},
			{Name: "mentor", Args: []Arg{{Name: "user", Kind: MatrixID}, {Name: "mentor", Kind: MatrixID}}, Run: handler("vol mentor")},
			{Name: "remove", Aliases: []string{"rm"}, Args: []Arg{{Name: "n", Kind: Number, Min: 1}}, UsageKey: "k-rm-usage", Run: handler("vol remove")},
		}},
	{Name: "close", Roles: Worker, Places: CaseRoom,
		Args:    []Arg{{Name: "reason", Kind: Choice, Choices: []string{"resolved", "no-action"}}, {Name: "note", Kind: Text, Optional: true}},
		HelpKey: "k-close", UsageKey: "k-close-usage", Run: handler("close")},
}

var (
	requesterDM = Caller{Roles: Anyone | Requester, Place: DM}
	volunteerDM = Caller{Roles: Anyone | Requester | Volunteer, Place: DM}
	staffDM     = Caller{Roles: Anyone | Requester | Staff, Place: DM}
	staffRoom   = Caller{Roles: Anyone | Staff, Place: StaffRoom}
	workerRoom  = Caller{Roles: Anyone | Worker, Place: CaseRoom}
	visitorRoom = Caller{Roles: Anyone, Place: CaseRoom}
)

func run(t *testing.T, who Caller, text string) (*ctx, error) {
	t.Helper()
	call, err := testTable.Parse(text, who)
	if err != nil {
		return nil, err
	}
	c := &ctx{}
	if err := call.Run(c); err != nil {
		t.Fatal(err)
	}
	return c, nil
}

func TestNotACommand(t *testing.T) {
	for _, in := range []string{"hello", "!", "!!!", "! help", "", "   ", "?help", "!he lp?"} {
		_, err := testTable.Parse(in, requesterDM)
		if in == "!he lp?" {
			// "he" is a word: an unknown command, not ordinary text.
			var unk *UnknownError
			if !errors.As(err, &unk) || unk.Name != "he" {
				t.Errorf("%q: want unknown he, got %v", in, err)
			}
			continue
		}
		if !errors.Is(err, ErrNotCommand) {
			t.Errorf("%q: want ErrNotCommand, got %v", in, err)
		}
	}
}

func TestNameAliasAndCase(t *testing.T) {
	for _, in := range []string{"!help", "  !H  ", "!HELP"} {
		if c, err := run(t, requesterDM, in); err != nil || c.ran != "help" {
			t.Errorf("%q: got %v, %v", in, c, err)
		}
	}
}

// A command of another role or place is refused like an unknown one; Denied tells the
// two apart only for places that answer differently.
func TestRoleAndPlace(t *testing.T) {
	cases := []struct {
		who    Caller
		in     string
		denied bool
		ok     string
	}{
		{requesterDM, "!frob", false, ""},
		{requesterDM, "!on", true, ""},                  // a volunteer's command
		{requesterDM, "!volunteer list", true, ""},      // staff's
		{volunteerDM, "!volunteer list", true, ""},      // still staff's
		{requesterDM, "!close resolved", false, ""},     // exists, but not in a DM
		{staffRoom, "!add something", false, ""},        // a DM command, in the staff room
		{visitorRoom, "!close resolved", true, ""},      // in the room, but not working the case
		{volunteerDM, "!on", false, "on"},               // allowed
		{staffRoom, "!vol list", false, "vol list"},     // alias, allowed
		{workerRoom, "!close resolved", false, "close"}, // allowed
	}
	for _, tc := range cases {
		c, err := run(t, tc.who, tc.in)
		if tc.ok != "" {
			if err != nil || c.ran != tc.ok {
				t.Errorf("%v %q: want %s to run, got %v", tc.who, tc.in, tc.ok, err)
			}
			continue
		}
		var unk *UnknownError
		if !errors.As(err, &unk) || unk.Denied != tc.denied {
			t.Errorf("%v %q: want unknown (denied %v), got %v", tc.who, tc.in, tc.denied, err)
		}
	}
}

func TestArguments(t *testing.T) {
	cases := []struct {
		who   Caller
		in    string
		usage string // the usage key, or "" when it must run
		check func(Args) bool
	}{
		{requesterDM, "!add they wrote again\nat night", "", func(a Args) bool { return a.String("text") == "they wrote again\nat night" }},
		{requesterDM, "!add   ", "k-add-usage", nil},
		{volunteerDM, "!on", "", func(a Args) bool { return !a.Has("for") }},
		{volunteerDM, "!on 2h", "", func(a Args) bool { return a.Duration("for") == 2*time.Hour }},
		{volunteerDM, "!on for 90m", "", func(a Args) bool { return a.Duration("for") == 90*time.Minute }},
		{volunteerDM, "!on for 2d", "k-on-usage", nil}, // over the maximum
		{volunteerDM, "!on 30s", "k-on-usage", nil},    // under the minimum
		{volunteerDM, "!on soon", "k-on-usage", nil},
		{volunteerDM, "!limit 3", "", func(a Args) bool { return a.Int("n") == 3 }},
		{volunteerDM, "!limit 0", "k-limit-usage", nil},
		{volunteerDM, "!limit 11", "k-limit-usage", nil},
		{volunteerDM, "!limit three", "k-limit-usage", nil},
		{volunteerDM, "!limit", "k-limit-usage", nil},
		{volunteerDM, "!languages de  en", "", func(a Args) bool { return reflect.DeepEqual(a.Strings("codes"), []string{"de", "en"}) }},
		{volunteerDM, "!languages", "k-lang-usage", nil},
		{staffDM, "!block @m:server", "", func(a Args) bool { return a.String("target") == "@m:server" && !a.Has("for") && !a.Has("reason") }},
		{staffDM, "!block irc:mallory 30d flooding", "", func(a Args) bool {
			return a.String("target") == "irc:mallory" && a.Duration("for") == 30*24*time.Hour && a.String("reason") == "flooding"
		}},
		// An optional duration that is not one starts the reason instead.
		{staffDM, "!block @m:server spam  all day", "", func(a Args) bool { return !a.Has("for") && a.String("reason") == "spam  all day" }},
		{staffDM, "!block mallory", "k-block-usage", nil},
		{staffDM, "!block", "k-block-usage", nil},
		{staffRoom, "!volunteer", "k-vol-usage", nil},
		{staffRoom, "!volunteer frob", "k-vol-usage", nil},
		{staffRoom, "!volunteer mentor @a:s", "k-vol-usage", nil},
		{staffRoom, "!volunteer mentor @a:s b", "k-vol-usage", nil},
		{staffRoom, "!volunteer MENTOR @a:s @b:s", "", func(a Args) bool { return a.String("user") == "@a:s" && a.String("mentor") == "@b:s" }},
		{staffRoom, "!volunteer rm 0", "k-rm-usage", nil}, // a subcommand's own usage
		{staffRoom, "!volunteer rm 2", "", func(a Args) bool { return a.Int("n") == 2 }},
		{workerRoom, "!close Resolved talked it through\nthanks", "", func(a Args) bool {
			return a.String("reason") == "resolved" && a.String("note") == "talked it through\nthanks"
		}},
		{workerRoom, "!close fixed", "k-close-usage", nil},
	}
	for _, tc := range cases {
		call, err := testTable.Parse(tc.in, tc.who)
		if tc.usage != "" {
			var u *UsageError
			if !errors.As(err, &u) || u.Key != tc.usage {
				t.Errorf("%q: want usage %s, got %v", tc.in, tc.usage, err)
			}
			continue
		}
		if err != nil || !tc.check(call.Args) {
			t.Errorf("%q: got %+v, %v", tc.in, call.Args, err)
		}
	}
}

func TestVisible(t *testing.T) {
	names := func(who Caller) []string {
		var out []string
		for _, c := range testTable.Visible(who) {
			out = append(out, c.Name)
		}
		return out
	}
	for _, tc := range []struct {
		who  Caller
		want []string
	}{
		{requesterDM, []string{"help", "add"}},
		{volunteerDM, []string{"help", "add", "on", "limit", "languages"}},
		{staffRoom, []string{"help", "block", "volunteer"}},
		{visitorRoom, []string{"help"}},
		{workerRoom, []string{"help", "close"}},
	} {
		if got := names(tc.who); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: help shows %v, want %v", tc.who, got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90m": 90 * time.Minute, "12h": 12 * time.Hour, "30d": 720 * time.Hour, "1H": time.Hour} {
		if d, ok := ParseDuration(in); !ok || d != want {
			t.Errorf("%q: got %v %v", in, d, ok)
		}
	}
	for _, in := range []string{"", "0d", "-1h", "d", "soon", "5"} {
		if _, ok := ParseDuration(in); ok {
			t.Errorf("%q: accepted", in)
		}
	}
}
