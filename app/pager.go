package app

import (
	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/i18n"
	"switchboard/metrics"
	"switchboard/pager"
)

// startPager registers the pager (ntfy, webhook, e-mail) with the outbox. Without
// contacts the core queues no pages, and staff are reached by the Matrix mention
// alone; the pager is there all the same, so that a reload can add contacts.
func startPager(cfg *config.Config, svc *bot.Service, outbox *bot.Outbox, cat *i18n.Catalogue, m *metrics.Metrics, log zerolog.Logger) (*pager.Pager, error) {
	c := cfg.Pager
	contacts, smtp := pagerContacts(c)
	p, err := pager.New(pager.Config{
		Contacts: contacts, SMTP: smtp,
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
		return nil, err
	}
	outbox.Register(bot.Pager, m.Sender(bot.Pager, p))
	return p, nil
}

func pagerContacts(c config.Pager) (map[string]pager.Contact, pager.SMTP) {
	contacts := make(map[string]pager.Contact, len(c.Contacts))
	for staff, k := range c.Contacts {
		contacts[staff] = pager.Contact{Ntfy: k.Ntfy, NtfyToken: k.NtfyToken, Webhook: k.Webhook,
			WebhookRoutingKey: k.WebhookRoutingKey, Email: k.Email}
	}
	return contacts, pager.SMTP{Host: c.SMTP.Host, Port: c.SMTP.Port, Username: c.SMTP.Username, Password: c.SMTP.Password,
		From: c.SMTP.From, StartTLS: c.SMTP.StartTLS}
}
