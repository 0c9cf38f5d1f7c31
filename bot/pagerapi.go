package bot

import "context"

// PagerFailed is how the pager reports a channel that failed after its retries, so
// staff see it in their room (reference, person and channel only). A failing channel
// never holds up the others.
func (s *Service) PagerFailed(ctx context.Context, ref, staffID, channel, reason string) (err error) {
	defer wrapf(&err, "record a failed page of %s", ref)
	return s.inTurn(ctx, "bot", func(t *turn) error {
		if s.cfg.StaffConversation == "" {
			s.log.Warn().Str("case", ref).Str("channel", channel).Msg("A page failed and there is no staff room to say so")
			return nil
		}
		c, err := t.tx.CaseByRef(ctx, ref)
		if err != nil {
			return err
		}
		if c != nil {
			if err := t.tx.AppendEvent(ctx, Event{CaseID: c.ID, Actor: "bot", Subject: staffID, Kind: EventPageFailed,
				Detail: map[string]string{"channel": channel}, At: t.now}); err != nil {
				return err
			}
		}
		return t.send(Matrix, s.cfg.StaffConversation, s.cfg.DefaultLanguage, true, true,
			say("switchboard-page-failed", ref, staffID, channel, reason))
	})
}
