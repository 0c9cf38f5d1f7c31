package bot

// The names the core and the store share: what the audit log calls each event, the
// kinds of timers and of outbox actions, and the kinds of case links. They are typed
// so that a misspelt name is a compile error, and store's TestSQLNamesAreDefined fails
// when the store's SQL names a value that no constant here (or a state type in
// types.go) defines.

// EventKind names a row of the audit log, case_events.
type EventKind string

// The intake's events (Decision.Event).
const (
	EventIntakeStarted      EventKind = "intake_started"
	EventContinued          EventKind = "continued"
	EventSafetyAnswered     EventKind = "safety_answered"
	EventDescriptionGiven   EventKind = "description_given"
	EventPartiesGiven       EventKind = "parties_given"
	EventProjectGiven       EventKind = "project_given"
	EventLanguageGiven      EventKind = "language_given"
	EventSummaryRejected    EventKind = "summary_rejected"
	EventIntakeCompleted    EventKind = "intake_completed"
	EventIntakeCancelled    EventKind = "intake_cancelled"
	EventIntakeExpired      EventKind = "intake_expired"
	EventRequesterAdded     EventKind = "requester_added"
	EventCaseOpened         EventKind = "case_opened"
	EventDetailsCompleted   EventKind = "case_details_completed"
	EventCaseWithdrawn      EventKind = "case_withdrawn"
	EventFeedbackGiven      EventKind = "feedback_given"
	EventFeedbackComment    EventKind = "feedback_comment"
	EventCaseLinked         EventKind = "case_link"
	EventReopened           EventKind = "case_reopened"
	EventRoomCreated        EventKind = "room_created"
	EventWorkerJoined       EventKind = "worker_joined"
	EventNoteAdded          EventKind = "note_added"
	EventCaseClosed         EventKind = "case_closed"
	EventTransferred        EventKind = "transferred"
	EventEscalated          EventKind = "escalated"
	EventOffered            EventKind = "offered"
	EventAccepted           EventKind = "accepted"
	EventOfferDeclined      EventKind = "offer_declined"
	EventOfferExpired       EventKind = "offer_expired"
	EventPaged              EventKind = "paged"
	EventPageFailed         EventKind = "page_failed"
	EventPagingExhausted    EventKind = "paging_exhausted"
	EventAcked              EventKind = "acked"
	EventBlocked            EventKind = "blocked"
	EventUnblocked          EventKind = "unblocked"
	EventDutyOn             EventKind = "duty_on"
	EventDutyOff            EventKind = "duty_off"
	EventLimitSet           EventKind = "limit_set"
	EventShiftAdded         EventKind = "shift_added"
	EventShiftRemoved       EventKind = "shift_removed"
	EventLanguagesSet       EventKind = "languages_set"
	EventConflictAdded      EventKind = "conflict_add"
	EventConflictRemoved    EventKind = "conflict_remove"
	EventVolunteerAdded     EventKind = "volunteer_added"
	EventVolunteerConfirmed EventKind = "volunteer_confirmed"
	EventVolunteerPromoted  EventKind = "volunteer_promoted"
	EventVolunteerSuspended EventKind = "volunteer_suspended"
	EventVolunteerRemoved   EventKind = "volunteer_removed"
	EventMentorSet          EventKind = "mentor_set"
	EventWikiNameSet        EventKind = "wiki_name_set"
	// EventIdentityChanged: a role's command came from a device signed by an identity
	// other than the one first seen; staff were told. EventIdentityTrusted: staff
	// accepted the new one (!trust).
	EventIdentityChanged EventKind = "identity_changed"
	EventIdentityTrusted EventKind = "identity_trusted"
	EventIntruderRemoved EventKind = "intruder_removed"
	EventOfferWithdrawn  EventKind = "offer_withdrawn"
	EventUnassigned      EventKind = "unassigned"
	EventRelayed         EventKind = "relayed"
	EventRevealed        EventKind = "revealed"
	// EventForgotten: a requester's !forget erased what they told the service.
	EventForgotten EventKind = "forgotten"
	// The library of text modules (no case: staff changed it) and their use in a case.
	EventTextAdded   EventKind = "text_added"
	EventTextEdited  EventKind = "text_edited"
	EventTextRemoved EventKind = "text_removed"
	EventTextPosted  EventKind = "text_posted"
)

