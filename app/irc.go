package app

import (
	"context"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/bridges/irc"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/metrics"
)

// startIRC connects to IRC when it is configured and registers the bridge with the
// outbox. The returned function waits until the bridge has stopped (after ctx ends).
func startIRC(ctx context.Context, cfg *config.Config, svc *bot.Service, outbox *bot.Outbox, cat *i18n.Catalogue, m *metrics.Metrics, log zerolog.Logger) (wait func()) {
	if !cfg.IRC.Enabled() {
		return func() {}
	}
	c := cfg.IRC
	br := irc.New(irc.Config{
		Server: c.Server, TLS: c.TLS, Nick: c.Nick, Account: c.Account, Password: c.Password, Channels: c.Channels,
		FloodRate: float64(1e9) / float64(c.FloodInterval.D()), FloodBurst: c.FloodBurst,
		DefaultLanguage: cfg.Service.DefaultLanguage,
	}, svc, outbox, cat, log.With().Str("component", "irc").Logger())
	outbox.Register(bot.IRC, m.Sender(bot.IRC, br))
	m.SetIRC(br.Connected)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = br.Run(ctx) // reconnects by itself until ctx ends
	}()
	return func() { <-done }
}
