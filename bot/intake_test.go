package bot

import (
	"strings"
	"testing"
)

func keys(rs []Reply) string {
	ks := make([]string, len(rs))
	for i, r := range rs {
		ks[i] = strings.TrimPrefix(r.Key, "switchboard-")
	}
	return strings.Join(ks, ",")
}

// walk feeds answers one by one and returns the decisions.
func walk(t *testing.T, ik Intake, answers ...string) (Intake, []Decision) {
	t.Helper()
	var ds []Decision
	for _, a := range answers {
		d := Answer(ik, a)
		ds = append(ds, d)
		ik = d.Intake
	}
	return ik, ds
}

func TestEverydayIntake(t *testing.T) {
	start := NewIntake(1, "!room", "hi")
	if got := keys(start.Replies); got != "greeting,safety-intro,q-harm" {
		t.Fatalf("greeting: %s", got)
	}
	if start.Intake.Description != "" {
		t.Fatal("a short hello must not become the description")
	}
	ik, ds := walk(t, start.Intake, "no", "no", "n", "nope", "They keep reverting me and calling me names",
		"bad_actor, Other", "https://en.wikipedia.org/wiki/Foo", "English")
	wantQ := []string{"q-minor", "q-illegal", "q-offwiki", "ask-description", "ask-parties", "ask-project", "ask-language", "summary"}
	for i, d := range ds {
		if got := keys(d.Replies); got != wantQ[i] {
			t.Errorf("answer %d asked %s, want %s", i, got, wantQ[i])
		}
		if d.OpenStaffCase {
			t.Errorf("answer %d opened a staff case", i)
		}
	}
	if ik.Project != "en.wikipedia.org" || ik.Language != "en" || strings.Join(ik.Parties, "|") != "Bad actor|Other" {
		t.Errorf("answers not kept: %+v", ik)
	}
	d := Answer(ik, "yes")
	if !d.Complete || d.Intake.Status != IntakeDone {
		t.Errorf("confirmation did not complete: %+v", d)
	}
}

func TestAnyYesGoesToStaffAtOnce(t *testing.T) {
	for i, step := range safetySteps {
		answers := []string{"no", "no", "no", "no"}
		answers[i] = "yes"
		ik := NewIntake(1, "!r", "").Intake
		var opened, pointers int
		for _, a := range answers {
			d := Answer(ik, a)
			if d.OpenStaffCase {
				opened++
				ik.CaseID = 42 // as the service would
			}
			if strings.Contains(keys(d.Replies), "emergency") {
				pointers++
				if d.Replies[0].Key != "switchboard-emergency" {
					t.Errorf("%s: emergency pointers must come first", step)
				}
			}
			ik.Safety, ik.Step = d.Intake.Safety, d.Intake.Step
		}
		if opened != 1 || pointers != 1 || !ik.Safety.AnyYes() {
			t.Errorf("%s: opened %d staff cases, sent %d pointers", step, opened, pointers)
		}
	}
	// A second yes neither opens another case nor repeats the pointers.
	ik := NewIntake(1, "!r", "").Intake
	ik, ds := walk(t, ik, "yes")
	ik.CaseID = 7
	_, ds = walk(t, ik, "yes")
	if ds[0].OpenStaffCase || strings.Contains(keys(ds[0].Replies), "emergency") {
		t.Errorf("second yes: %+v", ds[0])
	}
}

func TestUnclearAnswersAreReasked(t *testing.T) {
	ik := NewIntake(1, "!r", "").Intake
	for _, a := range []string{"maybe", "what?", "<b>yes</b>"} {
		d := Answer(ik, a)
		if d.Event != "" || d.Intake.Step != StepHarm || keys(d.Replies) != "reask-yesno,q-harm" {
			t.Errorf("%q: %+v", a, d)
		}
	}
	ik, _ = walk(t, ik, "no", "no", "no", "no", "story")
	for _, tc := range []struct{ step, answer, key string }{
		{"parties", "a|b", "parties-invalid"},
	} {
		d := Answer(ik, tc.answer)
		if keys(d.Replies) != tc.key || d.Event != "" {
			t.Errorf("%s: %+v", tc.step, d)
		}
	}
	ik, _ = walk(t, ik, "none")
	if d := Answer(ik, "<script>\n"); keys(d.Replies) != "project-invalid" {
		t.Errorf("project: %s", keys(d.Replies))
	}
	ik, _ = walk(t, ik, "de.wikipedia.org")
	if d := Answer(ik, "elvish runes"); keys(d.Replies) != "language-unknown" {
		t.Errorf("language: %s", keys(d.Replies))
	}
	ik, _ = walk(t, ik, "de")
	if d := Answer(ik, "hmm"); keys(d.Replies) != "confirm-reask" || d.Complete {
		t.Errorf("confirm: %s", keys(d.Replies))
	}
	d := Answer(ik, "no")
	if d.Intake.Step != StepDescription || d.Intake.Description != "" || d.Intake.Safety.Harm == nil {
		t.Errorf("rejecting the summary should redo the details only: %+v", d.Intake)
	}
}

