package bot

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"switchboard/i18n"
)

// Config holds the core's settings (see config.example.yaml).
type Config struct {
	// IntakeExpiry closes an intake nobody answered for this long.
	IntakeExpiry time.Duration
	// StaffPlatform and StaffConversation are where staff get notices of new
	// staff-route cases. The notice holds the reference only.
	StaffPlatform     Platform
	StaffConversation string
	// Retention is how long the content of a closed or withdrawn case is kept (0: for
	// ever); its facts stay for statistics and the audit log.
	Retention time.Duration
	// MessageExpiry is how long a message waits to be delivered (to an IRC requester
	// who is away, say), and a first message in the busy line to be taken up, before it
	// is dropped (0: for ever).
	MessageExpiry time.Duration
	// MaxMessage is the longest message, in characters, the bot takes in.
	MaxMessage int
	// DefaultLanguage is used until a person says which language they prefer.
	DefaultLanguage string
	// MatrixContact is the bot's Matrix ID, offered to IRC requesters as the private,
	// end-to-end encrypted alternative.
	MatrixContact string
	// IRCPasteWindow: an IRC line this soon after the person's previous message is
	// more of their story or usernames, not an answer (see Continuation; 0: off).
	// Matrix clients send a paste as one message, so it applies to IRC only.
	IRCPasteWindow time.Duration

	// Staff and Coordinators are Matrix IDs given those roles by configuration.
	Staff        []string
	Coordinators []string
	// CoordinatorsConversation is the coordinators' room: queue alerts, !queue, !stats.
	CoordinatorsConversation string
	// OfferExpiry is how long a volunteer has to answer an offer.
	OfferExpiry time.Duration
	// QueueAlertAfter alerts coordinators when a case waits this long.
	QueueAlertAfter time.Duration
	// ReassureEvery is how often a waiting requester hears that they are not forgotten.
	ReassureEvery time.Duration
	// DefaultCaseLimit is a new volunteer's limit of cases at once.
	DefaultCaseLimit int
	// Broadcast announces queued cases in VolunteersConversation, where the first
	// eligible volunteer to !accept wins, instead of offering them to one at a time.
	Broadcast              bool
	VolunteersConversation string
	// SharedRooms puts a Matrix requester in the case room with the helpers. Otherwise
	// (relayed, the default) the case room holds the helpers only and the bot relays
	// between it and the requester's direct chat, with the helpers under a pseudonym.
	SharedRooms bool

	// OnCall is the escalation chain of staff Matrix IDs; the primary rotates every
	// RotationPeriod from RotationStart. A page not acknowledged within AckTimeout goes
	// to the next person, the whole chain at most MaxRounds times; after that the
	// whole chain together every RepageEvery until someone acknowledges (0: never).
	OnCall         []string
	RotationStart  time.Time
	RotationPeriod time.Duration
	AckTimeout     time.Duration
	MaxRounds      int
	RepageEvery    time.Duration
	// Pager: pages also go to the pager platform (ntfy, webhook, e-mail).
	Pager bool

	// IntakesPerDay bounds the intakes one person starts in 24 hours (0: no bound).
	IntakesPerDay int
	// IntakeRate and IntakeBurst bound new intakes across everyone, per minute; over
	// it, people get a calm "busy" answer and a place in line (0: no bound).
	IntakeRate  float64
	IntakeBurst int
}

// Kind tells what sort of inbound event a bridge saw.
type Kind int

const (
	KindText Kind = iota
	// KindNonText is an image, file or anything without text we can read.
	KindNonText
	// KindUndecryptable is an encrypted message the bridge could not decrypt.
	KindUndecryptable
	// KindUnencrypted is a private message sent in a room without encryption: the bot
	// never answers with case content there.
	KindUnencrypted
	// KindReaction is a reaction; Text is ReactAccept or ReactDecline when the key means
	// one (a volunteer's answer to an offer), and Relation says to what, with which key
	// (relayed in a relayed case).
	KindReaction
	// KindMedia is an image, file, video or sound: relayed in a relayed case, otherwise
	// answered like KindNonText. Media says what it is.
	KindMedia
	// KindRedaction removes an earlier event (Relation.EventID): relayed in a relayed case.
	KindRedaction
)

// Reactions a volunteer can give an offer instead of typing.
const (
	ReactAccept  = "accept"
	ReactDecline = "decline"
)

