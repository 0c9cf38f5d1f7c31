package bot

import (
	"context"
	"strings"
	"time"

	"switchboard/commands"
)

// Block is a person staff stopped from using the service.
type Block struct {
	Platform   Platform
	ExternalID string
	Until      time.Time // zero: until unblocked
	Reason     string
	By         string
	At         time.Time
}

// Waiting is a first message that arrived while new intakes were over the global rate.
type Waiting struct {
	Platform     Platform
	Sender       string
	Conversation string
	Opening      string
	Unidentified bool
	At           time.Time
}

func (t *turn) cmdUnblock(a commands.Args) error {
	typed := a.String("target")
	platform, id, _ := parseTarget(typed)
	done, err := t.tx.Unblock(t.ctx, platform, id)
	if err != nil {
		return err
	}
	if !done {
		return t.reply(say("switchboard-unblock-none", typed))
	}
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: t.sender, Subject: id, Kind: EventUnblocked, At: t.now}); err != nil {
		return err
	}
	return t.reply(say("switchboard-unblocked", typed))
}

func (t *turn) cmdBlocks(commands.Args) error {
	bs, err := t.tx.Blocks(t.ctx, t.now)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		return t.reply(say("switchboard-blocks-none"))
	}
	items := make([]Reply, len(bs))
	for i, b := range bs {
		until := "—"
		if !b.Until.IsZero() {
			until = b.Until.UTC().Format("2006-01-02 15:04 UTC")
		}
		items[i] = say("switchboard-blocks-line", target(b.Platform, b.ExternalID), until, b.By, orDash(b.Reason))
	}
	return t.replyList(say("switchboard-blocks-heading"), items)
}

// parseTarget reads "@user:server" (Matrix) or "irc:account".
func parseTarget(s string) (Platform, string, bool) {
	switch {
	case commands.IsMatrixID(s):
		return Matrix, s, true
	case strings.HasPrefix(strings.ToLower(s), "irc:") && len(s) > 4 && !strings.ContainsAny(s, " \t"):
		return IRC, s[4:], true
	}
	return "", "", false
}

func target(p Platform, id string) string {
	if p == IRC {
		return "irc:" + id
	}
	return id
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// cmdBlock: !block @user|irc:account [duration] [reason]
func (t *turn) cmdBlock(a commands.Args) error {
	typed := a.String("target")
	platform, id, _ := parseTarget(typed)
	b := Block{Platform: platform, ExternalID: id, By: t.sender, At: t.now, Reason: a.String("reason")}
	if a.Has("for") {
		b.Until = t.now.Add(a.Duration("for"))
	}
	if err := t.tx.SetBlock(t.ctx, b); err != nil {
		return err
	}
	if err := t.tx.AppendEvent(t.ctx, Event{Actor: t.sender, Subject: id, Kind: EventBlocked, Text: b.Reason, At: t.now}); err != nil {
		return err
	}
	return t.reply(say("switchboard-blocked-done", typed))
}

// allowIntake takes one token from the global intake rate (golang.org/x/time/rate:
// a maintained token bucket, driven by our clock so tests need no sleeping).
func (s *Service) allowIntake(now time.Time) bool {
	if s.limiter == nil {
		return true
	}
	s.limMu.Lock()
	defer s.limMu.Unlock()
	return s.limiter.AllowN(now, 1)
}

// DrainWaitlist starts waiting intakes, oldest first, as far as the rate allows, and
// reports how many it started.
func (s *Service) DrainWaitlist(ctx context.Context) (int, error) {
	started := 0
	for {
		if !s.allowIntake(s.now()) {
			return started, nil
		}
		var done bool
		err := s.inTurn(ctx, "bot", func(t *turn) error {
			w, err := t.tx.NextWaiting(ctx)
			if err != nil || w == nil {
				done = w == nil
				return err
			}
			if t.person, err = t.tx.Person(ctx, w.Platform, w.Sender, t.now); err != nil {
				return err
			}
			t.platform, t.conv, t.unidentified, t.sender, t.fromWaitlist = w.Platform, w.Conversation, w.Unidentified, w.Sender, true
			ik, err := t.tx.OpenIntake(ctx, t.person.ID)
			if err != nil || ik != nil {
				return err // they started one meanwhile
			}
			return t.startIntake(w.Opening)
		})
		if err != nil || done {
			return started, err
		}
		started++
	}
}

// RunWaitlist drains the waitlist until ctx ends.
func (s *Service) RunWaitlist(ctx context.Context, every time.Duration) {
	for {
		if _, err := s.DrainWaitlist(ctx); err != nil && ctx.Err() == nil {
			s.log.Err(err).Msg("Starting waiting intakes failed; will retry")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
