package bot

import (
	"fmt"
	"sort"
	"strings"

	"switchboard/commands"
)

// audit prints a case's event log (!audit SB-…) or what someone did (!audit @user).
// Staff only; events never hold what people wrote, but a reason written with one is
// shown beside it until it is erased with its case.
func (t *turn) cmdAudit(a commands.Args) error {
	arg := a.String("of")
	var events []Event
	var heading Reply
	if platform, id, ok := parseTarget(arg); ok {
		var err error
		if events, err = t.tx.AuditOf(t.ctx, id, 100); err != nil {
			return err
		}
		heading = say("switchboard-audit-person", target(platform, id), len(events))
	} else {
		c, err := t.tx.CaseByRef(t.ctx, arg)
		if err != nil {
			return err
		}
		if c == nil {
			return t.reply(say("switchboard-audit-none", arg))
		}
		if events, err = t.tx.AuditCase(t.ctx, c.ID); err != nil {
			return err
		}
		heading = say("switchboard-audit-case", c.Ref, string(c.Route), string(c.State), len(events))
	}
	if len(events) == 0 {
		return t.reply(heading)
	}
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "%s  %-28s %-22s", e.At.UTC().Format("2006-01-02 15:04:05"), e.Actor, e.Kind)
		if e.Subject != "" && e.Subject != e.Actor {
			fmt.Fprintf(&b, " subject=%s", e.Subject)
		}
		keys := make([]string, 0, len(e.Detail))
		for k := range e.Detail {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, e.Detail[k])
		}
		if e.Text != "" {
			fmt.Fprintf(&b, " reason=%s", e.Text)
		}
		b.WriteByte('\n')
	}
	return t.replyCode(heading, b.String())
}