// Inbound is one event from a person, as a bridge saw it.
type Inbound struct {
	Platform     Platform
	EventID      string // unique per platform; deduplication key
	Sender       string // authenticated identity: Matrix user ID or IRC account
	Conversation string // where to answer: a DM room ID
	Text         string
	Kind         Kind
	// Unidentified: an IRC sender without a services account; Sender then names the
	// connection, not a person, and the request is tied to it.
	Unidentified bool
	// Group: the room has more people than the bot and the sender (a staff room, a
	// case room, or a room the bot does not belong in).
	Group bool
	// SenderName is how the sender shows in the room (a display name), for relays.
	SenderName string
	// Relation says what the event does to an earlier one: a reply, an edit (Text is the
	// new text), a reaction or a redaction. The event IDs are the platform's, opaque here.
	Relation Relation
	// Media is the file of a KindMedia event.
	Media *Media
	// Device is how far the bridge trusts the device the event came from (Matrix).
	Device DeviceTrust
}

// RelationKind names what an event does to an earlier one.
type RelationKind string

const (
	RelReply  RelationKind = "reply"
	RelEdit   RelationKind = "edit"
	RelReact  RelationKind = "react"
	RelRedact RelationKind = "redact"
)

// Relation ties an event to an earlier one.
type Relation struct {
	Kind    RelationKind `json:"kind,omitempty"`
	EventID string       `json:"event_id,omitempty"`
	Key     string       `json:"key,omitempty"` // a reaction's key
}

// Media describes a file to relay: where the platform keeps it and what it is. The
// bridge fetches and re-uploads it, encrypted, on the other side.
type Media struct {
	MsgType  string `json:"msgtype"`
	Name     string `json:"name,omitempty"`
	MimeType string `json:"mimetype,omitempty"`
	Size     int    `json:"size,omitempty"`
	URL      string `json:"url,omitempty"`
	// File is the platform's description of an encrypted file (its key), as JSON.
	File json.RawMessage `json:"file,omitempty"`
	// Data is a file the core made itself (ActionImage), and Width and Height an
	// image's size in pixels.
	Data   []byte `json:"data,omitempty"`
	Width  int    `json:"w,omitempty"`
	Height int    `json:"h,omitempty"`
}

// Service runs the core. It is safe for concurrent use: a person's row is locked for
// the length of each transaction, so one person's messages never interleave.
type Service struct {
	store  Store
	cat    *i18n.Catalogue
	cfg    Config
	log    zerolog.Logger
	now    func() time.Time
	outbox *Outbox

	timerWake chan struct{}
	liveCfg   liveConfig // staff, coordinators, on-call: replaced by Reload

	// limiter is the global intake rate; in memory, since a restart only resets it.
	limiter *rate.Limiter
	limMu   sync.Mutex
}

// NewService wires the core. cfg comes from config.Config.Core(), where every default
// is set; the core sets none of its own. now may be nil (wall clock); tests pass their own.
func NewService(store Store, cat *i18n.Catalogue, cfg Config, outbox *Outbox, log zerolog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, cat: cat, cfg: cfg, outbox: outbox, log: log, now: now, timerWake: make(chan struct{}, 1)}
	if cfg.IntakeRate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.IntakeRate/60), max(cfg.IntakeBurst, 1))
	}
	return s
}

// Handle processes one inbound event exactly once: a redelivered event ID changes
// nothing. It returns only after the change and its replies are committed.
func (s *Service) Handle(ctx context.Context, in Inbound) error {
	var queued []Outgoing
	armed := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		queued, armed = queued[:0], false
		now := s.now()
		if in.Platform.Redelivers() {
			fresh, err := tx.MarkProcessed(ctx, in.Platform, in.EventID, now)
			if err != nil || !fresh {
				return err
			}
		}
		t := &turn{s: s, tx: tx, ctx: ctx, platform: in.Platform, conv: in.Conversation, now: now,
			queued: &queued, unidentified: in.Unidentified, sender: in.Sender, armed: &armed, senderName: in.SenderName, in: in}
		if err := t.handle(in); err != nil {
			return err
		}
		return storeOutgoing(ctx, tx, queued)
	})
	if err != nil && ctx.Err() == nil {
		// Not the database being away (InTx waits that out) but a fault of ours. Retrying
		// would fail the same way, so the event is settled with an apology instead.
		s.log.Err(err).Str("event_id", in.EventID).Msg("Handling an event failed; the sender gets an apology")
		err = s.apologise(ctx, in, &queued)
	}
	if err != nil {
		return err
	}
	s.outbox.Push(queued)
	if armed {
		s.kickTimers()
	}
	return nil
}

// kickTimers makes the timer loop look at the next due time again: a turn may have
// armed a timer earlier than the one it was sleeping for (a page's ack deadline).
func (s *Service) kickTimers() {
	select {
	case s.timerWake <- struct{}{}:
	default:
	}
}

