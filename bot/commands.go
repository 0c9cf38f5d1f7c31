package bot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/commands"
)

// The command table: every command anyone can give the bot, who may give it, where,
// with which arguments, and its handler. dispatch (below) is the one path from a
// typed line to a handler; handlers never re-check what their entry declares.

// Argument kinds of the core's own.
var (
	// RefArg is a case reference as people type it ("sb-k7q3m", "K7Q3M"), normalised.
	RefArg = commands.NewKind("reference", func(w string) (any, bool) {
		ref := NormalizeRef(w)
		return ref, looksLikeRef(ref)
	})
	// RefOrTargetArg is a case reference, or a person (@user:server, irc:account).
	RefOrTargetArg = commands.NewKind("reference-or-target", func(w string) (any, bool) {
		if _, _, ok := parseTarget(w); ok {
			return w, true
		}
		ref := NormalizeRef(w)
		return ref, looksLikeRef(ref)
	})
)

// closeReasons are the ways a case can end.
var closeReasons = []string{"resolved", "no-action", "referred", "duplicate"}

// Bounds of the volunteer's settings: a single !on lasts at most a day, so nobody is
// offered cases while asleep because they forgot to switch off.
const (
	defaultOn = 8 * time.Hour
	maxOn     = 24 * time.Hour
	maxLimit  = 10
)

// Shorthands for the table.
const (
	anyone      = commands.Anyone
	requester   = commands.Requester
	volunteer   = commands.Volunteer
	staff       = commands.Staff
	worker      = commands.Worker
	everyPlace  = commands.DM | commands.StaffRoom | commands.CoordinatorsRoom | commands.VolunteersRoom | commands.CaseRoom
	staffPlaces = commands.DM | commands.StaffRoom
)

type command = commands.Command[*turn]

var commandTable commands.Table[*turn]

// Commands is the command table, for tests that walk it.
func Commands() commands.Table[*turn] { return commandTable }

func init() { commandTable = buildTable() }

