package bot

import (
	"strconv"
	"strings"
	"time"

	"switchboard/commands"
)

// The volunteer's commands, by direct message. t.caller.vol is the volunteer.

func (t *turn) cmdOff(commands.Args) error { return t.dutyOff(t.caller.vol) }
func (t *turn) cmdMe(commands.Args) error  { return t.describeVolunteer(t.caller.vol, "switchboard-me") }

func (t *turn) cmdLimit(a commands.Args) error {
	v := t.caller.vol
	v.CaseLimit = a.Int("n")
	return t.saveDuty(v, EventLimitSet, map[string]string{"limit": strconv.Itoa(v.CaseLimit)}, say("switchboard-limit-set", v.CaseLimit))
}

// saveDuty stores a volunteer's change, audits it, answers, and offers waiting cases,
// since the change may make them a match.
func (t *turn) saveDuty(v *Volunteer, kind EventKind, detail map[string]string, answer Reply) (err error) {
	defer wrapf(&err, "save the duty of volunteer %s (%s)", v.UserID, kind)
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

func (t *turn) cmdOn(a commands.Args) error {
	v, d := t.caller.vol, defaultOn
	if a.Has("for") {
		d = a.Duration("for")
	}
	v.OnUntil, v.OffUntil = t.now.Add(d), time.Time{}
	until := v.OnUntil.UTC().Format("15:04 UTC")
	if err := t.saveDuty(v, EventDutyOn, map[string]string{"until": until}, say("switchboard-on-done", until)); err != nil {
		return err
	}
	if v.WikiUsername == "" {
		// Without it, a case naming them could be offered to them: none is, until then.
		return t.reply(say("switchboard-wiki-needed"))
	}
	return nil
}

// cmdWikiName lets a volunteer without a wiki username say which it is; changing one
// is staff's (!volunteer wiki), since it decides which cases they are never offered.
func (t *turn) cmdWikiName(a commands.Args) error {
	v := t.caller.vol
	if v.WikiUsername != "" {
		return t.reply(say("switchboard-wikiname-set-already", v.WikiUsername))
	}
	name, ok := NormalizeUsername(a.String("name"))
	if !ok || name == "" {
		return t.reply(say("switchboard-wikiname-usage"))
	}
	v.WikiUsername = name
	return t.saveDuty(v, EventWikiNameSet, nil, say("switchboard-wikiname-set", name))
}

func (t *turn) dutyOff(v *Volunteer) (err error) {
	defer wrapf(&err, "switch volunteer %s off", v.UserID)
	shifts, err := t.tx.Shifts(t.ctx, v.ID)
	if err != nil {
		return err
	}
	v.OnUntil = time.Time{}
	v.OffUntil = ShiftEnd(shifts, t.now) // holds through the current shift, if any
	if err := t.tx.SaveVolunteer(t.ctx, v, t.now); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: v.UserID, Subject: v.UserID, Kind: EventDutyOff, At: t.now}); err != nil {
		return err
	}
	return t.reply(say("switchboard-off-done"))
}

func (t *turn) cmdShiftList(commands.Args) error {
	shifts, err := t.tx.Shifts(t.ctx, t.caller.vol.ID)
	if err != nil {
		return err
	}
	if len(shifts) == 0 {
		return t.reply(say("switchboard-shift-none"))
	}
	items := make([]Reply, len(shifts))
	for i, s := range shifts {
		items[i] = say("switchboard-shift-line", i+1, s.String())
	}
	return t.replyList(say("switchboard-shift-heading"), items)
}

func (t *turn) cmdShiftAdd(a commands.Args) error {
	v := t.caller.vol
	s, err := ParseShift([]string{a.String("day"), a.String("hours"), a.String("zone")})
	if err != nil {
		return t.reply(say("switchboard-shift-usage"))
	}
	s.VolunteerID = v.ID
	if err := t.tx.AddShift(t.ctx, s); err != nil {
		return err
	}
	return t.saveDuty(v, EventShiftAdded, map[string]string{"shift": s.String()}, say("switchboard-shift-added", s.String()))
}

func (t *turn) cmdShiftRemove(a commands.Args) error {
	v := t.caller.vol
	shifts, err := t.tx.Shifts(t.ctx, v.ID)
	if err != nil {
		return err
	}
	n := a.Int("n")
	if n > len(shifts) {
		return t.reply(say("switchboard-shift-usage"))
	}
	s := shifts[n-1]
	if err := t.tx.DeleteShift(t.ctx, v.ID, s.ID); err != nil {
		return err
	}
	return t.saveDuty(v, EventShiftRemoved, map[string]string{"shift": s.String()}, say("switchboard-shift-removed", s.String()))
}

func (t *turn) cmdLanguages(args commands.Args) error {
	v := t.caller.vol
	var codes []string
	for _, a := range args.Strings("codes") {
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
	return t.saveDuty(v, EventLanguagesSet, map[string]string{"languages": list}, say("switchboard-languages-set", list))
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (t *turn) cmdConflictList(commands.Args) error {
	names, err := t.tx.Conflicts(t.ctx, t.caller.vol.ID)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return t.reply(say("switchboard-conflict-none"))
	}
	return t.reply(say("switchboard-conflict-list", strings.Join(names, ", ")))
}

func (t *turn) cmdConflictAdd(a commands.Args) error { return t.setConflict(a.String("name"), true) }
func (t *turn) cmdConflictRemove(a commands.Args) error {
	return t.setConflict(a.String("name"), false)
}

func (t *turn) setConflict(typed string, on bool) error {
	v := t.caller.vol
	name, ok := NormalizeUsername(typed)
	if !ok || name == "" {
		return t.reply(say("switchboard-conflict-usage"))
	}
	changed, err := t.tx.SetConflict(t.ctx, v.ID, name, on)
	if err != nil {
		return err
	}
	key, kind := "switchboard-conflict-added", EventConflictAdded
	if !on {
		key, kind = "switchboard-conflict-removed", EventConflictRemoved
		if !changed {
			key = "switchboard-conflict-not-found"
		}
	}
	// The name is the volunteer's own declaration; it is audited, since staff must be
	// able to see who declared what.
	if changed {
		if err := t.tx.AppendEvent(t.ctx, Event{Actor: v.UserID, Subject: v.UserID, Kind: kind, At: t.now}); err != nil {
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