func (s *Service) apologise(ctx context.Context, in Inbound, queued *[]Outgoing) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		*queued = (*queued)[:0]
		now := s.now()
		if in.Platform.Redelivers() {
			if _, err := tx.MarkProcessed(ctx, in.Platform, in.EventID, now); err != nil {
				return err
			}
		}
		p, _, err := tx.FindPerson(ctx, in.Platform, in.Sender)
		if err != nil {
			return err
		}
		t := &turn{s: s, tx: tx, ctx: ctx, person: p, platform: in.Platform, conv: in.Conversation, now: now, queued: queued}
		if err := t.reply(say("switchboard-internal-error")); err != nil {
			return err
		}
		return storeOutgoing(ctx, tx, *queued)
	})
}

// storeOutgoing writes a turn's messages to the outbox, in the same transaction as the
// change that caused them, and gives each its ID.
func storeOutgoing(ctx context.Context, tx OutboxStore, msgs []Outgoing) error {
	for i := range msgs {
		if err := tx.Enqueue(ctx, &msgs[i]); err != nil {
			return err
		}
	}
	return nil
}

// turn is the handling of one inbound event inside its transaction.
type turn struct {
	s        *Service
	tx       Tx
	ctx      context.Context
	person   Person
	platform Platform
	conv     string
	now      time.Time
	queued   *[]Outgoing
	// unidentified: the sender has no services account (IRC).
	unidentified bool
	// sender is the platform identity of whoever caused this turn ("bot" for timers).
	sender string
	// fromWaitlist: this turn starts an intake that already waited for the rate.
	fromWaitlist bool
	// armed is set when the turn arms a timer, so the timer loop is woken only then.
	armed *bool
	// caller is who gave the command being run, and where.
	caller caller
	// senderName is how the sender shows in the room (a display name), when known.
	senderName string
	// in is the event being handled (what a relay passes on besides text).
	in Inbound
}

// setTimer arms a timer and remembers that the timer loop must look again.
func (t *turn) setTimer(tm Timer) error {
	if t.armed != nil {
		*t.armed = true
	}
	return t.tx.SetTimer(t.ctx, tm)
}

func (t *turn) handle(in Inbound) (err error) {
	defer wrapf(&err, "%s event %s", in.Platform, in.EventID)
	if in.Platform == Matrix { // the rooms the bot belongs to are Matrix rooms
		switch in.Conversation {
		case t.s.cfg.StaffConversation:
			return t.inStaffRoom(in)
		case t.s.cfg.CoordinatorsConversation:
			return t.inCoordinatorsRoom(in)
		case t.s.cfg.VolunteersConversation:
			return t.inVolunteersRoom(in)
		}
		c, err := t.tx.CaseByRoom(t.ctx, in.Conversation)
		if err != nil {
			return err
		}
		if c != nil {
			return t.inCaseRoom(c, in)
		}
	}
	if in.Group {
		if in.Kind == KindReaction || in.Kind == KindRedaction {
			return nil
		}
		return t.send(t.platform, t.conv, t.s.cfg.DefaultLanguage, false, true, say("switchboard-not-dm"))
	}
	return t.inDM(in)
}

// inDM handles a private message: a requester's request, or a volunteer's or staff
// member's command.
func (t *turn) inDM(in Inbound) (err error) {
	blocked := false
	if in.Kind == KindText {
		// The block check and the person row (created and locked) in one statement.
		t.person, blocked, err = t.tx.PersonUnlessBlocked(t.ctx, in.Platform, in.Sender, t.now)
	} else {
		blocked, err = t.tx.Blocked(t.ctx, in.Platform, in.Sender, t.now)
	}
	if err != nil {
		return err
	}
	if blocked {
		// A neutral answer: nothing is created, and nothing tells them they are blocked.
		return t.send(t.platform, t.conv, t.s.cfg.DefaultLanguage, false, true, say("switchboard-blocked"))
	}
	if in.Kind == KindReaction {
		return t.reaction(in)
	}
	if in.Kind == KindMedia || in.Kind == KindRedaction {
		// Passed on when the requester's case is relayed; otherwise a file is answered
		// like anything else that is not text, and a redaction needs nothing.
		if done, err := t.relayNonText(in); done || err != nil {
			return err
		}
		if in.Kind == KindRedaction {
			return nil
		}
		in.Kind = KindNonText
	}
	if in.Kind != KindText {
		// Nothing to keep about someone whose message we cannot use; the lookup only
		// finds the language to answer in.
		if t.person, _, err = t.tx.FindPerson(t.ctx, in.Platform, in.Sender); err != nil {
			return err
		}
	}
	switch in.Kind {
	case KindUndecryptable:
		return t.reply(say("switchboard-undecryptable"))
	case KindNonText:
		return t.reply(say("switchboard-not-text"))
	case KindUnencrypted:
		return t.send(t.platform, t.conv, t.lang(), false, true, say("switchboard-unencrypted"))
	}
	text, ok, err := t.readable(in.Text)
	if !ok || err != nil {
		return err
	}
	who, err := t.rolesOf(in)
	if err != nil {
		return err
	}
	if isCommand, err := t.dispatch(who, text); isCommand || err != nil {
		return err
	}
	return t.message(text)
}

