package main

import (
	"fmt"
	"strings"
)

// guide prints how to log in as each member of the team and the three things each
// should type first.
func (sb *sandbox) guide() {
	say := func(f string, a ...any) { fmt.Fprintf(sb.o.out, f+"\n", a...) }
	t := sb.team
	port := sb.irc.Addr()[strings.LastIndex(sb.irc.Addr(), ":")+1:]
	say("")
	say("Switchboard is running, with a team set up. Log in with any Matrix client (Element")
	say("Desktop or Web, gomuks, iamb, …): choose \"other homeserver\", enter")
	say("%s (plain HTTP, this machine only) and one of the accounts below.", sb.hs.URL())
	say("The bot is %s.", sb.botID)
	say("")
	say("Staff, volunteers and coordinators act only from a session they verified. A new login")
	say("in Element asks to verify itself: choose \"use recovery key\" and paste the key shown")
	say("for that account. (Older messages stay unreadable on a new login: that is end-to-end")
	say("encryption at work.)")
	say("")
	say("Rooms: \"Switchboard staff\" (Sam, Kim), \"Switchboard coordinators\" (Chris), \"Switchboard")
	say("volunteers\" (Vera, Tomas; requests are announced there with -broadcast). Staff are on")
	say("call, Sam first, then Kim: their pages go to a recorder standing in for their phones")
	say("(%s), and this window prints each one as it comes.", sb.pager.URL())
	role := func(m *member, what string, steps ...string) {
		say("")
		say("%s — %s  password %s", what, m.id, m.password)
		if m.c != nil {
			if key := m.c.RecoveryKey(); key != "" {
				say("  recovery key: %s", key)
			}
		}
		for i, s := range steps {
			say("  %d. %s", i+1, s)
		}
	}
	role(t["requester"], "A requester (someone asking for help)",
		fmt.Sprintf("Start a direct chat with %s and write: hello", sb.botID),
		"Answer the four safety questions (no, no, no, no), then say what happened, who and where.",
		"Once your request is open: !status   (a \"yes\" to any safety question goes to staff instead)")
	role(t["volunteer"], "Vera, a confirmed volunteer, on duty (wiki name "+t["volunteer"].wiki+")",
		"In your direct chat with the bot: !me",
		"When \"New request SB-…\" comes there: !accept",
		"In the case room that opens, write to the requester (she sees you as \"Helper …\"), then: !close resolved")
	role(t["trainee"], "Tomas, a trainee, mentored by Vera (wiki name "+t["trainee"].wiki+")",
		"In your direct chat with the bot: !on",
		"!me   (shows your mentor, languages and limit)",
		"When a request comes: !accept   (Vera joins the case room with you)")
	role(t["staff"], "Sam, staff, first on call",
		"In the staff room: !volunteer list",
		"When a request goes to staff, you are paged: !ack SB-…   (in the staff room)",
		"!audit SB-…   (everything that happened to a request, without its content)")
	role(t["staff2"], "Kim, staff, second on call (paged when Sam does not !ack within 5 minutes)",
		"In the staff room: !help",
		"!volunteer show "+t["trainee"].id.String(),
		"!blocks")
	role(t["coordinator"], "Chris, coordinator",
		"In the coordinators' room: !queue",
		"!coverage",
		"!stats 7d")
	say("")
	say("An IRC requester — account %s  password %s  (NickServ, on the local IRC network)", ircDemoAccount, ircDemoPassword)
	say("  1. In irssi, WeeChat or HexChat: /connect 127.0.0.1 %s   (plain text, this machine only)", port)
	say("  2. /msg NickServ IDENTIFY %s %s   (or log in with SASL PLAIN)", ircDemoAccount, ircDemoPassword)
	say("  3. /msg Switchboard hello   (the bot also sits in %s, where it only points here)", ircChannel)
	say("")
	say("Press Ctrl-C to stop; all sandbox data is deleted then.")
}
