// Package commands is the machinery behind Switchboard's !commands: a declarative
// table whose entries say who may run a command, where, with which arguments, how it
// is explained, and which handler runs it; and one dispatcher that enforces all of it.
// The table itself lives with the handlers (package bot); this package knows no
// Switchboard state, so it is tested on its own.
//
// The model is ergo's command table (one Run that checks parameters and capabilities
// before a handler is called) and mautrix bridgev2's FullHandler: a handler never
// re-checks what its entry declares.
package commands

import (
	"errors"
	"strings"
	"unicode"
)

// Prefix starts every command.
const Prefix = "!"

// Role is a set of the roles a caller has, or of the roles an entry accepts.
type Role uint8

const (
	// Anyone is every caller, wherever they write from.
	Anyone Role = 1 << iota
	// Requester is anyone writing to the bot in private.
	Requester
	// Volunteer is a confirmed volunteer (trainee or active).
	Volunteer
	Staff
	Coordinator
	// Worker is whoever works the case whose room the command is given in: its
	// volunteer or mentor, or on the staff route any staff member.
	Worker
)

// Roles lists every single role, for tests that walk the table.
var Roles = []Role{Anyone, Requester, Volunteer, Staff, Coordinator, Worker}

func (r Role) String() string {
	names := []string{"anyone", "requester", "volunteer", "staff", "coordinator", "worker"}
	var out []string
	for i, n := range names {
		if r&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, "|")
}

// Place is a set of the places a command works in.
type Place uint8

const (
	// DM is a private conversation with the bot (Matrix DM or IRC private message).
	DM Place = 1 << iota
	StaffRoom
	CoordinatorsRoom
	VolunteersRoom
	// CaseRoom is the encrypted room of one case.
	CaseRoom
)

// Places lists every single place, for tests that walk the table.
var Places = []Place{DM, StaffRoom, CoordinatorsRoom, VolunteersRoom, CaseRoom}

func (p Place) String() string {
	names := []string{"dm", "staff-room", "coordinators-room", "volunteers-room", "case-room"}
	var out []string
	for i, n := range names {
		if p&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, "|")
}

// Caller is who gives a command, and where.
type Caller struct {
	Roles Role
	Place Place
}

// Command is one entry of the table. C is the handler's context (the core's turn).
type Command[C any] struct {
	Name    string
	Aliases []string
	// Roles are the roles that may run it (any one suffices); Places where it works.
	Roles  Role
	Places Place
	// Args are its arguments, in order. Words after the last one are ignored.
	Args []Arg
	// Sub are subcommands, picked by the first word (!volunteer add …); a command with
	// subcommands has no handler of its own. A subcommand inherits the roles, places
	// and usage key of its parent unless it sets its own.
	Sub []*Command[C]
	// HelpKey is the catalogue key of its line in !help; UsageKey of the answer to
	// missing or invalid arguments.
	HelpKey  string
	UsageKey string
	Run      func(C, Args) error
}

// Table is the whole set of commands.
type Table[C any] []*Command[C]

// Call is a parsed, checked command, ready to run.
type Call[C any] struct {
	Cmd  *Command[C]
	Args Args
}

// Run calls the handler.
func (c Call[C]) Run(ctx C) error { return c.Cmd.Run(ctx, c.Args) }

var (
	// ErrNotCommand: the text is an ordinary message.
	ErrNotCommand = errors.New("not a command")
)

// UnknownError is a command the caller cannot reach here: one nobody defined, or
// one of another place. Denied says it exists here but needs a role the caller lacks;
// most places answer both alike, so that nobody learns from an error what others can do.
type UnknownError struct {
	Name   string
	Denied bool
}

func (e *UnknownError) Error() string { return "unknown command " + e.Name }

// UsageError is a known command with missing or invalid arguments.
type UsageError struct {
	Name string
	Key  string // the catalogue key of the answer
}

func (e *UsageError) Error() string { return "bad arguments for " + e.Name }

// Parse reads "!name args…" and checks it against the table for the caller: the name
// in their place, their role, then the arguments. Text not starting with the prefix is
// ErrNotCommand, as is a lone "!" or "!!!" (emphasis, not a command).
func (t Table[C]) Parse(text string, who Caller) (Call[C], error) {
	name, rest, ok := split(text)
	if !ok {
		return Call[C]{}, ErrNotCommand
	}
	cmd := t.lookup(name, who.Place)
	if cmd == nil {
		return Call[C]{}, &UnknownError{Name: name}
	}
	if cmd.Roles&who.Roles == 0 {
		return Call[C]{}, &UnknownError{Name: name, Denied: true}
	}
	usage := &UsageError{Name: cmd.Name, Key: cmd.UsageKey}
	words := tokenize(rest)
	if len(cmd.Sub) > 0 {
		if len(words) == 0 {
			return Call[C]{}, usage
		}
		sub := Table[C](cmd.Sub).lookup(strings.ToLower(words[0].text), who.Place|cmd.Places)
		if sub == nil {
			return Call[C]{}, usage
		}
		if sub.Roles != 0 && sub.Roles&who.Roles == 0 {
			return Call[C]{}, &UnknownError{Name: name, Denied: true}
		}
		if sub.UsageKey != "" {
			usage = &UsageError{Name: cmd.Name + " " + sub.Name, Key: sub.UsageKey}
		}
		cmd, words = sub, words[1:]
	}
	args, ok := bind(cmd.Args, words)
	if !ok {
		return Call[C]{}, usage
	}
	args.Rest = strings.TrimSpace(rest)
	return Call[C]{Cmd: cmd, Args: args}, nil
}

// split reads the name and the rest of a command line.
func split(text string) (name, rest string, ok bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, Prefix) {
		return "", "", false
	}
	body := text[len(Prefix):]
	name = body
	if end := strings.IndexFunc(body, unicode.IsSpace); end >= 0 {
		name, rest = body[:end], body[end:]
	}
	if name == "" || !isWord(name) {
		return "", "", false
	}
	return strings.ToLower(name), rest, true
}

func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// lookup finds the entry of a name or alias that works in place (any of its bits).
func (t Table[C]) lookup(name string, place Place) *Command[C] {
	for _, c := range t {
		if c.Places != 0 && c.Places&place == 0 {
			continue
		}
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// Visible lists the commands the caller can run where they are, in table order: what
// their !help shows.
func (t Table[C]) Visible(who Caller) []*Command[C] {
	var out []*Command[C]
	for _, c := range t {
		if c.Places&who.Place != 0 && c.Roles&who.Roles != 0 {
			out = append(out, c)
		}
	}
	return out
}
