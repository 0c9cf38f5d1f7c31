package bot

import "time"

// RouteQuery is what routing needs to know about a case.
type RouteQuery struct {
	CaseID    int64
	Requester string // the requester's platform ID, so they are never their own volunteer
	Language  string
	Parties   []string
	Now       time.Time
	// Only, when set, asks whether this one volunteer fits (broadcast mode's check).
	Only int64
	// OffersSince: offers of the case made before then do not exclude a volunteer (the
	// case was reopened since; zero: every offer counts).
	OffersSince time.Time
}

// OfferState is the outcome of offering a case to a volunteer.
type OfferState string

const (
	OfferOpen      OfferState = "open"
	OfferAccepted  OfferState = "accepted"
	OfferDeclined  OfferState = "declined"
	OfferExpired   OfferState = "expired"
	OfferWithdrawn OfferState = "withdrawn"
)

// Offer is one offer of a case to a volunteer.
type Offer struct {
	ID          int64
	CaseID      int64
	VolunteerID int64
	State       OfferState
	OfferedAt   time.Time
}