func buildTable() commands.Table[*turn] {
	ref := commands.Arg{Name: "ref", Kind: RefArg}
	optRef := commands.Arg{Name: "ref", Kind: RefArg, Optional: true}
	user := commands.Arg{Name: "user", Kind: commands.MatrixID}
	target := commands.Arg{Name: "target", Kind: commands.Target}
	text := func(name string, optional bool) commands.Arg {
		return commands.Arg{Name: name, Kind: commands.Text, Optional: optional}
	}
	textName := commands.Arg{Name: "name", Kind: TextNameArg}
	lang := func(optional bool) commands.Arg { return commands.Arg{Name: "lang", Kind: LangArg, Optional: optional} }
	return commands.Table[*turn]{
		// A requester's commands, at any time in a private conversation.
		{Name: "help", Aliases: []string{"h"}, Roles: anyone, Places: everyPlace,
			HelpKey: "switchboard-help-help", Run: (*turn).cmdHelp},
		{Name: "status", Roles: requester, Places: commands.DM,
			HelpKey: "switchboard-help-status", Run: (*turn).cmdStatus},
		{Name: "cancel", Aliases: []string{"withdraw"}, Roles: requester, Places: commands.DM,
			HelpKey: "switchboard-help-cancel", Run: (*turn).cmdCancel},
		{Name: "add", Roles: requester, Places: commands.DM, Args: []commands.Arg{text("text", false)},
			HelpKey: "switchboard-help-add", UsageKey: "switchboard-add-missing", Run: (*turn).cmdAdd},
		{Name: "feedback", Aliases: []string{"comment"}, Roles: requester, Places: commands.DM, Args: []commands.Arg{text("text", false)},
			HelpKey: "switchboard-help-feedback", UsageKey: "switchboard-feedback-usage", Run: (*turn).cmdFeedback},
		{Name: "forget", Roles: requester, Places: commands.DM,
			HelpKey: "switchboard-help-forget", Run: (*turn).cmdForget},

		// A volunteer's, by direct message (and !accept in the broadcast room).
		{Name: "on", Roles: volunteer, Places: commands.DM,
			Args: []commands.Arg{{Name: "for", Kind: commands.Duration, Optional: true, Lead: "for",
				MinDuration: time.Minute, MaxDuration: maxOn}},
			HelpKey: "switchboard-help-on", UsageKey: "switchboard-on-usage", Run: (*turn).cmdOn},
		{Name: "off", Roles: volunteer, Places: commands.DM, HelpKey: "switchboard-help-off", Run: (*turn).cmdOff},
		{Name: "shift", Aliases: []string{"shifts"}, Roles: volunteer, Places: commands.DM,
			HelpKey: "switchboard-help-shift", UsageKey: "switchboard-shift-usage", Sub: []*command{
				{Name: "list", Run: (*turn).cmdShiftList},
				{Name: "add", Args: []commands.Arg{{Name: "day", Kind: commands.Word}, {Name: "hours", Kind: commands.Word},
					{Name: "zone", Kind: commands.Word}}, Run: (*turn).cmdShiftAdd},
				{Name: "remove", Aliases: []string{"rm", "delete"}, Args: []commands.Arg{{Name: "n", Kind: commands.Number, Min: 1}},
					Run: (*turn).cmdShiftRemove},
			}},
		{Name: "languages", Aliases: []string{"language", "lang"}, Roles: volunteer, Places: commands.DM,
			Args:    []commands.Arg{{Name: "codes", Kind: commands.Words}},
			HelpKey: "switchboard-help-languages", UsageKey: "switchboard-languages-usage", Run: (*turn).cmdLanguages},
		{Name: "limit", Roles: volunteer, Places: commands.DM,
			Args:    []commands.Arg{{Name: "n", Kind: commands.Number, Min: 1, Max: maxLimit}},
			HelpKey: "switchboard-help-limit", UsageKey: "switchboard-limit-usage", Run: (*turn).cmdLimit},
		{Name: "conflict", Aliases: []string{"conflicts"}, Roles: volunteer, Places: commands.DM,
			HelpKey: "switchboard-help-conflict", UsageKey: "switchboard-conflict-usage", Sub: []*command{
				{Name: "list", Run: (*turn).cmdConflictList},
				{Name: "add", Args: []commands.Arg{text("name", false)}, Run: (*turn).cmdConflictAdd},
				{Name: "remove", Args: []commands.Arg{text("name", false)}, Run: (*turn).cmdConflictRemove},
			}},
		{Name: "me", Roles: volunteer, Places: commands.DM, HelpKey: "switchboard-help-me", Run: (*turn).cmdMe},
		{Name: "wikiname", Aliases: []string{"wiki"}, Roles: volunteer, Places: commands.DM, Args: []commands.Arg{text("name", false)},
			HelpKey: "switchboard-help-wikiname", UsageKey: "switchboard-wikiname-usage", Run: (*turn).cmdWikiName},
		{Name: "accept", Roles: volunteer, Places: commands.DM | commands.VolunteersRoom, Args: []commands.Arg{optRef},
			HelpKey: "switchboard-help-accept", UsageKey: "switchboard-accept-usage", Run: (*turn).cmdAccept},
		{Name: "decline", Roles: volunteer, Places: commands.DM, Args: []commands.Arg{optRef},
			HelpKey: "switchboard-help-decline", UsageKey: "switchboard-decline-usage", Run: (*turn).cmdDecline},

		// Staff's, in the staff room or by direct message.
		{Name: "volunteer", Aliases: []string{"vol"}, Roles: staff, Places: staffPlaces,
			HelpKey: "switchboard-help-volunteer", UsageKey: "switchboard-volunteer-usage", Sub: []*command{
				{Name: "list", Run: (*turn).cmdRosterList},
				{Name: "add", Args: []commands.Arg{user, text("wiki", true)}, Run: (*turn).cmdRosterAdd},
				{Name: "show", Args: []commands.Arg{user}, Run: (*turn).cmdRosterShow},
				{Name: "confirm", Args: []commands.Arg{user}, Run: (*turn).cmdRosterConfirm},
				{Name: "promote", Args: []commands.Arg{user}, Run: (*turn).cmdRosterPromote},
				{Name: "suspend", Args: []commands.Arg{user, text("reason", true)}, Run: (*turn).cmdRosterSuspend},
				{Name: "remove", Args: []commands.Arg{user}, Run: (*turn).cmdRosterRemove},
				{Name: "mentor", Args: []commands.Arg{user, {Name: "mentor", Kind: commands.MatrixID}}, Run: (*turn).cmdRosterMentor},
				{Name: "wiki", Args: []commands.Arg{user, text("name", false)}, Run: (*turn).cmdRosterWiki},
			}},
		{Name: "ack", Roles: staff, Places: staffPlaces, Args: []commands.Arg{ref},
			HelpKey: "switchboard-help-ack", UsageKey: "switchboard-ack-usage", Run: (*turn).cmdAck},
		{Name: "trust", Roles: staff, Places: staffPlaces, Args: []commands.Arg{user},
			HelpKey: "switchboard-help-trust", UsageKey: "switchboard-trust-usage", Run: (*turn).cmdTrust},
		{Name: "reopen", Roles: staff, Places: staffPlaces, Args: []commands.Arg{ref},
			HelpKey: "switchboard-help-reopen", UsageKey: "switchboard-reopen-usage", Run: (*turn).cmdReopen},
		{Name: "block", Roles: staff, Places: staffPlaces,
			Args:    []commands.Arg{target, {Name: "for", Kind: commands.Duration, Optional: true}, text("reason", true)},
			HelpKey: "switchboard-help-block", UsageKey: "switchboard-block-usage", Run: (*turn).cmdBlock},
		{Name: "unblock", Roles: staff, Places: staffPlaces, Args: []commands.Arg{target},
			HelpKey: "switchboard-help-unblock", UsageKey: "switchboard-block-usage", Run: (*turn).cmdUnblock},
		{Name: "blocks", Roles: staff, Places: staffPlaces, HelpKey: "switchboard-help-blocks", Run: (*turn).cmdBlocks},
		{Name: "audit", Roles: staff, Places: staffPlaces, Args: []commands.Arg{{Name: "of", Kind: RefOrTargetArg}},
			HelpKey: "switchboard-help-audit", UsageKey: "switchboard-audit-usage", Run: (*turn).cmdAudit},
		// The library of text modules: in the staff room only, where every change is seen.
		{Name: "text", Aliases: []string{"texts"}, Roles: staff, Places: commands.StaffRoom,
			HelpKey: "switchboard-help-text", UsageKey: "switchboard-text-usage", Sub: []*command{
				{Name: "list", Run: (*turn).cmdTextList},
				{Name: "show", Args: []commands.Arg{textName, lang(true)}, Run: (*turn).cmdTextShow},
				{Name: "add", Args: []commands.Arg{textName, lang(false), text("text", false)}, Run: (*turn).cmdTextAdd},
				{Name: "edit", Args: []commands.Arg{textName, lang(false), text("text", false)}, Run: (*turn).cmdTextEdit},
				{Name: "remove", Aliases: []string{"rm", "delete"}, Args: []commands.Arg{textName, lang(true)}, Run: (*turn).cmdTextRemove},
			}},

		// Coordinators' (and staff's), in the coordinators' room.
		{Name: "queue", Roles: commands.Coordinator | staff, Places: commands.CoordinatorsRoom,
			HelpKey: "switchboard-help-queue", Run: (*turn).cmdQueue},
		{Name: "coverage", Roles: commands.Coordinator | staff, Places: commands.CoordinatorsRoom,
			HelpKey: "switchboard-help-coverage", Run: (*turn).cmdCoverage},
		{Name: "stats", Roles: commands.Coordinator | staff, Places: commands.CoordinatorsRoom,
			Args:    []commands.Arg{{Name: "period", Kind: commands.Choice, Optional: true, Choices: []string{"7d", "30d"}}},
			HelpKey: "switchboard-help-stats", UsageKey: "switchboard-stats-usage", Run: (*turn).cmdStats},

		// Whoever works a case, in its room.
		{Name: "close", Roles: worker, Places: commands.CaseRoom,
			Args:    []commands.Arg{{Name: "reason", Kind: commands.Choice, Choices: closeReasons}, text("note", true)},
			HelpKey: "switchboard-help-close", UsageKey: "switchboard-close-usage", Run: (*turn).cmdClose},
		{Name: "transfer", Roles: worker, Places: commands.CaseRoom, Args: []commands.Arg{text("to", true)},
			HelpKey: "switchboard-help-transfer", Run: (*turn).cmdTransfer},
		{Name: "note", Roles: worker, Places: commands.CaseRoom, Args: []commands.Arg{text("text", false)},
			HelpKey: "switchboard-help-note", UsageKey: "switchboard-note-usage", Run: (*turn).cmdNote},
		{Name: "escalate", Roles: worker, Places: commands.CaseRoom,
			HelpKey: "switchboard-help-escalate", Run: (*turn).cmdEscalate},
		{Name: "reveal", Roles: worker, Places: commands.CaseRoom,
			HelpKey: "switchboard-help-reveal", Run: (*turn).cmdReveal},
		{Name: "text", Aliases: []string{"texts"}, Roles: worker, Places: commands.CaseRoom,
			Args:    []commands.Arg{{Name: "name", Kind: TextNameArg, Optional: true}},
			HelpKey: "switchboard-help-text-post", UsageKey: "switchboard-text-post-usage", Run: (*turn).cmdTextPost},
	}
}

