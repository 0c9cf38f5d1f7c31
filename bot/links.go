package bot

import (
	"strings"
	"time"
)

// CaseLink says that two cases name each other's people.
type CaseLink struct {
	OtherID  int64
	OtherRef string
	Kind     LinkKind
}

// linkWindow is how far back a closed case still counts for cross-case links.
const linkWindow = 90 * 24 * time.Hour

// KnownName is the wiki name a person most likely has: the localpart of a Matrix ID
// or an IRC account, normalised like a party. Wikimedians often use one name across
// platforms; where they do not, no link is made.
func KnownName(p Platform, externalID string) string {
	name := externalID
	if p == Matrix {
		name = strings.TrimPrefix(name, "@")
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[:i]
		}
	}
	if strings.HasPrefix(name, "~") { // an unidentified IRC connection has no name
		return ""
	}
	n, ok := NormalizeUsername(name)
	if !ok {
		return ""
	}
	return n
}

// linkCases records and tells staff (only) when a case's requester is named as a party
// in another open or recent case, or the case names someone who has a case: how a
// harasser posing as a victim shows up.
func (t *turn) linkCases(c *Case) (err error) {
	defer wrapf(&err, "link case %s", c.Ref)
	p, err := t.tx.PersonByID(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	name := KnownName(p.Platform, p.ExternalID)
	if err := t.tx.SetKnownName(t.ctx, p.ID, name); err != nil {
		return err
	}
	links, err := t.tx.LinkedCases(t.ctx, c, name, t.now.Add(-linkWindow))
	if err != nil {
		return err
	}
	for _, l := range links {
		fresh, err := t.tx.AddLink(t.ctx, c.ID, l, t.now)
		if err != nil || !fresh {
			if err != nil {
				return err
			}
			continue
		}
		if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: "bot", Kind: EventCaseLinked,
			Detail: map[string]string{"other": l.OtherRef, "kind": string(l.Kind)}, At: t.now}); err != nil {
			return err
		}
		key := "switchboard-link-requester-named"
		if l.Kind == LinkNamesRequester {
			key = "switchboard-link-names-requester"
		}
		if t.s.cfg.StaffConversation != "" {
			if err := t.send(Matrix, t.s.cfg.StaffConversation, t.s.cfg.DefaultLanguage, true, true,
				say(key, c.Ref, l.OtherRef)); err != nil {
				return err
			}
		}
	}
	return nil
}
