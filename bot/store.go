package bot

import (
	"context"
	"time"
)

// Store keeps all state. The SQL implementation is package store; the core only sees
// this interface. Every method that changes state runs inside InTx, so one inbound
// message is one transaction: dedup, the change, its audit row and its outbox rows.
type Store interface {
	// InTx runs fn in a transaction, retrying while the database is unreachable.
	InTx(ctx context.Context, fn func(Tx) error) error
	// PendingOutbox lists unsent messages in the order they were written.
	PendingOutbox(ctx context.Context, platform Platform, afterID int64, limit int) ([]Outgoing, error)
	// OutboxSent forgets a delivered message, content and all.
	OutboxSent(ctx context.Context, id int64) error
	// OutboxFailed counts a failed attempt.
	OutboxFailed(ctx context.Context, id int64) error
	// NextTimer tells when the earliest timer is due (zero when there is none).
	NextTimer(ctx context.Context) (time.Time, error)
	// Purge forgets what the service no longer needs (see PurgeBefore) and reports how
	// many cases it emptied.
	Purge(ctx context.Context, before PurgeBefore) (int, error)
	// RoomReaders reads, in one query, what tells whether a requester reads a room.
	RoomReaders(ctx context.Context, room, member string) (RoomReaders, error)
}

// RoomReaders is what RequesterReads decides by: the case a room belongs to (any of
// its rooms), and one member's status as a volunteer ("" when they are none).
type RoomReaders struct {
	Case              bool
	Relayed           bool
	RequesterPlatform Platform
	VolunteerStatus   VolunteerStatus
}

// PurgeBefore says what Purge forgets: what is older than each moment (the zero time
// forgets nothing of that kind).
type PurgeBefore struct {
	// Content: the content of cases that ended before (what happened, who was named,
	// the safety answers, additions, notes, feedback comments, the reasons written
	// with their events; the bot leaves their rooms and discards its keys for them),
	// the answers of intakes that ended before, reasons about no case written before,
	// and blocks that ended before.
	Content time.Time
	// Dedup: the IDs of events processed before.
	Dedup time.Time
	// Messages: messages that could not be delivered since before (Action.Expires),
	// and first messages waiting in the busy line since before.
	Messages time.Time
}

// Tx is the view of the store inside one transaction: one small interface per
// aggregate, named for what it holds (package store has one file for each).
type Tx interface {
	DedupStore
	PeopleStore
	IntakeStore
	CaseStore
	RoomStore
	RosterStore
	RoutingStore
	OfferStore
	ReportStore
	AuditStore
	AbuseStore
	LinkStore
	TimerStore
	OutboxStore
	RetentionStore
	TextStore
}

// DedupStore remembers which inbound events were handled.
type DedupStore interface {
	// MarkProcessed records an inbound event; fresh is false when it was seen before,
	// and then the caller must change nothing.
	MarkProcessed(ctx context.Context, platform Platform, eventID string, now time.Time) (fresh bool, err error)
}

// PeopleStore holds the people who write to the bot.
type PeopleStore interface {
	// Person finds or creates a person and locks their row for this transaction, so one
	// person's messages are handled one at a time.
	Person(ctx context.Context, platform Platform, externalID string, now time.Time) (Person, error)
	// PersonUnlessBlocked is Person for someone not blocked; for someone blocked it
	// creates nothing and says so. One statement: a message's first round trip.
	PersonUnlessBlocked(ctx context.Context, platform Platform, externalID string, now time.Time) (p Person, blocked bool, err error)
	// FindPerson loads a person without creating one (ok false when unknown).
	FindPerson(ctx context.Context, platform Platform, externalID string) (p Person, ok bool, err error)
	// PersonRef loads a person by ID without locking (for reading their platform).
	PersonRef(ctx context.Context, id int64) (Person, error)
	// PersonByID loads and locks a person known by ID (for timers).
	PersonByID(ctx context.Context, id int64) (Person, error)
	SetLanguage(ctx context.Context, personID int64, lang string) error
	// SetKnownName records the wiki name a person most likely has, for case links.
	SetKnownName(ctx context.Context, personID int64, name string) error
}

