package config

import "switchboard/bot"

// Core is the core's share of the configuration. The core takes its settings only from
// here, so Defaults (next to Validate) is the one place a default is written.
func (c *Config) Core() bot.Config {
	return bot.Config{
		IntakeExpiry:      c.Service.IntakeExpiry.D(),
		StaffPlatform:     bot.Matrix,
		StaffConversation: c.Service.StaffRoom,
		MaxMessage:        c.Service.MaxMessageLength,
		DefaultLanguage:   c.Service.DefaultLanguage,
		MatrixContact:     c.Bot.UserID,
		Retention:         c.Service.Retention.D(),
		MessageExpiry:     c.Service.MessageExpiry.D(),
		IRCPasteWindow:    c.IRC.PasteWindow.D(),

		Staff:                    c.Service.Staff,
		Coordinators:             c.Service.Coordinators,
		CoordinatorsConversation: c.Service.CoordinatorsRoom,
		OfferExpiry:              c.Service.Routing.OfferExpiry.D(),
		QueueAlertAfter:          c.Service.Routing.QueueAlertAfter.D(),
		ReassureEvery:            c.Service.Routing.ReassureEvery.D(),
		DefaultCaseLimit:         c.Service.Routing.DefaultCaseLimit,
		Broadcast:                c.Service.Routing.Mode == "broadcast",
		SharedRooms:              c.Service.CaseRooms == "shared",
		VolunteersConversation:   c.Service.Routing.VolunteersRoom,
		OnCall:                   c.Service.OnCall.Chain,
		RotationStart:            c.Service.OnCall.Start(),
		RotationPeriod:           c.Service.OnCall.RotationPeriod.D(),
		AckTimeout:               c.Service.OnCall.AckTimeout.D(),
		MaxRounds:                c.Service.OnCall.MaxRounds,
		RepageEvery:              c.Service.OnCall.RepageEvery.D(),
		IntakesPerDay:            c.Service.Abuse.IntakesPerDay,
		IntakeRate:               float64(c.Service.Abuse.IntakeRate),
		IntakeBurst:              c.Service.Abuse.IntakeBurst,
		Pager:                    c.Pager.Enabled(),
	}
}

// CoreDefaults is the core's configuration when every key is left at its default: what
// tests start from.
func CoreDefaults() bot.Config {
	c := Defaults()
	return c.Core()
}
