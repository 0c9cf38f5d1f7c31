package bot

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// feedbackWindow is how long after a case closes a "1" to "5" counts as its rating.
const feedbackWindow = 7 * 24 * time.Hour

var ratingRe = regexp.MustCompile(`^([1-5])(?:\s*(?:/\s*5)?[.!:,]?\s*(.*))?$`)

// feedback stores "4" or "5 thank you, that helped" as the rating of the person's
// recently closed case. done is false when the text is not a rating (or nothing awaits
// one), and the message is then handled as usual.
func (t *turn) feedback(text string) (done bool, err error) {
	m := ratingRe.FindStringSubmatch(strings.TrimSpace(text))
	if m == nil {
		return false, nil
	}
	c, err := t.tx.AwaitingFeedback(t.ctx, t.person.ID, t.now.Add(-feedbackWindow))
	if err != nil || c == nil {
		return false, err
	}
	c.FeedbackRating, _ = strconv.Atoi(m[1])
	c.FeedbackComment = truncate(strings.TrimSpace(m[2]), maxDescription)
	if err := t.tx.UpdateCase(t.ctx, c, c.State); err != nil {
		return false, err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "requester", Kind: EventFeedbackGiven,
		Detail: map[string]string{"rating": m[1]}, At: t.now}); err != nil {
		return false, err
	}
	return true, t.reply(say("switchboard-feedback-thanks"))
}
