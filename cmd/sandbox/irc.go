package main

import (
	"context"
	"time"

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
	// The local network takes testenv.IRCCommandRate lines a second; the bot stays well
	// under that, as the defaults keep it under Libera.Chat's limits. With those, a
	// six-line summary would take six seconds here.
	c.FloodInterval = config.Duration(time.Second / (testenv.IRCCommandRate / 2))
	c.FloodBurst = testenv.IRCThreshold / 5
	return c
}
