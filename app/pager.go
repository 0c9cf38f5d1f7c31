package app

import (
	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/metrics"
	"switchboard/pager"
)

// startPager registers the pager (ntfy, webhook, e-mail) with the outbox when any
// staff member has a contact; otherwise page rows wait unsent, and staff are reached
// by the Matrix mention alone.
func startPager(cfg *config.Config, svc *bot.Service, outbox *bot.Outbox, cat *i18n.Catalogue, m *metrics.Metrics, log zerolog.Logger) error {
	if !cfg.Pager.Enabled() {
		return nil
	}
	c := cfg.Pager
	contacts := make(map[string]pager.Contact, len(c.Contacts))
	for staff, k := range c.Contacts {
		contacts[staff] = pager.Contact{Ntfy: k.Ntfy, NtfyToken: k.NtfyToken, Webhook: k.Webhook,
			WebhookRoutingKey: k.WebhookRoutingKey, Email: k.Email}
	}
	p, err := pager.New(pager.Config{
		Contacts: contacts,
		SMTP: pager.SMTP{Host: c.SMTP.Host, Port: c.SMTP.Port, Username: c.SMTP.Username, Password: c.SMTP.Password,
			From: c.SMTP.From, StartTLS: c.SMTP.StartTLS},
		Attempts: c.Attempts, RetryBackoff: c.RetryBackoff.D(), Timeout: c.Timeout.D(),
		Language: cfg.Service.DefaultLanguage, StaffRoom: cfg.Service.StaffRoom,
		Observe: func(channel string, ok bool) {
			if ok {
				m.PageSent(channel)
			} else {
				m.PageFailed(channel)
			}
		},
	}, svc, cat, log.With().Str("component", "pager").Logger())
	if err != nil {
		return err
	}
	outbox.Register(bot.Pager, m.Sender(bot.Pager, p))
	return nil
}
