package bot

import (
	"context"
	"errors"
	"time"
)

// Acknowledging a page from outside Matrix: the "Acknowledge" button of an ntfy page,
// or an on-call tool's webhook saying its incident was acknowledged or resolved. The
// pager checks the token or signature; the core decides, in one transaction, and
// writes every refusal to the audit log.
const (
	// EventPhoneAcked: a staff member acknowledged from outside Matrix (detail: via).
	EventPhoneAcked EventKind = "phone_acked"
	// EventPhoneAckRefused: an acknowledgement from outside Matrix that changed
	// nothing (detail: via, reason: forged, replayed, expired, unknown case, bad
	// signature).
	EventPhoneAckRefused EventKind = "phone_ack_refused"
)

// PhoneAckStore makes acknowledgement tokens single-use.
type PhoneAckStore interface {
	// UseAckToken records a token's nonce; fresh is false when it was used before.
	UseAckToken(ctx context.Context, nonce string, now time.Time) (fresh bool, err error)
}

// PhoneAck is one acknowledgement arriving from outside Matrix.
type PhoneAck struct {
	Via string // "ntfy" or "webhook"
	Ref string
	// AckBy is when the token's paging round ends (ntfy); zero: no expiry (webhook,
	// whose signature is checked on every request).
	AckBy time.Time
	// Nonce makes the acknowledgement single-use: the token's MAC, or the webhook
	// event's ID.
	Nonce string
	// Match tells which of the staff paged about the case this is: the one the
	// token was made for (ntfy), or one paged through the on-call tool (webhook;
	// the most recently paged such person is taken).
	Match func(staffID string) bool
	// Refused, when set, is audited as the reason and nothing else happens (a
	// webhook with a bad signature, a token that does not parse).
	Refused string
}

// PhoneAckOutcome is what an acknowledgement from outside Matrix did.
type PhoneAckOutcome string

const (
	PhoneAcked   PhoneAckOutcome = "acked"
	PhoneAlready PhoneAckOutcome = "already" // the case was acknowledged or closed before
	PhoneRefused PhoneAckOutcome = "refused"
)

// AckFromPhone acknowledges a staff-route case as the staff member a token or webhook
// stands for, exactly as their `!ack` in the staff room would (paging stops, a room
// with the requester is set up, the staff room is told). A forged, replayed or
// expired token changes nothing but the audit log.
func (s *Service) AckFromPhone(ctx context.Context, a PhoneAck) (outcome PhoneAckOutcome, err error) {
	defer wrapf(&err, "acknowledge %q from %s", a.Ref, a.Via)
	err = s.inTurn(ctx, "bot", func(t *turn) error {
		outcome = PhoneRefused
		refuse := func(caseID int64, subject, reason string) error {
			s.log.Warn().Str("via", a.Via).Str("reason", reason).Int64("case_id", caseID).Msg("Refused an acknowledgement from outside Matrix")
			return t.tx.AppendEvent(ctx, Event{CaseID: caseID, Actor: a.Via, Subject: subject, Kind: EventPhoneAckRefused,
				Detail: map[string]string{"via": a.Via, "reason": reason}, At: t.now})
		}
		if a.Refused != "" {
			return refuse(0, "", a.Refused)
		}
		c, err := t.tx.CaseByRef(ctx, a.Ref)
		if err != nil {
			return err
		}
		if c == nil || c.Route != RouteStaff {
			return refuse(0, "", "unknown case")
		}
		paged, err := t.tx.PagedStaff(ctx, c.ID)
		if err != nil {
			return err
		}
		who := ""
		for _, p := range paged {
			if a.Match != nil && a.Match(p) {
				who = p // the last match: the most recently paged
			}
		}
		switch {
		case who == "":
			return refuse(c.ID, "", "forged")
		case !a.AckBy.IsZero() && !t.now.Before(a.AckBy):
			return refuse(c.ID, who, "expired")
		}
		tokens, ok := t.tx.(PhoneAckStore)
		if !ok {
			return errors.New("the store cannot keep acknowledgement tokens")
		}
		fresh, err := tokens.UseAckToken(ctx, a.Via+":"+a.Nonce, t.now)
		if err != nil {
			return err
		}
		if !fresh {
			return refuse(c.ID, who, "replayed")
		}
		if c.StaffID != "" || !c.State.Open() {
			outcome = PhoneAlready
			return nil
		}
		// The turn of that staff member, answering in the staff room.
		t.sender, t.platform, t.conv = who, Matrix, s.cfg.StaffConversation
		if err := t.ack(c.Ref); err != nil {
			return err
		}
		outcome = PhoneAcked
		return t.tx.AppendEvent(ctx, Event{CaseID: c.ID, Actor: who, Subject: who, Kind: EventPhoneAcked,
			Detail: map[string]string{"via": a.Via}, At: t.now})
	})
	return outcome, err
}
