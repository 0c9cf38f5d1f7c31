package bot

import (
	"strconv"
	"strings"
	"time"

	"switchboard/commands"
)

// maxOn bounds a single !on, so nobody is offered cases while asleep because they forgot
// to switch off.
const (
	defaultOn = 8 * time.Hour
	maxOn     = 24 * time.Hour
	maxLimit  = 10
)

// volunteerCommand runs a volunteer's command, given by direct message.
func (t *turn) volunteerCommand(v *Volunteer, inv commands.Invocation) error {
	switch inv.Cmd {
	case commands.On:
		return t.dutyOn(v, inv.Args)
	case commands.Off:
		return t.dutyOff(v)
	case commands.ShiftCmd:
		return t.shiftCommand(v, inv.Args)
	case commands.Languages:
		return t.setLanguages(v, inv.Args)
	case commands.Limit:
		n, err := strconv.Atoi(inv.Args[0])
		if err != nil || n < 1 || n > maxLimit {
			return t.reply(say("switchboard-limit-usage"))
		}
		v.CaseLimit = n
		return t.saveDuty(v, "limit_set", map[string]string{"limit": inv.Args[0]}, say("switchboard-limit-set", n))
	case commands.Conflict:
		return t.conflictCommand(v, inv.Args)
	case commands.Me:
		return t.describeVolunteer(v, "switchboard-me")
	case commands.Accept:
		return t.accept(v, inv.Args)
	case commands.Decline:
		return t.decline(v, inv.Args)
	}
	return t.reply(say("switchboard-unknown-command", commands.Prefix+inv.Cmd.Name))
}

// saveDuty stores a volunteer's change, audits it, answers, and offers waiting cases,
// since the change may make them a match.
func (t *turn) saveDuty(v *Volunteer, kind string, detail map[string]string, answer Reply) error {
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: v.UserID, Subject: v.UserID, Kind: kind, Detail: detail, At: t.now}); err != nil {
		return err
	}
	if err := t.reply(answer); err != nil {
		return err
	}
	return t.routeWaiting(routeSweep)
}

func (t *turn) dutyOn(v *Volunteer, args []string) error {
	d := defaultOn
	if len(args) > 0 {
		spec := strings.Join(args, "")
		spec = strings.TrimPrefix(strings.ToLower(spec), "for")
		var err error
		if d, err = time.ParseDuration(spec); err != nil || d < time.Minute || d > maxOn {
			return t.reply(say("switchboard-on-usage"))
		}
	}
	v.OnUntil, v.OffUntil = t.now.Add(d), time.Time{}
	until := v.OnUntil.UTC().Format("15:04 UTC")
	return t.saveDuty(v, "duty_on", map[string]string{"until": until}, say("switchboard-on-done", until))
}

func (t *turn) dutyOff(v *Volunteer) error {
	shifts, err := t.tx.Shifts(t.ctx, v.ID)
	if err != nil {
		return err
	}
	v.OnUntil = time.Time{}
	v.OffUntil = ShiftEnd(shifts, t.now) // holds through the current shift, if any
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: v.UserID, Subject: v.UserID, Kind: "duty_off", At: t.now}); err != nil {
		return err
	}
	return t.reply(say("switchboard-off-done"))
}

func (t *turn) shiftCommand(v *Volunteer, args []string) error {
	shifts, err := t.tx.Shifts(t.ctx, v.ID)
	if err != nil {
		return err
	}
	switch strings.ToLower(args[0]) {
	case "list":
		if len(shifts) == 0 {
			return t.reply(say("switchboard-shift-none"))
		}
		items := make([]Reply, len(shifts))
		for i, s := range shifts {
			items[i] = say("switchboard-shift-line", i+1, s.String())
		}
		return t.replyList(say("switchboard-shift-heading"), items)
	case "add":
		s, err := ParseShift(args[1:])
		if err != nil {
			return t.reply(say("switchboard-shift-usage"))
		}
		s.VolunteerID = v.ID
		if err := t.tx.AddShift(t.ctx, s); err != nil {
			return err
		}
		return t.saveDuty(v, "shift_added", map[string]string{"shift": s.String()}, say("switchboard-shift-added", s.String()))
	case "remove", "rm", "delete":
		n := 0
		if len(args) == 2 {
			n, _ = strconv.Atoi(args[1])
		}
		if n < 1 || n > len(shifts) {
			return t.reply(say("switchboard-shift-usage"))
		}
		s := shifts[n-1]
		if err := t.tx.DeleteShift(t.ctx, v.ID, s.ID); err != nil {
			return err
		}
		return t.saveDuty(v, "shift_removed", map[string]string{"shift": s.String()}, say("switchboard-shift-removed", s.String()))
	}
	return t.reply(say("switchboard-shift-usage"))
}

func (t *turn) setLanguages(v *Volunteer, args []string) error {
	var codes []string
	for _, a := range args {
		code, ok := ParseLanguage(a)
		if !ok {
			return t.reply(say("switchboard-languages-usage"))
		}
		if !contains(codes, code) {
			codes = append(codes, code)
		}
	}
	v.Languages = codes
	list := strings.Join(codes, " ")
	return t.saveDuty(v, "languages_set", map[string]string{"languages": list}, say("switchboard-languages-set", list))
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (t *turn) conflictCommand(v *Volunteer, args []string) error {
	sub := strings.ToLower(args[0])
	if sub == "list" {
		names, err := t.tx.Conflicts(t.ctx, v.ID)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			return t.reply(say("switchboard-conflict-none"))
		}
		return t.reply(say("switchboard-conflict-list", strings.Join(names, ", ")))
	}
	if (sub != "add" && sub != "remove") || len(args) < 2 {
		return t.reply(say("switchboard-conflict-usage"))
	}
	name, ok := NormalizeUsername(strings.Join(args[1:], " "))
	if !ok || name == "" {
		return t.reply(say("switchboard-conflict-usage"))
	}
	changed, err := t.tx.SetConflict(t.ctx, v.ID, name, sub == "add")
	if err != nil {
		return err
	}
	key := "switchboard-conflict-added"
	if sub == "remove" {
		key = "switchboard-conflict-removed"
		if !changed {
			key = "switchboard-conflict-not-found"
		}
	}
	// The name is the volunteer's own declaration; it is audited, since staff must be
	// able to see who declared what.
	if changed {
		if err := t.tx.AppendEvent(t.ctx, Event{Actor: v.UserID, Subject: v.UserID, Kind: "conflict_" + sub, At: t.now}); err != nil {
			return err
		}
	}
	return t.reply(say(key, name))
}

// describeVolunteer answers !me and !volunteer show.
func (t *turn) describeVolunteer(v *Volunteer, key string) error {
	shifts, err := t.tx.Shifts(t.ctx, v.ID)
	if err != nil {
		return err
	}
	conflicts, err := t.tx.Conflicts(t.ctx, v.ID)
	if err != nil {
		return err
	}
	load, err := t.tx.ActiveLoad(t.ctx, v.ID)
	if err != nil {
		return err
	}
	duty := "switchboard-duty-off"
	if OnDuty(*v, shifts, t.now) {
		duty = "switchboard-duty-on"
	}
	dutyText, _ := t.s.cat.Render(t.lang(), duty)
	shiftTexts := make([]string, len(shifts))
	for i, s := range shifts {
		shiftTexts[i] = s.String()
	}
	shiftList := strings.Join(shiftTexts, "; ")
	if shiftList == "" {
		shiftList = "—"
	}
	return t.reply(say(key, v.UserID, string(v.Status), dutyText, langList(v.Languages), load, v.CaseLimit,
		shiftList, len(conflicts)))
}
