-- v9 -> v10: Text modules: a library of short guidance texts, one per name and language, that staff keep and volunteers post into case rooms
-- updated_by is the staff member who last changed a text; empty for a text Switchboard shipped.
CREATE TABLE text_modules (
	name       TEXT   NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
	lang       TEXT   NOT NULL CHECK (lang ~ '^[a-z]{2,3}(-[a-z0-9]{1,8})*$'),
	body       TEXT   NOT NULL CHECK (body <> ''),
	updated_by TEXT   NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (name, lang)
);

-- The texts Switchboard ships, in English (bot.TextName); staff translate, change or
-- remove them with !text in the staff room.
INSERT INTO text_modules (name, lang, body, updated_at) VALUES
('checklist', 'en', $text$**Checklist for this case**
- Read the summary above, the safety answers first.
- Greet the requester and say what volunteers can and cannot do: `!text volunteer-role`.
- If you need evidence, ask for diffs: `!text diffs`.
- Risk of harm, a child involved, illegal acts or contact outside the wiki: `!escalate` at once.
- Keep notes for coordinators with `!note`; when it is over, `!close` with how it ended.$text$, (extract(epoch FROM now()) * 1000)::bigint),
('noticeboard', 'en', $text$**Reporting at a noticeboard.** Most wikis have a page where administrators take reports of harassment and disruptive behaviour: on the English Wikipedia it is "Wikipedia:Administrators' noticeboard/Incidents", and other wikis link theirs from their community portal. A good report is short and calm: who is involved (their usernames), what happened, and links to the edits that show it (diffs). Most noticeboards ask you to tell the user you report. If that feels unsafe, or the report would reveal private information, do not post it: say so here, and we will look for another way.$text$, (extract(epoch FROM now()) * 1000)::bigint),
('trust-and-safety', 'en', $text$**Reaching Trust and Safety.** The Wikimedia Foundation's Trust and Safety team handles what the communities cannot: threats, cases involving children, harassment across several wikis, and legal matters. You can write to them at **ca@wikimedia.org**. If someone threatens violence or self-harm, write to **emergency@wikimedia.org**, which is read around the clock; if anyone is in danger right now, call your local emergency number first.$text$, (extract(epoch FROM now()) * 1000)::bigint),
('volunteer-role', 'en', $text$**What volunteers can and cannot do.** We can listen, explain the wiki's rules and processes, help you collect evidence and write a report, and tell you who can act. We cannot block anyone, delete or hide edits, speak for the Wikimedia Foundation, give legal advice, or promise an outcome. If anyone is at risk of harm, we pass your request to Foundation staff, who can do more.$text$, (extract(epoch FROM now()) * 1000)::bigint),
('diffs', 'en', $text$**Collecting diffs.** A diff is a link to one edit. To get one, open the page's **View history**, click **prev** next to the edit, and copy the address from your browser: it contains "diff=". The edits of one user are listed at **Special:Contributions** followed by their username. Collect one diff for each incident, oldest first, each with a line saying what it shows. Deleted edits cannot be linked: note the page and the time instead, and administrators can look them up.$text$, (extract(epoch FROM now()) * 1000)::bigint);