// offerEvent is the audit event of an offer ending without acceptance.
func offerEvent(s OfferState) EventKind {
	switch s {
	case OfferExpired:
		return EventOfferExpired
	case OfferWithdrawn:
		return EventOfferWithdrawn
	}
	return EventOfferDeclined
}

// TimerKind names a timer. Timers are rows, so a restart loses none.
type TimerKind string

const (
	TimerIntakeExpiry TimerKind = "intake_expiry" // subject: intake ID
	TimerOfferExpiry  TimerKind = "offer_expiry"  // subject: offer ID
	TimerQueueAlert   TimerKind = "queue_alert"   // subject: case ID
	TimerReassure     TimerKind = "reassure"      // subject: case ID
	TimerPageAck      TimerKind = "page_ack"      // subject: case ID; a page not acknowledged in time
)

// Action is something a bridge must do from the outbox besides sending a message.
type Action string

const (
	ActionCreateRoom Action = "create_room"
	ActionInvite     Action = "invite"
	// ActionRemove takes the Users out of the Room. Kept for rows queued by older
	// versions; the core now sends ActionMembers.
	ActionRemove Action = "remove"
	// ActionMembers makes the Room's members exactly Users and the bot: everyone else is
	// removed (joined or invited).
	ActionMembers Action = "members"
	// ActionPage (platform Pager) pages one staff member on every channel configured
	// for them. Conversation is the staff member's Matrix ID.
	ActionPage Action = "page"
	// ActionPageAck and ActionPageResolve (platform Pager) tell the on-call tool behind
	// a paged staff member's webhook that the case was acknowledged, or closed, so that
	// it stops escalating on its own (PagerDuty would page the next person in its own
	// policy). Conversation is the paged staff member's Matrix ID.
	ActionPageAck     Action = "page_ack"
	ActionPageResolve Action = "page_resolve"
	// ActionRelay (platform Matrix) passes one event of a relayed case to the other side:
	// a message (Plain, Markdown) that may reply to an earlier one, an edit, a reaction,
	// a redaction or a file (Payload). The bridge records the relayed event's
	// counterpart, so later edits, replies and redactions find it.
	ActionRelay Action = "relay"
	// ActionLeave (platform Matrix, Conversation the Room) is queued when a case's
	// content is erased (retention, or the requester's !forget): the bot leaves the
	// case's room and discards its Megolm sessions for it, so that neither it nor a
	// copy of its keys can read the room's history any more.
	ActionLeave Action = "leave"
	// ActionTrustIdentity: trust the current cross-signing identity of Payload.Users
	// from now on (staff checked it with them).
	ActionTrustIdentity Action = "trust_identity"
	// ActionImage (platform Matrix) posts an image the core drew (Payload.Media with
	// Data, Plain as its caption), such as the coverage heat map: uploaded encrypted, as
	// a relayed file is.
	ActionImage Action = "image"
)

// Expires reports whether an outbox row of this action is dropped when it could not
// be delivered within the message expiry: a message, a relay, a page (they carry
// words, and on IRC an account name may since belong to someone else). A room or
// identity action never expires: it carries no words, and dropping one could leave
// someone in a room they must not be in, the bot in one whose case was erased, or a
// checked identity untrusted.
func (a Action) Expires() bool {
	switch a {
	case ActionCreateRoom, ActionInvite, ActionRemove, ActionMembers, ActionLeave, ActionTrustIdentity:
		return false
	}
	return true
}

// LinkKind says how two cases name each other's people.
type LinkKind string

const (
	// LinkRequesterNamed: this case's requester is a party in the other case.
	LinkRequesterNamed LinkKind = "requester_named"
	// LinkNamesRequester: a party of this case asked for help in the other case.
	LinkNamesRequester LinkKind = "names_requester"
)
