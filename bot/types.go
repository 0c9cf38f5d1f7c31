// Package bot is Switchboard's core: the intake conversation, cases, the outbox of
// messages to send and the timers. It knows no Matrix, IRC or SQL types: bridges turn
// platform events into Inbound values, the store (an interface here) keeps state, and
// every decision is made by pure functions that return the next state and the effects.
package bot

import (
	"errors"
	"time"
)

// Platform names where a person talks to the bot.
type Platform string

const (
	Matrix Platform = "matrix"
	IRC    Platform = "irc"
	// Pager is not a place people write from: its outbox rows are pages to staff
	// phones (ntfy, webhook, e-mail), sent by package pager.
	Pager Platform = "pager"
)

// Redelivers reports whether the platform may deliver an event again, so that events
// must be deduplicated by ID: Matrix does, after a restart, from the last saved sync
// position. IRC never does, and a row per line would only cost a write per message.
func (p Platform) Redelivers() bool { return p != IRC }

// Route says who may see a case: community volunteers or staff only.
type Route string

const (
	RouteVolunteer Route = "volunteer"
	RouteStaff     Route = "staff"
)

// CaseState is where a case is in its lifecycle (see docs/architecture.md).
type CaseState string

const (
	// StateIntake: a staff-route case opened at the first "yes" while the requester
	// is still answering, so staff learn of it at once even if the person stops.
	StateIntake    CaseState = "intake"
	StateQueued    CaseState = "queued"
	StateOffered   CaseState = "offered"  // offered to one volunteer (direct mode)
	StateAccepted  CaseState = "accepted" // a volunteer accepted; the case room is being set up
	StateActive    CaseState = "active"   // the volunteer joined the case room
	StateStaff     CaseState = "staff"
	StateWithdrawn CaseState = "withdrawn"
	StateClosed    CaseState = "closed"
)

// Open reports whether a case still needs someone's attention.
func (s CaseState) Open() bool { return s != StateWithdrawn && s != StateClosed }

// Person is someone who wrote to the bot, identified by platform and the platform's
// authenticated identity (a Matrix user ID, an IRC services account).
type Person struct {
	ID         int64
	Platform   Platform
	ExternalID string
	Language   string
}

// Step is the question an intake is waiting for.
type Step string

const (
	StepHarm        Step = "q_harm"
	StepMinor       Step = "q_minor"
	StepIllegal     Step = "q_illegal"
	StepOffWiki     Step = "q_offwiki"
	StepDescription Step = "description"
	StepParties     Step = "parties"
	StepProject     Step = "project"
	StepLanguage    Step = "language"
	StepConfirm     Step = "confirm"
)

// IntakeStatus is whether an intake is still being answered.
type IntakeStatus string

const (
	IntakeOpen      IntakeStatus = "open"
	IntakeDone      IntakeStatus = "done"
	IntakeCancelled IntakeStatus = "cancelled"
	IntakeExpired   IntakeStatus = "expired"
)

