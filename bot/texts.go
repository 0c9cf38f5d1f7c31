package bot

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/commands"
	"switchboard/i18n"
)

// Text modules: short guidance texts staff keep in a library, one per name and
// language (how to report at a noticeboard, how to reach Trust and Safety, …), which
// whoever works a case posts to its requester with !text <name>, in the requester's
// language when the library has it. The model is ModMail's snippets, Chatwoot's canned
// responses and the text modules of ticket systems. Staff change the library in the
// staff room only, so every change is seen by the other staff as it happens, and each
// is audited. A newly accepted case's volunteer gets the checklist text in the room.

// TextName names a text module. The ones Switchboard ships are seeded by the store's
// migration (store/upgrades/10-text-modules.sql), in English; staff may change or
// remove them like any other.
type TextName string

const (
	TextChecklist     TextName = "checklist"
	TextNoticeboard   TextName = "noticeboard"
	TextTrustSafety   TextName = "trust-and-safety"
	TextVolunteerRole TextName = "volunteer-role"
	TextDiffs         TextName = "diffs"
)

// textList is the word that lists the texts in a case room, so no text may take it.
const textList = "list"

// TextModule is one text of the library in one language. Body is Markdown.
type TextModule struct {
	Name      string
	Lang      string
	Body      string
	UpdatedBy string // "" for a text Switchboard shipped
	UpdatedAt time.Time
}

