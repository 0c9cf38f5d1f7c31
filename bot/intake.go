package bot

import (
	"slices"
	"strings"
	"unicode/utf8"

	"switchboard/i18n"
)

// Reply is a message from the catalogue with its parameters, rendered later in the
// person's language.
type Reply struct {
	Key    string
	Params []any
}

func say(key string, params ...any) Reply { return Reply{Key: key, Params: params} }

// Decision is what one answer does to an intake: its next state, what to say, and
// whether a case must be opened or updated. It is computed without any I/O.
type Decision struct {
	Intake  Intake
	Replies []Reply
	// OpenStaffCase asks for a staff-route case to be created now, before the intake
	// ends, so staff hear of it at once (the first "yes" on the safety list).
	OpenStaffCase bool
	// Complete means the requester confirmed: the case gets the details and moves on.
	Complete bool
	// Event names what happened for the audit log ("" when nothing changed).
	Event EventKind
}

// safetySteps are asked one at a time, in this order.
var safetySteps = []Step{StepHarm, StepMinor, StepIllegal, StepOffWiki}

var questionKeys = map[Step]string{
	StepHarm:        "switchboard-q-harm",
	StepMinor:       "switchboard-q-minor",
	StepIllegal:     "switchboard-q-illegal",
	StepOffWiki:     "switchboard-q-offwiki",
	StepDescription: "switchboard-ask-description",
	StepParties:     "switchboard-ask-parties",
	StepProject:     "switchboard-ask-project",
	StepLanguage:    "switchboard-ask-language",
}

// Question is what the intake asks at its current step.
func Question(ik Intake) Reply {
	switch ik.Step {
	case StepConfirm:
		return summary(ik)
	case StepLanguage: // offering the languages the bot itself writes
		return say(questionKeys[ik.Step], i18n.OfferedLanguages)
	}
	return say(questionKeys[ik.Step])
}

// maxDescription bounds what one intake stores; more can come with !add.
const maxDescription = 4000

// openingAsDescription is how long a first message must be to count as the story, so a
// person who wrote it all at once is not asked for it again.
const openingAsDescription = 60

// NewIntake starts the conversation. A long first message is kept as the description.
func NewIntake(personID int64, conversation, opening string) Decision {
	ik := Intake{PersonID: personID, Conversation: conversation, Status: IntakeOpen, Step: StepHarm}
	if utf8.RuneCountInString(strings.TrimSpace(opening)) >= openingAsDescription && !strings.HasPrefix(opening, "!") {
		ik.Description = truncate(strings.TrimSpace(opening), maxDescription)
	}
	return Decision{
		Intake:  ik,
		Replies: []Reply{say("switchboard-greeting"), say("switchboard-safety-intro"), Question(ik)},
		Event:   EventIntakeStarted,
	}
}

// Continuation takes text that came very soon after the previous message (within
// Config.IRCPasteWindow: nobody reads a question and answers it that fast, but IRC
// clients send a pasted text as a quick burst of lines) as more of what the person
// was writing: the story (after the first message, when that
// was the story, or after the story answer) or the list of usernames. ok is false when
// the text is not a continuation and must be taken as an answer. Nothing is replied:
// the question stands, and the summary shows everything before it is confirmed.
func Continuation(ik Intake, text string) (d Decision, ok bool) {
	text = strings.TrimSpace(text)
	d = Decision{Intake: ik}
	nothingAnswered := ik.Safety == Safety{}
	switch {
	case ik.Step == StepHarm && nothingAnswered:
		// More of the first message. A short line ("anyone there?") is not a story, and a
		// clear yes or no ("yes, he threatened me") is the answer to the first safety
		// question, already on their screen: both are taken as usual.
		if ik.Description == "" && utf8.RuneCountInString(text) < openingAsDescription {
			return d, false
		}
		if _, clear := ParseYesNo(text); clear {
			return d, false
		}
		d.Intake.Description = joinStory(ik.Description, text)
	case ik.Step == StepParties && ik.Description != "":
		d.Intake.Description = joinStory(ik.Description, text)
	case ik.Step == StepProject && len(ik.Parties) > 0:
		more, valid := ParseParties(text)
		if !valid || len(more) == 0 {
			return d, false
		}
		names := append([]string{}, ik.Parties...)
		for _, n := range more {
			if !slices.Contains(names, n) && len(names) < maxParties {
				names = append(names, n)
			}
		}
		d.Intake.Parties = names
	default:
		return d, false
	}
	d.Event = EventContinued
	return d, true
}

