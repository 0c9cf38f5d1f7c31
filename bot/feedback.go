package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"switchboard/commands"
)

// feedbackWindow is how long after a case closes a "1" to "5" counts as its rating.
const feedbackWindow = 7 * 24 * time.Hour

// ratingRe is a bare rating: "4", "5/5", "3 stars", "⭐⭐⭐⭐". Anything more is not a
// rating: "5 minutes ago he threatened me" is a new request, and gets the safety list.
var ratingRe = regexp.MustCompile(`^([1-5])\s*(?:/\s*5|stars?|⭐+)?\s*[.!]?$|^(⭐{1,5})$`)

// feedback stores a bare rating for the person's recently closed case. done is false
// when the text is not one (or nothing awaits one), and the message is then handled as
// usual. A comment comes separately, with !feedback.
func (t *turn) feedback(text string) (done bool, err error) {
	m := ratingRe.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return false, nil
	}
	c, err := t.tx.AwaitingFeedback(t.ctx, t.person.ID, t.now.Add(-feedbackWindow))
	if err != nil || c == nil {
		return false, err
	}
	rating := m[1]
	if rating == "" {
		rating = strconv.Itoa(strings.Count(m[2], "⭐"))
	}
	c.FeedbackRating, _ = strconv.Atoi(rating)
	if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
		return false, err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "requester", Kind: EventFeedbackGiven,
		Detail: map[string]string{"rating": rating}, At: t.now}); err != nil {
		return false, err
	}
	return true, t.reply(say("switchboard-feedback-thanks"))
}

// cmdFeedback keeps a comment on the person's most recently closed case.
func (t *turn) cmdFeedback(a commands.Args) error {
	c, err := t.tx.RecentlyClosed(t.ctx, t.person.ID, t.now.Add(-feedbackWindow))
	if err != nil {
		return err
	}
	if c == nil {
		return t.reply(say("switchboard-feedback-none"))
	}
	c.FeedbackComment = truncate(a.String("text"), maxDescription)
	if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "requester", Kind: EventFeedbackComment, At: t.now}); err != nil {
		return err
	}
	return t.reply(say("switchboard-feedback-comment-kept", c.Ref))
}
