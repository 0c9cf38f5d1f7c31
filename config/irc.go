package config

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// IRC is the optional IRC connection. An empty server leaves IRC off.
type IRC struct {
	Server   string   `yaml:"server"`
	TLS      bool     `yaml:"tls"`
	Nick     string   `yaml:"nick"`
	Account  string   `yaml:"account"`
	Password string   `yaml:"password"`
	Channels []string `yaml:"channels"`
	// FloodInterval and FloodBurst size the bot's own token bucket: one line
	// every FloodInterval after a burst of FloodBurst.
	FloodInterval Duration `yaml:"flood-interval"`
	FloodBurst    int      `yaml:"flood-burst"`
	// PasteWindow: a line that comes this soon after the person's previous one is
	// more of their story or list of usernames, not an answer (0 turns this off).
	PasteWindow Duration `yaml:"paste-window"`
}

// Enabled reports whether the bot connects to IRC.
func (c IRC) Enabled() bool { return strings.TrimSpace(c.Server) != "" }

func ircDefaults() IRC {
	return IRC{Nick: "Switchboard", TLS: true, FloodInterval: Duration(time.Second), FloodBurst: 4,
		PasteWindow: Duration(time.Second)}
}

func (c IRC) validate() error {
	if !c.Enabled() {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Server)
	if p, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || p <= 0 || p > 65535 {
		return &Error{Key: "irc.server", Msg: "must be host:port, such as irc.libera.chat:6697"}
	}
	if isPlaceholder(c.Server) {
		return &Error{Key: "irc.server", Msg: "still has the example's placeholder value; set your own"}
	}
	if c.Nick == "" || strings.ContainsAny(c.Nick, " ,*?!@#:\x00\r\n") || strings.ContainsAny(c.Nick[:1], "0123456789-$&") {
		return &Error{Key: "irc.nick", Msg: "must be a valid IRC nick such as Switchboard"}
	}
	// The bot logs in with SASL so that people can check with WHOIS that they
	// talk to the real bot, whose nick services protect.
	for key, v := range map[string]string{"irc.account": c.Account, "irc.password": c.Password} {
		switch {
		case strings.TrimSpace(v) == "":
			return &Error{Key: key, Msg: "is missing (the bot logs in to its services account with SASL)"}
		case isPlaceholder(v):
			return &Error{Key: key, Msg: "still has the example's placeholder value; set your own"}
		}
	}
	for i, ch := range c.Channels {
		if len(ch) < 2 || !strings.ContainsAny(ch[:1], "#&") || strings.ContainsAny(ch, " ,\x07") {
			return &Error{Key: "irc.channels[" + strconv.Itoa(i) + "]", Msg: "must be a channel name such as #wikimedia-help"}
		}
	}
	if c.FloodInterval.D() < time.Millisecond {
		return &Error{Key: "irc.flood-interval", Msg: "must be at least 1ms (1s suits Libera.Chat)"}
	}
	if c.PasteWindow.D() < 0 || c.PasteWindow.D() > 10*time.Second {
		return &Error{Key: "irc.paste-window", Msg: "must be between 0s (off) and 10s; 1s catches a client's burst of pasted lines"}
	}
	if c.FloodBurst < 2 {
		return &Error{Key: "irc.flood-burst", Msg: "must be at least 2"}
	}
	return nil
}