func joinStory(story, more string) string {
	if story == "" {
		return truncate(more, maxDescription)
	}
	return truncate(story+"\n"+more, maxDescription)
}

// Answer applies one answer to the intake's current question.
func Answer(ik Intake, text string) Decision {
	text = strings.TrimSpace(text)
	d := Decision{Intake: ik}
	switch ik.Step {
	case StepHarm, StepMinor, StepIllegal, StepOffWiki:
		yes, ok := ParseYesNo(text)
		if !ok {
			d.Replies = []Reply{say("switchboard-reask-yesno"), Question(ik)}
			return d
		}
		wasStaff := ik.Safety.AnyYes()
		setSafety(&d.Intake.Safety, ik.Step, yes)
		if yes && !wasStaff {
			d.Replies = append(d.Replies, say("switchboard-emergency"))
			d.OpenStaffCase = ik.CaseID == 0
		}
		d.Event = EventSafetyAnswered
	case StepDescription:
		if ik.Description != "" { // something came earlier with !add
			text = ik.Description + "\n\n" + text
		}
		d.Intake.Description = truncate(text, maxDescription)
		d.Event = EventDescriptionGiven
	case StepParties:
		names, ok := ParseParties(text)
		if !ok {
			d.Replies = []Reply{say("switchboard-parties-invalid")}
			return d
		}
		d.Intake.Parties = names
		d.Event = EventPartiesGiven
	case StepProject:
		p := normalizeProject(text)
		if p == "" {
			d.Replies = []Reply{say("switchboard-project-invalid")}
			return d
		}
		d.Intake.Project = p
		d.Event = EventProjectGiven
	case StepLanguage:
		code, ok := ParseLanguage(text)
		if !ok {
			d.Replies = []Reply{say("switchboard-language-unknown", i18n.OfferedLanguages)}
			return d
		}
		d.Intake.Language = code
		d.Event = EventLanguageGiven
	case StepConfirm:
		yes, ok := ParseYesNo(text)
		switch {
		case !ok:
			d.Replies = []Reply{say("switchboard-confirm-reask")}
			return d
		case !yes:
			// Go over the details again; the safety answers stand.
			d.Intake.Description, d.Intake.Parties, d.Intake.Project = "", nil, ""
			d.Intake.Step = StepDescription
			d.Event = EventSummaryRejected
			d.Replies = []Reply{say("switchboard-redo-details"), Question(d.Intake)}
			return d
		}
		d.Intake.Status = IntakeDone
		d.Complete = true
		d.Event = EventIntakeCompleted
		return d
	}
	d.Intake.Step = nextStep(d.Intake)
	d.Replies = append(d.Replies, Question(d.Intake))
	return d
}

func setSafety(s *Safety, step Step, v bool) {
	switch step {
	case StepHarm:
		s.Harm = &v
	case StepMinor:
		s.Minor = &v
	case StepIllegal:
		s.Illegal = &v
	case StepOffWiki:
		s.OffWiki = &v
	}
}

// nextStep is the first question still unanswered, so a restored intake resumes where
// it stopped and nothing is asked twice.
func nextStep(ik Intake) Step {
	s := ik.Safety
	switch {
	case s.Harm == nil:
		return StepHarm
	case s.Minor == nil:
		return StepMinor
	case s.Illegal == nil:
		return StepIllegal
	case s.OffWiki == nil:
		return StepOffWiki
	case ik.Description == "":
		return StepDescription
	case ik.Parties == nil: // "none" is an empty, non-nil list
		return StepParties
	case ik.Project == "":
		return StepProject
	case ik.Language == "":
		return StepLanguage
	}
	return StepConfirm
}

func summary(ik Intake) Reply {
	parties := strings.Join(ik.Parties, ", ")
	if parties == "" {
		parties = "—"
	}
	return say("switchboard-summary", ik.Project, parties, ik.Language, ik.Description)
}

func normalizeProject(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i > 0 {
		s = s[:i]
	}
	if s == "" || utf8.RuneCountInString(s) > 100 || strings.ContainsAny(s, "\n<>") {
		return ""
	}
	return s
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
