package main

import (
	"database/sql"
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
//
// With a dsn it is the durable echo bot: before answering, it commits the message to
// PostgreSQL with one prepared INSERT, the least a bot that keeps what it was told
// can do, and so the floor for a bot that loses nothing.
func runEchoBot(addr, account, password, dsn string) error {
	var keep *sql.Stmt
	if dsn != "" {
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			return err
		}
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS heard (id BIGSERIAL PRIMARY KEY, sender TEXT NOT NULL,
			text TEXT NOT NULL, at BIGINT NOT NULL)`); err != nil {
			return err
		}
		if keep, err = db.Prepare(`INSERT INTO heard (sender, text, at) VALUES ($1, $2, $3)`); err != nil {
			return err
		}
	}
	conn := &ircevent.Connection{
		Server: addr, Nick: account, User: account, SASLLogin: account, SASLPassword: password,
		RequestCaps: []string{"message-tags", "server-time"}, Log: log.New(io.Discard, "", 0),
	}
	conn.AddCallback("PRIVMSG", func(m ircmsg.Message) {
		if len(m.Params) == 2 && m.Params[0] == conn.CurrentNick() {
			if keep != nil {
				if _, err := keep.Exec(m.Nick(), m.Params[1], time.Now().UnixMilli()); err != nil {
					return // not kept, so not answered
				}
			}
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