// readable sanitises a text and answers if it is empty or too long (ok false).
func (t *turn) readable(raw string) (string, bool, error) {
	text := Sanitize(raw)
	if text == "" {
		return "", false, t.reply(say("switchboard-empty-message"))
	}
	if n := utf8.RuneCountInString(text); n > t.s.cfg.MaxMessage {
		return "", false, t.reply(say("switchboard-too-long", n, t.s.cfg.MaxMessage))
	}
	return text, true, nil
}

// Sanitize drops control characters (keeping newlines and tabs) and trims the text.
func Sanitize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// message is ordinary text: an answer to the intake, news for an open case, or the
// first words of a new request.
func (t *turn) message(text string) (err error) {
	defer wrapf(&err, "message from person %d", t.person.ID)
	ik, err := t.tx.OpenIntake(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if ik != nil {
		if ik.Conversation != t.conv {
			// A second DM room: carry on there without taking this as an answer.
			ik.Conversation = t.conv
			if err := t.tx.UpdateIntake(t.ctx, ik); err != nil {
				return err
			}
			return t.reply(say("switchboard-intake-resumed"), Question(*ik))
		}
		return t.answer(ik, text)
	}
	c, err := t.tx.OpenCase(t.ctx, t.person.ID)
	if err != nil {
		return err
	}
	if c != nil {
		return t.followUp(c, text)
	}
	if done, err := t.feedback(text); done || err != nil {
		return err
	}
	return t.startIntake(text)
}

func (t *turn) startIntake(opening string) (err error) {
	defer wrapf(&err, "start an intake for person %d", t.person.ID)
	if n, err := t.tx.IntakesSince(t.ctx, t.person.ID, t.now.Add(-24*time.Hour)); err != nil {
		return err
	} else if t.s.cfg.IntakesPerDay > 0 && n >= t.s.cfg.IntakesPerDay {
		return t.reply(say("switchboard-intake-limit"))
	}
	urgent := t.urgent(opening)
	if urgent {
		// Safety before the line: whoever says it is urgent starts now, with everything
		// they wrote while waiting.
		w, err := t.tx.TakeWaiting(t.ctx, t.platform, t.person.ExternalID)
		if err != nil {
			return err
		}
		if w != nil {
			opening = w.Opening + "\n\n" + opening
		}
	} else if waiting, err := t.tx.AddToWaiting(t.ctx, t.platform, t.person.ExternalID, opening); err != nil || waiting {
		if err != nil {
			return err
		}
		// Kept with their place in line: nothing a waiting person writes is dropped.
		return t.reply(say("switchboard-busy-still", t.urgentWord()))
	}
	if !t.fromWaitlist && !urgent && !t.s.allowIntake(t.now) {
		// Over the global rate: a calm answer now and a place in line, never silence.
		w := Waiting{Platform: t.platform, Sender: t.person.ExternalID, Conversation: t.conv, Opening: opening,
			Unidentified: t.unidentified, At: t.now}
		if _, err := t.tx.Waitlist(t.ctx, w); err != nil {
			return err
		}
		return t.reply(say("switchboard-busy", t.urgentWord()))
	}
	d := NewIntake(t.person.ID, t.conv, opening)
	ik := d.Intake
	ik.CreatedAt, ik.UpdatedAt = t.now, t.now
	ik.Unidentified = t.unidentified
	if err := t.tx.CreateIntake(t.ctx, &ik); err != nil {
		return err
	}
	if err := t.event(0, ik.ID, "requester", d.Event, map[string]string{"platform": string(t.platform)}); err != nil {
		return err
	}
	if err := t.armExpiry(ik.ID); err != nil {
		return err
	}
	if ik.Description == "" && !IsGreeting(opening) {
		// An opening too short to be the story is still kept for whoever takes the case.
		if err := t.tx.AddAddition(t.ctx, Addition{IntakeID: ik.ID, Text: opening, At: t.now}); err != nil {
			return err
		}
	}
	replies := d.Replies
	if t.platform == IRC {
		// Said early and plainly: IRC is readable by the network's operators.
		extra := []Reply{say("switchboard-irc-not-encrypted", t.s.cfg.MatrixContact)}
		if t.unidentified {
			extra = append(extra, say("switchboard-irc-unidentified"))
		}
		replies = append(append(append([]Reply{}, replies[0]), extra...), replies[1:]...)
	}
	return t.reply(replies...)
}

// urgentWord is what a person in the busy line writes to start at once.
func (t *turn) urgentWord() string {
	w, _ := t.s.cat.Render(t.lang(), "switchboard-urgent-word")
	return w
}

// urgent reports whether a first message asks to skip the busy line: it says the word
// (in the person's language or in English).
func (t *turn) urgent(text string) bool {
	text = strings.ToLower(text)
	for _, w := range []string{t.urgentWord(), "urgent"} {
		if w != "" && strings.Contains(text, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

func (t *turn) armExpiry(intakeID int64) error {
	return t.setTimer(Timer{Kind: TimerIntakeExpiry, Subject: intakeID, Due: t.now.Add(t.s.cfg.IntakeExpiry)})
}

// reply queues messages to the conversation the event came from, in the person's
// language.
func (t *turn) reply(rs ...Reply) error {
	return t.send(t.platform, t.conv, t.lang(), false, false, rs...)
}

func (t *turn) send(p Platform, conv, lang string, notice, contentFree bool, rs ...Reply) error {
	if lang == "" {
		lang = t.s.cfg.DefaultLanguage
	}
	for _, r := range rs {
		plain, md := t.s.cat.Render(lang, r.Key, r.Params...)
		if err := t.enqueue(Outgoing{Platform: p, Conversation: conv, Plain: plain, Markdown: md, Notice: notice, ContentFree: contentFree}); err != nil {
			return err
		}
	}
	return nil
}

// replyList sends a heading and a bulleted list as one message.
func (t *turn) replyList(heading Reply, items []Reply) error {
	lang := t.lang()
	plain, md := t.s.cat.Render(lang, heading.Key, heading.Params...)
	plain, md = plain+"\n", md+"\n"
	for _, it := range items {
		p, m := t.s.cat.Render(lang, it.Key, it.Params...)
		plain, md = plain+"\n- "+p, md+"\n- "+m
	}
	return t.enqueue(Outgoing{Platform: t.platform, Conversation: t.conv, Plain: plain, Markdown: md})
}

// replyCode sends a heading and preformatted text (a table) as one message. The text
// is the bot's own, so it goes into a code block as it is.
func (t *turn) replyCode(heading Reply, text string) error {
	plain, md := t.s.cat.Render(t.lang(), heading.Key, heading.Params...)
	fence := codeFence(text)
	return t.enqueue(Outgoing{Platform: t.platform, Conversation: t.conv,
		Plain: plain + "\n\n" + text, Markdown: md + "\n\n" + fence + "\n" + text + "\n" + fence})
}

// codeFence is a fence no run of backticks in text can close (CommonMark closes a
// fence only with as many backticks or more): text typed by people (an audit reason)
// cannot break out of the block and be rendered as Markdown.
func codeFence(text string) string {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func (t *turn) lang() string {
	if t.person.Language != "" {
		return t.person.Language
	}
	return t.s.cfg.DefaultLanguage
}

// enqueue adds a message to the turn. Everything a turn says to one conversation
// becomes one message, paragraphs apart: one notification on a phone instead of three,
// and one encryption and one request instead of several.
func (t *turn) enqueue(o Outgoing) error {
	q := *t.queued
	if n := len(q); n > 0 {
		last := &q[n-1]
		// A message that mentions someone stays whole: merged, its mention (what
		// makes a phone ring for a page) would be lost.
		if o.Action == "" && last.Action == "" && last.Platform == o.Platform && last.Conversation == o.Conversation &&
			last.Notice == o.Notice && last.ContentFree == o.ContentFree && len(o.Mentions) == 0 && len(last.Mentions) == 0 {
			last.Plain += "\n\n" + o.Plain
			last.Markdown += "\n\n" + o.Markdown
			return nil
		}
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = t.now
	}
	*t.queued = append(q, o)
	return nil
}

func (t *turn) event(caseID, intakeID int64, actor string, kind EventKind, detail map[string]string) error {
	return t.tx.AppendEvent(t.ctx, Event{CaseID: caseID, IntakeID: intakeID, Actor: actor, Kind: kind, Detail: detail, At: t.now})
}
