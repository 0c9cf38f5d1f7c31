package bot

import (
	"fmt"
	"time"

	"switchboard/commands"
)

// Stats is the summary !stats shows. It covers volunteer-route cases only.
type Stats struct {
	Opened, Closed               int
	FirstReplyP50, FirstReplyP90 time.Duration
	RatingAvg                    float64
	Ratings, Declined, Expired   int
}

// The coordinators' commands, in their room (staff may use them too).

func (t *turn) cmdQueue(commands.Args) error { return t.queueList() }

func (t *turn) cmdCoverage(commands.Args) error {
	shifts, langs, err := t.tx.CoverageShifts(t.ctx)
	if err != nil {
		return err
	}
	grid := Coverage(t.now, shifts, langs, 7)
	table := grid.Table()
	if table == "" {
		return t.reply(say("switchboard-coverage-none"))
	}
	if err := t.replyCode(say("switchboard-coverage-heading"), table); err != nil {
		return err
	}
	return t.coverageImage(grid)
}

// coverageImage posts the grid as a heat map, after the table: an image the bridge
// uploads (encrypted, in an encrypted room) like a relayed file.
func (t *turn) coverageImage(g CoverageGrid) error {
	data, w, h, err := HeatMap(g)
	if err != nil {
		return fmt.Errorf("draw the coverage heat map: %w", err)
	}
	plain, md := t.s.cat.Render(t.lang(), "switchboard-coverage-image")
	return t.enqueue(Outgoing{Platform: t.platform, Conversation: t.conv, Plain: plain, Markdown: md, Action: ActionImage,
		Payload: ActionPayload{Media: &Media{MsgType: "m.image", Name: "coverage.png", MimeType: "image/png",
			Size: len(data), Width: w, Height: h, Data: data}}})
}

func (t *turn) cmdStats(a commands.Args) error {
	days := 7
	if a.String("period") == "30d" {
		days = 30
	}
	s, err := t.tx.Stats(t.ctx, t.now.AddDate(0, 0, -days))
	if err != nil {
		return err
	}
	return t.reply(say("switchboard-stats", days, s.Opened, s.Closed, minutes(s.FirstReplyP50), minutes(s.FirstReplyP90),
		fmt.Sprintf("%.1f", s.RatingAvg), s.Ratings, s.Declined, s.Expired))
}

func minutes(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f min", d.Minutes())
}

func (t *turn) queueList() error {
	cases, total, err := t.tx.WaitingList(t.ctx)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return t.reply(say("switchboard-queue-empty"))
	}
	items := make([]Reply, len(cases))
	for i, c := range cases {
		items[i] = say("switchboard-queue-line", c.Ref, c.Language, int(t.now.Sub(c.QueuedAt).Minutes()), string(c.State))
	}
	heading := say("switchboard-queue-heading", total)
	if total > len(cases) {
		// The list is cut: the heading still says how many wait, and which are shown.
		heading = say("switchboard-queue-heading-oldest", total, len(cases))
	}
	return t.replyList(heading, items)
}
