// Package commands parses the !commands people send and holds the table of commands
// per role, with their help texts (catalogue keys). Handlers live with the state they
// change (package bot); this package is pure parsing and description, so every bridge
// and every role share one definition of what a command is.
package commands

import (
	"errors"
	"strings"
	"unicode"
)

// Role is who may run a command.
type Role string

const (
	Requester   Role = "requester"
	Volunteer   Role = "volunteer"
	Coordinator Role = "coordinator"
	Staff       Role = "staff"
)

// Command describes one command.
type Command struct {
	Name    string
	Aliases []string
	Roles   []Role
	// MinArgs is how many words must follow the name; ArgsKey names them in errors.
	MinArgs int
	ArgsKey string
	HelpKey string
}

// Invocation is a parsed command line.
type Invocation struct {
	Cmd  *Command
	Args []string
	// Rest is everything after the name, as typed (for free text like !add).
	Rest string
}

// Prefix starts every command.
const Prefix = "!"

var (
	// ErrNotCommand: the text is an ordinary message.
	ErrNotCommand = errors.New("not a command")
)

// UnknownError is a command name nobody defined.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string { return "unknown command " + e.Name }

// MissingArgError is a known command without the arguments it needs.
type MissingArgError struct{ Cmd *Command }

func (e *MissingArgError) Error() string { return "missing argument for " + e.Cmd.Name }

// Table is the set of commands one role can reach.
type Table []*Command

// Lookup finds a command by name or alias, case-insensitively.
func (t Table) Lookup(name string) *Command {
	name = strings.ToLower(name)
	for _, c := range t {
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

// Parse reads "!name args…". Text not starting with the prefix is ErrNotCommand, as
// is a lone "!" or "!!!" (emphasis, not a command).
func (t Table) Parse(text string) (Invocation, error) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, Prefix) {
		return Invocation{}, ErrNotCommand
	}
	body := text[len(Prefix):]
	nameEnd := strings.IndexFunc(body, unicode.IsSpace)
	name, rest := body, ""
	if nameEnd >= 0 {
		name, rest = body[:nameEnd], strings.TrimSpace(body[nameEnd:])
	}
	if name == "" || !isWord(name) {
		return Invocation{}, ErrNotCommand
	}
	cmd := t.Lookup(name)
	if cmd == nil {
		return Invocation{}, &UnknownError{Name: strings.ToLower(name)}
	}
	args := strings.Fields(rest)
	if len(args) < cmd.MinArgs {
		return Invocation{}, &MissingArgError{Cmd: cmd}
	}
	return Invocation{Cmd: cmd, Args: args, Rest: rest}, nil
}

func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// The requester's commands, available at any time in a private conversation.
var (
	Help   = &Command{Name: "help", Aliases: []string{"h"}, Roles: []Role{Requester}, HelpKey: "switchboard-help-help"}
	Status = &Command{Name: "status", Roles: []Role{Requester}, HelpKey: "switchboard-help-status"}
	Cancel = &Command{Name: "cancel", Aliases: []string{"withdraw"}, Roles: []Role{Requester}, HelpKey: "switchboard-help-cancel"}
	Add    = &Command{Name: "add", Roles: []Role{Requester}, MinArgs: 1, ArgsKey: "switchboard-add-missing", HelpKey: "switchboard-help-add"}
)

// RequesterTable is what a person asking for help can use.
var RequesterTable = Table{Help, Status, Cancel, Add}

// Volunteer commands, by direct message to the bot.
var (
	On        = &Command{Name: "on", Roles: []Role{Volunteer}, HelpKey: "switchboard-help-on"}
	Off       = &Command{Name: "off", Roles: []Role{Volunteer}, HelpKey: "switchboard-help-off"}
	ShiftCmd  = &Command{Name: "shift", Aliases: []string{"shifts"}, Roles: []Role{Volunteer}, MinArgs: 1, ArgsKey: "switchboard-shift-usage", HelpKey: "switchboard-help-shift"}
	Languages = &Command{Name: "languages", Aliases: []string{"language", "lang"}, Roles: []Role{Volunteer}, MinArgs: 1, ArgsKey: "switchboard-languages-usage", HelpKey: "switchboard-help-languages"}
	Limit     = &Command{Name: "limit", Roles: []Role{Volunteer}, MinArgs: 1, ArgsKey: "switchboard-limit-usage", HelpKey: "switchboard-help-limit"}
	Conflict  = &Command{Name: "conflict", Aliases: []string{"conflicts"}, Roles: []Role{Volunteer}, MinArgs: 1, ArgsKey: "switchboard-conflict-usage", HelpKey: "switchboard-help-conflict"}
	Me        = &Command{Name: "me", Roles: []Role{Volunteer}, HelpKey: "switchboard-help-me"}
	Accept    = &Command{Name: "accept", Roles: []Role{Volunteer}, HelpKey: "switchboard-help-accept"}
	Decline   = &Command{Name: "decline", Roles: []Role{Volunteer}, HelpKey: "switchboard-help-decline"}
)