// Intake is the conversation that gathers a request. Version guards every update
// (compare-and-swap), so two writers can never both move it.
type Intake struct {
	ID           int64
	PersonID     int64
	Conversation string
	Status       IntakeStatus
	Step         Step
	Version      int
	Safety       Safety
	Description  string
	Parties      []string
	Project      string
	Language     string
	CaseID       int64 // set once a staff-route case exists for it
	// Unidentified: the requester has no services account (IRC), so the request is
	// tied to one connection and staff see it as unverified.
	Unidentified bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Safety holds the answers to the safety list; nil means not asked yet.
type Safety struct {
	Harm, Minor, Illegal, OffWiki *bool
}

// AnyYes reports whether any answer sends the case down the staff route.
func (s Safety) AnyYes() bool {
	for _, p := range []*bool{s.Harm, s.Minor, s.Illegal, s.OffWiki} {
		if p != nil && *p {
			return true
		}
	}
	return false
}

// Case is a request that people act on. Its Ref is what everyone talks about.
type Case struct {
	ID           int64
	Ref          string
	PersonID     int64
	IntakeID     int64
	Route        Route
	State        CaseState
	Safety       Safety
	Description  string
	Parties      []string
	Project      string
	Language     string
	Conversation string
	Unidentified bool
	CreatedAt    time.Time
	UpdatedAt    time.Time

	VolunteerID  int64
	MentorID     int64
	RoomID       string
	RoomAlias    string
	QueuedAt     time.Time
	AcceptedAt   time.Time
	FirstReplyAt time.Time
	ClosedAt     time.Time
	CloseReason  string
	// Staff route: where paging stands, and who acknowledged.
	PageRound, PageStep int
	StaffID             string
	AckedAt             time.Time
	FeedbackRating      int
	FeedbackComment     string
	// PurgedAt is when retention erased the content of the ended case (zero: not yet).
	PurgedAt time.Time
	// Relayed: the case's rooms hold its helpers only, and the bot relays between them
	// and the requester's direct chat (fixed when its first room is made).
	Relayed bool
}

// Addition is something the requester wrote after the intake (a message, !add), or an
// answer the intake could not read: kept until whoever holds the case has seen it.
type Addition struct {
	CaseID   int64
	IntakeID int64
	Text     string
	At       time.Time
}

// Event is one row of the append-only audit log, case_events.
type Event struct {
	CaseID   int64 // 0 when the event is about an intake only
	IntakeID int64
	Actor    string // "requester", "bot", or a platform identity of staff
	// Subject names whom a roster event is about (a volunteer's Matrix ID).
	Subject string
	Kind    EventKind
	// Detail holds non-content facts (a state name, a step); never what a person wrote.
	Detail map[string]string
	// Text is what someone wrote with the event (the reason of a transfer, a suspension
	// or a block). It is not part of the append-only log: the store keeps it apart,
	// sealed, and erases it with the case (or after the retention period, for an event
	// about no case), while the event itself stays.
	Text string
	At   time.Time
}

// Outgoing is a message waiting in the outbox. It is written in the same transaction
// as the state change that caused it and deleted once sent, so nothing is lost and the
// content does not stay in the database.
type Outgoing struct {
	ID           int64
	Platform     Platform
	Conversation string
	Plain        string
	Markdown     string
	Notice       bool
	// ContentFree marks a message that holds no case content (a notice that encryption
	// is needed, a case reference for staff): only such a message may be sent into a
	// room without end-to-end encryption. Everything else is refused there.
	ContentFree bool
	Attempts    int
	// Action is "" for a message, or something a bridge must do (ActionCreateRoom, …);
	// Payload then says with what.
	Action  Action
	Payload ActionPayload
	// Mentions are Matrix IDs the message mentions, so their clients notify them.
	Mentions []string
	// CreatedAt is when the turn that wrote it happened: a message that could not be
	// delivered within the message expiry is dropped (Action.Expires).
	CreatedAt time.Time
}

// ActionPayload describes an action. It names people and rooms, never case content.
type ActionPayload struct {
	CaseID int64    `json:"case_id,omitempty"`
	Alias  string   `json:"alias,omitempty"` // room alias localpart: makes create_room idempotent
	Name   string   `json:"name,omitempty"`
	Room   string   `json:"room,omitempty"`
	Users  []string `json:"users,omitempty"`
	// For pages: the case reference and which round of the escalation chain this is.
	// A page says only this and where to act: phones show pages on locked screens.
	Ref   string `json:"ref,omitempty"`
	Round int    `json:"round,omitempty"`
	// AckBy (unix ms) is when the page's round ends: its acknowledgement token
	// expires then.
	AckBy int64 `json:"ack_by,omitempty"`
	// For relayed events (ActionRelay): the event relayed and the room it came from, so
	// the bridge can record its counterpart; what it does to an earlier one; its file.
	Source     string   `json:"source,omitempty"`
	SourceRoom string   `json:"source_room,omitempty"`
	Relation   Relation `json:"relation,omitempty"`
	Media      *Media   `json:"media,omitempty"`
}

// Timer fires once at Due for a subject (an intake or case ID).
type Timer struct {
	Kind    TimerKind
	Subject int64
	Due     time.Time
}

var (
	// ErrConflict means a compare-and-swap lost: someone changed the row first.
	ErrConflict = errors.New("bot: concurrent update")
	// ErrPermanent marks a send failure that retrying cannot fix (a room we left).
	ErrPermanent = errors.New("bot: permanent delivery failure")
	// ErrUnavailable marks a send failure because the platform is down: retried
	// without limit, since the message must not be lost.
	ErrUnavailable = errors.New("bot: platform unavailable")
	// ErrRecipientAway means the person cannot be reached now (an IRC requester who is
	// offline). The message stays in the outbox, uncounted, and is tried again at the
	// next poll or Kick, e.g. when the bridge sees the person return.
	ErrRecipientAway = errors.New("bot: recipient away")
)