var (
	textNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	langCodeRe = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{1,8})*$`)

	// TextNameArg is a text's name: lower-case letters, digits and hyphens, at most 32.
	TextNameArg = commands.NewKind("text-name", func(w string) (any, bool) {
		w = strings.ToLower(w)
		return w, textNameRe.MatchString(w)
	})
	// LangArg is a language code as MediaWiki writes them (de, gsw, de-ch, zh-hant).
	LangArg = commands.NewKind("language", func(w string) (any, bool) {
		w = strings.ToLower(strings.ReplaceAll(w, "_", "-"))
		return w, langCodeRe.MatchString(w)
	})
)

// textLanguages lists the languages to post a text in for a requester of lang, best
// first: theirs and its MediaWiki fallbacks, then the service's default language and
// its fallbacks, English last.
func textLanguages(lang, defaultLang string) []string {
	out := slices.DeleteFunc(slices.Clone(i18n.Chain(lang)), func(l string) bool { return l == i18n.Fallback })
	for _, l := range i18n.Chain(defaultLang) {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// pickText is the version of a text to use among its languages, or nil.
func pickText(versions []TextModule, langs []string) *TextModule {
	for _, l := range langs {
		for i := range versions {
			if versions[i].Lang == l {
				return &versions[i]
			}
		}
	}
	return nil
}

// The staff's commands, in the staff room.

func (t *turn) cmdTextList(commands.Args) error {
	all, err := t.tx.Texts(t.ctx, "")
	if err != nil {
		return err
	}
	names, langs := groupTexts(all)
	if len(names) == 0 {
		return t.reply(say("switchboard-text-none"))
	}
	items := make([]Reply, 0, len(names))
	for _, n := range names {
		items = append(items, say("switchboard-text-line", n, strings.Join(langs[n], ", ")))
	}
	return t.replyList(say("switchboard-text-heading", len(names)), items)
}

// groupTexts lists the names of a library, sorted, with each name's languages.
func groupTexts(all []TextModule) ([]string, map[string][]string) {
	var names []string
	langs := map[string][]string{}
	for _, m := range all {
		if _, ok := langs[m.Name]; !ok {
			names = append(names, m.Name)
		}
		langs[m.Name] = append(langs[m.Name], m.Lang)
	}
	slices.Sort(names)
	return names, langs
}

func (t *turn) cmdTextShow(a commands.Args) error {
	name, lang := a.String("name"), a.String("lang")
	versions, err := t.tx.Texts(t.ctx, name)
	if err != nil {
		return err
	}
	if lang != "" {
		versions = slices.DeleteFunc(versions, func(m TextModule) bool { return m.Lang != lang })
	}
	if len(versions) == 0 {
		return t.reply(say("switchboard-text-unknown", name))
	}
	for _, m := range versions {
		by := m.UpdatedBy
		if by == "" {
			by = "Switchboard"
		}
		// The source, in a code block: what staff would type to change it.
		if err := t.replyCode(say("switchboard-text-show", m.Name, m.Lang, m.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC"), by), m.Body); err != nil {
			return err
		}
	}
	return nil
}

func (t *turn) cmdTextAdd(a commands.Args) error { return t.putText(a, true) }

func (t *turn) cmdTextEdit(a commands.Args) error { return t.putText(a, false) }

// putText adds a text (create) or changes one (!create), audited with its name and
// language; the audit never holds the text itself, only its length.
func (t *turn) putText(a commands.Args, create bool) (err error) {
	m := TextModule{Name: a.String("name"), Lang: a.String("lang"), Body: strings.TrimSpace(a.String("text")),
		UpdatedBy: t.sender, UpdatedAt: t.now}
	defer wrapf(&err, "put text %s (%s)", m.Name, m.Lang)
	if m.Name == textList {
		return t.reply(say("switchboard-text-reserved", m.Name))
	}
	var done bool
	kind := EventTextAdded
	if create {
		done, err = t.tx.AddText(t.ctx, m)
	} else {
		kind = EventTextEdited
		done, err = t.tx.EditText(t.ctx, m)
	}
	if err != nil {
		return err
	}
	switch {
	case !done && create:
		return t.reply(say("switchboard-text-exists", m.Name, m.Lang))
	case !done:
		return t.reply(say("switchboard-text-missing", m.Name, m.Lang))
	}
	if err := t.textEvent(kind, m.Name, m.Lang, len([]rune(m.Body))); err != nil {
		return err
	}
	if create {
		return t.reply(say("switchboard-text-added", m.Name, m.Lang))
	}
	return t.reply(say("switchboard-text-edited", m.Name, m.Lang))
}

func (t *turn) cmdTextRemove(a commands.Args) error {
	name, lang := a.String("name"), a.String("lang")
	removed, err := t.tx.RemoveText(t.ctx, name, lang)
	if err != nil {
		return err
	}
	if len(removed) == 0 {
		if lang == "" {
			return t.reply(say("switchboard-text-unknown", name))
		}
		return t.reply(say("switchboard-text-missing", name, lang))
	}
	for _, l := range removed {
		if err := t.textEvent(EventTextRemoved, name, l, 0); err != nil {
			return err
		}
	}
	return t.reply(say("switchboard-text-removed", name, strings.Join(removed, ", ")))
}

// textEvent audits a change of the library: who, which text, which language.
func (t *turn) textEvent(kind EventKind, name, lang string, chars int) error {
	detail := map[string]string{"text": name, "lang": lang}
	if kind != EventTextRemoved {
		detail["chars"] = strconv.Itoa(chars)
	}
	return t.tx.AppendEvent(t.ctx, Event{Actor: t.sender, Kind: kind, Detail: detail, At: t.now})
}

// cmdTextPost is !text <name> in a case room: the text goes to the requester in her
// language (relayed under the helper's pseudonym when she is not in the room, and
// shown in the room so the helpers read what she got), or, without a name, the list
// of texts to choose from.
func (t *turn) cmdTextPost(a commands.Args) (err error) {
	c, name := t.caller.room, a.String("name")
	if name == "" || name == textList {
		return t.textIndex()
	}
	defer wrapf(&err, "post text %s in case %s", name, c.Ref)
	versions, err := t.tx.Texts(t.ctx, name)
	if err != nil {
		return err
	}
	p, err := t.tx.PersonRef(t.ctx, c.PersonID)
	if err != nil {
		return err
	}
	lang := c.Language
	if lang == "" {
		lang = p.Language
	}
	m := pickText(versions, textLanguages(lang, t.s.cfg.DefaultLanguage))
	if m == nil {
		if err := t.reply(say("switchboard-text-unknown", name)); err != nil {
			return err
		}
		return t.textIndex()
	}
	if err := t.tx.AppendEvent(t.ctx, Event{CaseID: c.ID, Actor: t.sender, Kind: EventTextPosted,
		Detail: map[string]string{"text": m.Name, "lang": m.Lang}, At: t.now}); err != nil {
		return err
	}
	plain := i18n.PlainText(m.Body)
	if !relayed(c, p) { // she reads the room: the text is posted there
		return t.enqueue(Outgoing{Platform: Matrix, Conversation: t.conv, Plain: plain, Markdown: m.Body})
	}
	if err := t.relayOutAs(c, plain, m.Body); err != nil {
		return err
	}
	if err := t.reply(say("switchboard-text-sent", t.pseudonym(c, t.sender), m.Name, m.Lang)); err != nil {
		return err
	}
	return t.enqueue(Outgoing{Platform: Matrix, Conversation: t.conv, Plain: plain, Markdown: m.Body})
}

// textIndex tells a case room which texts there are.
func (t *turn) textIndex() error {
	all, err := t.tx.Texts(t.ctx, "")
	if err != nil {
		return err
	}
	names, _ := groupTexts(all)
	if len(names) == 0 {
		return t.reply(say("switchboard-text-none-here"))
	}
	return t.reply(say("switchboard-text-index", strings.Join(names, ", ")))
}

// checklist is the checklist text for a newly accepted case's room, in the room's
// language, or "" when staff removed it.
func (t *turn) checklist() (plain, markdown string, err error) {
	versions, err := t.tx.Texts(t.ctx, string(TextChecklist))
	if err != nil {
		return "", "", err
	}
	m := pickText(versions, textLanguages(t.s.cfg.DefaultLanguage, t.s.cfg.DefaultLanguage))
	if m == nil {
		return "", "", nil
	}
	return i18n.PlainText(m.Body), m.Body, nil
}