// IntakeStore holds the conversations that gather requests.
type IntakeStore interface {
	OpenIntake(ctx context.Context, personID int64) (*Intake, error)
	CreateIntake(ctx context.Context, ik *Intake) error
	// UpdateIntake writes ik if the stored version is still ik.Version, then bumps it.
	UpdateIntake(ctx context.Context, ik *Intake) error
	Intake(ctx context.Context, id int64) (*Intake, error)
	// IntakesSince counts the intakes the person started since then.
	IntakesSince(ctx context.Context, personID int64, since time.Time) (int, error)
}

// CaseStore holds cases and what was added to them.
type CaseStore interface {
	OpenCase(ctx context.Context, personID int64) (*Case, error)
	Case(ctx context.Context, id int64) (*Case, error)
	// CaseByRef loads and locks a case, or nil.
	CaseByRef(ctx context.Context, ref string) (*Case, error)
	// CreateCase stores c and gives it a fresh reference.
	CreateCase(ctx context.Context, c *Case) error
	// UpdateCase writes c if its state is still from (compare-and-swap).
	UpdateCase(ctx context.Context, c *Case, from CaseState) error
	// AddAddition keeps something the requester added, to a case or to its intake.
	AddAddition(ctx context.Context, a Addition) error
	// AttachAdditions gives a new case what was added during its intake.
	AttachAdditions(ctx context.Context, intakeID, caseID int64) error
	// Additions lists what was added to a case, oldest first.
	Additions(ctx context.Context, caseID int64) ([]Addition, error)
	AddNote(ctx context.Context, caseID int64, author, text string, now time.Time) error
	// CasesWorkedBy lists and locks the open volunteer-route cases the volunteer works
	// or mentors.
	CasesWorkedBy(ctx context.Context, volunteerID int64) ([]Case, error)
	// AwaitingFeedback finds the person's case closed since since without feedback, or nil.
	AwaitingFeedback(ctx context.Context, personID int64, since time.Time) (*Case, error)
	// RecentlyClosed finds the person's case closed most recently since since, or nil.
	RecentlyClosed(ctx context.Context, personID int64, since time.Time) (*Case, error)
}

// RoomStore finds cases by their Matrix room.
type RoomStore interface {
	// CaseByRoom loads and locks the case whose room this is, or was, or nil.
	CaseByRoom(ctx context.Context, roomID string) (*Case, error)
	// RecordRoom remembers that a room belongs to a case.
	RecordRoom(ctx context.Context, caseID int64, roomID string, now time.Time) error
}

// RosterStore holds volunteers, their duty (shifts) and their declared conflicts.
type RosterStore interface {
	Volunteer(ctx context.Context, userID string) (*Volunteer, error)
	VolunteerByID(ctx context.Context, id int64) (*Volunteer, error)
	SaveVolunteer(ctx context.Context, v *Volunteer, now time.Time) error
	Volunteers(ctx context.Context) ([]Volunteer, error)
	ActiveLoad(ctx context.Context, volunteerID int64) (int, error)
	Shifts(ctx context.Context, volunteerID int64) ([]Shift, error)
	AddShift(ctx context.Context, s Shift) error
	DeleteShift(ctx context.Context, volunteerID, shiftID int64) error
	Conflicts(ctx context.Context, volunteerID int64) ([]string, error)
	SetConflict(ctx context.Context, volunteerID int64, username string, on bool) (changed bool, err error)
}

// RoutingStore decides who is offered a case, and holds the queue.
type RoutingStore interface {
	// PickVolunteer applies the routing rule in one query; nil when nobody fits.
	PickVolunteer(ctx context.Context, q RouteQuery) (*Volunteer, error)
	// WaitingCases lists and locks queued volunteer-route cases, oldest first, skipping
	// those another transaction holds.
	WaitingCases(ctx context.Context, limit int) ([]Case, error)
	// QueuePosition counts volunteer-route cases waiting longer than c.
	QueuePosition(ctx context.Context, c *Case) (int, error)
}

// OfferStore holds the offers of cases to volunteers.
type OfferStore interface {
	CreateOffer(ctx context.Context, o *Offer) error
	OpenOffer(ctx context.Context, caseID int64) (*Offer, error)
	// HadOffer reports whether the case was ever offered to the volunteer.
	HadOffer(ctx context.Context, caseID, volunteerID int64) (bool, error)
	OfferByID(ctx context.Context, id int64) (*Offer, error)
	CloseOffer(ctx context.Context, offerID int64, state OfferState, now time.Time) (bool, error)
	OpenOffersOf(ctx context.Context, volunteerID int64) ([]Offer, error)
}