// VolunteerTable is what a confirmed volunteer can use in a direct message.
var VolunteerTable = Table{On, Off, ShiftCmd, Languages, Limit, Conflict, Me, Accept, Decline}

// Staff commands, in the staff room or by direct message from a staff member.
var (
	VolunteerCmd = &Command{Name: "volunteer", Aliases: []string{"vol"}, Roles: []Role{Staff}, MinArgs: 1, ArgsKey: "switchboard-volunteer-usage", HelpKey: "switchboard-help-volunteer"}
)

// StaffTable is what staff can use.
var StaffTable = Table{VolunteerCmd}

// Merge joins tables; on a name used twice the first table wins.
func Merge(tables ...Table) Table {
	var out Table
	seen := map[*Command]bool{}
	for _, t := range tables {
		for _, c := range t {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// Case-room commands, for the volunteer (or mentor) working the case, in its room.
var (
	Close    = &Command{Name: "close", Roles: []Role{Volunteer, Staff}, MinArgs: 1, ArgsKey: "switchboard-close-usage", HelpKey: "switchboard-help-close"}
	Transfer = &Command{Name: "transfer", Roles: []Role{Volunteer, Staff}, HelpKey: "switchboard-help-transfer"}
	Note     = &Command{Name: "note", Roles: []Role{Volunteer, Staff}, MinArgs: 1, ArgsKey: "switchboard-note-usage", HelpKey: "switchboard-help-note"}
	Escalate = &Command{Name: "escalate", Roles: []Role{Volunteer}, HelpKey: "switchboard-help-escalate"}
)

// CaseRoomTable is what can be used in a case room.
var CaseRoomTable = Table{Close, Transfer, Note, Escalate, Help}

// Coordinator commands, in the coordinators' room.
var (
	Queue       = &Command{Name: "queue", Roles: []Role{Coordinator, Staff}, HelpKey: "switchboard-help-queue"}
	CoverageCmd = &Command{Name: "coverage", Roles: []Role{Coordinator, Staff}, HelpKey: "switchboard-help-coverage"}
	StatsCmd    = &Command{Name: "stats", Roles: []Role{Coordinator, Staff}, HelpKey: "switchboard-help-stats"}
)

// CoordinatorTable is what coordinators can use in their room.
var CoordinatorTable = Table{Queue, CoverageCmd, StatsCmd, Help}

// More staff commands (issue 4): acknowledging pages, blocking abusers, the audit log.
var (
	Ack     = &Command{Name: "ack", Roles: []Role{Staff}, MinArgs: 1, ArgsKey: "switchboard-ack-usage", HelpKey: "switchboard-help-ack"}
	Block   = &Command{Name: "block", Roles: []Role{Staff}, MinArgs: 1, ArgsKey: "switchboard-block-usage", HelpKey: "switchboard-help-block"}
	Unblock = &Command{Name: "unblock", Roles: []Role{Staff}, MinArgs: 1, ArgsKey: "switchboard-block-usage", HelpKey: "switchboard-help-unblock"}
	Blocks  = &Command{Name: "blocks", Roles: []Role{Staff}, HelpKey: "switchboard-help-blocks"}
	Audit   = &Command{Name: "audit", Roles: []Role{Staff}, MinArgs: 1, ArgsKey: "switchboard-audit-usage", HelpKey: "switchboard-help-audit"}
)

func init() { StaffTable = append(StaffTable, Ack, Block, Unblock, Blocks, Audit) }
