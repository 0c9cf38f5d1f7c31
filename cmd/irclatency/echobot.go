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
//
// With tx as well it is the transactional echo bot: the least a bot can do that
// answers from what it knows of the sender and keeps its answer with the change, as
// Switchboard does (where is this person in the intake; the answer in the outbox, in
// the same transaction, so a crash loses neither): BEGIN, the sender's row locked and
// read (an upsert), the answer written, COMMIT. Four round trips, against the durable
// echo bot's one and Switchboard's seven.
func runEchoBot(addr, account, password, dsn string, transactional bool) error {
	var keep *sql.Stmt
	var db *sql.DB
	var state *sql.Stmt
	if dsn != "" {
		var err error
		if db, err = sql.Open("postgres", dsn); err != nil {
			return err
		}
		if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS heard (id BIGSERIAL PRIMARY KEY, sender TEXT NOT NULL,
			text TEXT NOT NULL, at BIGINT NOT NULL)`); err != nil {
			return err
		}
		if keep, err = db.Prepare(`INSERT INTO heard (sender, text, at) VALUES ($1, $2, $3)`); err != nil {
			return err
		}
		if transactional {
			if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS senders (sender TEXT PRIMARY KEY, seen BIGINT NOT NULL)`); err != nil {
				return err
			}
			if state, err = db.Prepare(`INSERT INTO senders (sender, seen) VALUES ($1, 1)
				ON CONFLICT (sender) DO UPDATE SET seen = senders.seen + 1 RETURNING seen`); err != nil {
				return err
			}
		}
	}
	conn := &ircevent.Connection{
		Server: addr, Nick: account, User: account, SASLLogin: account, SASLPassword: password,
		RequestCaps: []string{"message-tags", "server-time"}, Log: log.New(io.Discard, "", 0),
	}
	conn.AddCallback("PRIVMSG", func(m ircmsg.Message) {
		if len(m.Params) == 2 && m.Params[0] == conn.CurrentNick() {
			switch {
			case state != nil:
				if err := keepInTx(db, state, keep, m.Nick(), m.Params[1]); err != nil {
					return // not kept, so not answered
				}
			case keep != nil:
				if _, err := keep.Exec(m.Nick(), m.Params[1], time.Now().UnixMilli()); err != nil {
					return
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

// keepInTx is the transactional echo bot's turn: the sender's state locked and read,
// the answer written, one commit.
func keepInTx(db *sql.DB, state, answer *sql.Stmt, sender, text string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var seen int64
	if err := tx.Stmt(state).QueryRow(sender).Scan(&seen); err != nil {
		return err
	}
	if _, err := tx.Stmt(answer).Exec(sender, text, seen); err != nil {
		return err
	}
	return tx.Commit()
}
