package bot

import (
	"time"

	"switchboard/commands"
)

// cmdForget is a requester's !forget: what they told the service is erased at once,
// as the retention purge would erase it later, and they are told what stays and why.
// What stays is what other people need to answer for their own actions: the facts of
// each case (reference, dates, states, who worked on it), the audit log (which never
// holds what anyone wrote), and the notes and reasons helpers wrote, which are erased
// with the case at the end of the retention period. The account name stays too, so
// that the limits against misuse still apply to it; and a block stays in force.
//
// A case still open is not erased: a volunteer may be working on it, and a person
// in danger should not lose their request by a slip. They withdraw it first.
func (t *turn) cmdForget(commands.Args) (err error) {
	defer wrapf(&err, "forget person %d", t.person.ID)
	c, err := t.tx.OpenCase(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if c != nil {
		return t.reply(say("switchboard-forget-open", c.Ref))
	}
	// An intake under way ends here, with everything it gathered.
	ik, err := t.tx.OpenIntake(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if ik != nil {
		ik.Status, ik.UpdatedAt = IntakeCancelled, t.now
		if err := t.tx.UpdateIntake(t.ctx, ik); err != nil {
			return err
		}
		if err := t.tx.DeleteTimer(t.ctx, TimerIntakeExpiry, ik.ID); err != nil {
			return err
		}
		if err := t.event(0, ik.ID, "requester", EventIntakeCancelled, nil); err != nil {
			return err
		}
	}
	f, err := t.tx.ForgetPerson(t.ctx, t.person, t.now)
	if err != nil {
		return err
	}
	// Staff can see that it happened (and when), never what was erased.
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: "requester", Subject: t.person.ExternalID, Kind: EventForgotten,
		Detail: map[string]string{"cases": itoa(f.Cases), "intakes": itoa(f.Intakes)}, At: t.now}); err != nil {
		return err
	}
	kept := say("switchboard-forget-kept-always")
	if r := t.s.cfg.Retention; r > 0 {
		kept = say("switchboard-forget-kept", int((r+24*time.Hour-1)/(24*time.Hour)))
	}
	return t.reply(say("switchboard-forget-done"), kept)
}