func TestLongOpeningIsTheDescription(t *testing.T) {
	story := "Since last week an editor follows me to every article I edit and reverts everything."
	ik := NewIntake(1, "!r", story).Intake
	ik, ds := walk(t, ik, "no", "no", "no", "no")
	if ik.Description != story || keys(ds[3].Replies) != "ask-parties" {
		t.Errorf("the story was asked again: %s", keys(ds[3].Replies))
	}
}

// nextStep resumes at the first unanswered question, whatever Step says: this is
// what makes a restored intake continue without asking anything twice.
func TestNextStepFromStoredAnswers(t *testing.T) {
	no := false
	ik := Intake{Safety: Safety{Harm: &no, Minor: &no}}
	if s := nextStep(ik); s != StepIllegal {
		t.Errorf("got %s", s)
	}
	ik.Safety.Illegal, ik.Safety.OffWiki, ik.Description, ik.Parties = &no, &no, "x", []string{}
	if s := nextStep(ik); s != StepProject {
		t.Errorf("got %s", s)
	}
}

// A paste arrives as separate lines: those that can only be more of the story or of
// the list of usernames are kept as such; anything else is still an answer.
func TestContinuation(t *testing.T) {
	long := "He follows me to every article I edit and reverts me within minutes."
	cont := func(ik Intake, text string) (Intake, bool) {
		t.Helper()
		d, ok := Continuation(ik, text)
		if ok && (d.Event == "" || len(d.Replies) != 0 || d.Intake.Step != ik.Step) {
			t.Fatalf("a continuation must change no step and say nothing: %+v", d)
		}
		return d.Intake, ok
	}

	// After a short greeting, a long line is the story; a short one or a clear yes/no
	// is answered as usual.
	ik := NewIntake(1, "!r", "hi").Intake
	if _, ok := cont(ik, "anyone there?"); ok {
		t.Error("a short line after a greeting taken as the story")
	}
	if _, ok := cont(ik, "yes, he wrote that he knows where I live and will come to my house"); ok {
		t.Error("a clear yes to the first safety question taken as the story")
	}
	ik, ok := cont(ik, long)
	if !ok || ik.Description != long {
		t.Fatalf("long line after a greeting: %v %q", ok, ik.Description)
	}
	ik, ok = cont(ik, "Also on Commons.")
	if !ok || ik.Description != long+"\nAlso on Commons." {
		t.Fatalf("a short line after the story began: %v %q", ok, ik.Description)
	}

	// Once a safety question is answered, nothing is a continuation until the story.
	ik, _ = walk(t, ik, "no")
	if _, ok := cont(ik, long); ok {
		t.Error("continuation while the safety list is under way")
	}

	// After the story answer: more story. After the usernames: more usernames, but
	// not a wiki name.
	ik = NewIntake(1, "!r", "hi").Intake
	ik, _ = walk(t, ik, "no", "no", "no", "no", "First line of my story.")
	if ik.Step != StepParties {
		t.Fatalf("step %s", ik.Step)
	}
	ik, ok = cont(ik, "Second line.")
	if !ok || ik.Description != "First line of my story.\nSecond line." {
		t.Fatalf("story continuation: %v %q", ok, ik.Description)
	}
	ik, _ = walk(t, ik, "Example_troll")
	ik, ok = cont(ik, "Other troll, example troll")
	if !ok || strings.Join(ik.Parties, "|") != "Example troll|Other troll" {
		t.Fatalf("parties continuation: %v %q", ok, ik.Parties)
	}
	if _, ok := cont(ik, "https://en.wikipedia.org/wiki/Main_Page"); ok {
		t.Error("a wiki address taken as a username")
	}
	ik, _ = walk(t, ik, "en.wikipedia.org")
	if _, ok := cont(ik, "en"); ok {
		t.Error("continuation at the language question")
	}

	// "none" leaves nothing to continue.
	ik = NewIntake(1, "!r", long).Intake
	ik, _ = walk(t, ik, "no", "no", "no", "no", "none")
	if _, ok := cont(ik, "Example_troll"); ok {
		t.Error("continuation of an empty list")
	}
}
