package main

import (
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ergochat/irc-go/ircevent"
	"github.com/ergochat/irc-go/ircmsg"
)

// runEchoBot is the floor Switchboard is measured against: a bare irc-go bot that
// logs in with SASL like Switchboard and answers every private message with its
// text, from its read loop, and does nothing else. It runs as its own process.
func runEchoBot(addr, account, password string) error {
	conn := &ircevent.Connection{
		Server: addr, Nick: account, User: account, SASLLogin: account, SASLPassword: password,
		RequestCaps: []string{"message-tags", "server-time"}, Log: log.New(io.Discard, "", 0),
	}
	conn.AddCallback("PRIVMSG", func(m ircmsg.Message) {
		if len(m.Params) == 2 && m.Params[0] == conn.CurrentNick() {
			_ = conn.Privmsg(m.Nick(), m.Params[1])
		}
	})
	if err := conn.Connect(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		conn.Quit()
		time.Sleep(2 * time.Second) // a server that is gone never closes the link
		os.Exit(0)
	}()
	conn.Loop()
	return nil
}