// looksLikeRef reports whether a normalised reference has the shape of one, so a
// stray word is answered with the command's usage instead of "no such case".
func looksLikeRef(ref string) bool {
	code := strings.TrimPrefix(ref, RefPrefix)
	if code == "" || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// caller is who gives a command and where, as the table sees them, with what the core
// found out while working it out.
type caller struct {
	commands.Caller
	// vol is the sender's volunteer record when they are a confirmed volunteer.
	vol *Volunteer
	// room is the case whose room the command was given in; worker the volunteer (or
	// mentor) working it, if that is the sender.
	room   *Case
	worker *Volunteer
}

// dispatch runs a command line for the caller. isCommand is false for an ordinary
// message, which the caller's place handles itself. Every refusal is answered: an
// unknown command, one of another role or place (answered alike, so nobody learns from
// an error what others can do; in a case room, where everyone present knows the case,
// the answer says whose it is), or wrong arguments (the command's usage).
func (t *turn) dispatch(who caller, text string) (isCommand bool, err error) {
	t.caller = who
	call, err := commandTable.Parse(text, who.Caller)
	var unknown *commands.UnknownError
	var usage *commands.UsageError
	switch {
	case err == nil:
		if needsTrustedDevice(call.Cmd.Roles) && !t.trusted() {
			return true, t.refuseUntrusted()
		}
		if err := call.Run(t); err != nil {
			return true, fmt.Errorf("%s%s: %w", commands.Prefix, call.Cmd.Name, err)
		}
		return true, nil
	case errors.Is(err, commands.ErrNotCommand):
		return false, nil
	case errors.As(err, &unknown):
		if unknown.Denied && who.Place == commands.CaseRoom {
			return true, t.reply(say("switchboard-case-not-yours"))
		}
		return true, t.reply(say("switchboard-unknown-command", commands.Prefix+unknown.Name))
	case errors.As(err, &usage):
		return true, t.reply(say(usage.Key))
	}
	return true, err
}

// cmdHelp lists what the caller can use where they are.
func (t *turn) cmdHelp(commands.Args) error {
	visible := commandTable.Visible(t.caller.Caller)
	items := make([]Reply, 0, len(visible))
	for _, c := range visible {
		items = append(items, say(c.HelpKey))
	}
	return t.replyList(say("switchboard-help"), items)
}