// ReportStore answers the coordinators' questions.
type ReportStore interface {
	// WaitingList lists volunteer-route cases waiting for a volunteer, oldest first (at
	// most a few hundred), and how many are waiting in all.
	WaitingList(ctx context.Context) (oldest []Case, total int, err error)
	Stats(ctx context.Context, since time.Time) (Stats, error)
	// CoverageShifts lists the shifts of everyone who can be offered cases, with their
	// languages.
	CoverageShifts(ctx context.Context) ([]Shift, [][]string, error)
}

// AuditStore is the append-only audit log.
type AuditStore interface {
	AppendEvent(ctx context.Context, e Event) error
	// PagedStaff lists who was paged about a case (its "paged" events), each once.
	PagedStaff(ctx context.Context, caseID int64) ([]string, error)
	AuditOf(ctx context.Context, who string, limit int) ([]Event, error)
	AuditCase(ctx context.Context, caseID int64) ([]Event, error)
}

// AbuseStore holds blocks and the line of people waiting while intakes are over the rate.
type AbuseStore interface {
	SetBlock(ctx context.Context, b Block) error
	Unblock(ctx context.Context, platform Platform, externalID string) (bool, error)
	Blocked(ctx context.Context, platform Platform, externalID string, now time.Time) (bool, error)
	Blocks(ctx context.Context, now time.Time) ([]Block, error)
	Waitlist(ctx context.Context, w Waiting) (added bool, err error)
	// Waiting reports whether someone is in the busy line.
	Waiting(ctx context.Context, platform Platform, sender string) (bool, error)
	// AddToWaiting adds text to what a waiting person wrote; false if they are not waiting.
	AddToWaiting(ctx context.Context, platform Platform, sender, text string) (bool, error)
	// TakeWaiting takes a person off the waitlist and returns what they wrote, or nil.
	TakeWaiting(ctx context.Context, platform Platform, sender string) (*Waiting, error)
	NextWaiting(ctx context.Context) (*Waiting, error)
}

// LinkStore holds the links between cases that name each other's people.
type LinkStore interface {
	LinkedCases(ctx context.Context, c *Case, knownName string, since time.Time) ([]CaseLink, error)
	AddLink(ctx context.Context, caseID int64, l CaseLink, now time.Time) (bool, error)
}

// TimerStore holds the timers.
type TimerStore interface {
	SetTimer(ctx context.Context, t Timer) error
	DeleteTimer(ctx context.Context, kind TimerKind, subject int64) error
	// DueTimers claims timers due by now; claimed rows are locked until the end of
	// the transaction and deleted by the caller after acting on them.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
}

// RetentionStore erases what a person asks the service to forget.
type RetentionStore interface {
	// ForgetPerson erases what a requester told the service in their intakes and ended
	// cases (as the retention purge does, and at once), what waits to be sent to them
	// and what they wrote in the busy line. What others need for their own audit stays
	// (see Forgotten).
	ForgetPerson(ctx context.Context, p Person, now time.Time) (Forgotten, error)
}

// Forgotten says what ForgetPerson erased.
type Forgotten struct {
	Cases, Intakes, Messages int
}

// TextStore is the library of text modules.
type TextStore interface {
	// Texts lists the library by name and language: every text, or (name set) the
	// languages of one.
	Texts(ctx context.Context, name string) ([]TextModule, error)
	// AddText stores a new text; false when the name has one in that language already.
	AddText(ctx context.Context, m TextModule) (bool, error)
	// EditText replaces the body of a text; false when there is none in that language.
	EditText(ctx context.Context, m TextModule) (bool, error)
	// RemoveText removes a text in one language, or in every one (lang ""), and
	// returns the languages removed.
	RemoveText(ctx context.Context, name, lang string) ([]string, error)
}

// OutboxStore takes the messages a turn sends, in its transaction.
type OutboxStore interface {
	Enqueue(ctx context.Context, o *Outgoing) error
}
