package main

import (
	"context"

	"switchboard/config"
	"switchboard/internal/testenv"
)

// The sandbox's IRC accounts: the bot's own, and one for a person to try it with.
const (
	ircBotAccount, ircBotPassword   = "switchboard", "bot-irc-password"
	ircDemoAccount, ircDemoPassword = "requester", "requester-password"
	ircChannel                      = "#wikimedia-help"
)

// startIRC starts the local IRC network and registers the bot's and the demo
// person's services accounts.
func startIRC(ctx context.Context) (*testenv.IRC, error) {
	n, err := testenv.StartIRC()
	if err != nil {
		return nil, err
	}
	for _, a := range [][2]string{{ircBotAccount, ircBotPassword}, {ircDemoAccount, ircDemoPassword}} {
		if err := n.Register(ctx, a[0], a[1]); err != nil {
			n.Stop()
			return nil, err
		}
	}
	return n, nil
}

func sandboxIRC(n *testenv.IRC) config.IRC {
	c := config.Defaults().IRC
	c.Server, c.TLS = n.Addr(), false // loopback only
	c.Nick, c.Account, c.Password = "Switchboard", ircBotAccount, ircBotPassword
	c.Channels = []string{ircChannel}
	return c
}

func printIRC(say func(string, ...any), n *testenv.IRC) {
	say("IRC (the bot is Switchboard, and sits in %s):", ircChannel)
	say("  Server:      %s   (plain text, no TLS; this machine only)", n.Addr())
	say("  Account:     %s  password %s  (a NickServ account)", ircDemoAccount, ircDemoPassword)
	say("Connect with any IRC client (irssi, WeeChat, HexChat, …), e.g. in irssi:")
	say("  /connect 127.0.0.1 %s", n.Addr()[len("127.0.0.1:"):])
	say("  /nick %s", ircDemoAccount)
	say("  /msg NickServ IDENTIFY %s %s", ircDemoAccount, ircDemoPassword)
	say("  /msg Switchboard hello")
	say("or log in with SASL PLAIN as %s. Unidentified, the bot still helps but ties", ircDemoAccount)
	say("the request to your connection; in %s it answers !help with a pointer.", ircChannel)
}
