package app

import (
	"context"

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
func startPager(ctx context.Context, cfg *config.Config, svc *bot.Service, outbox *bot.Outbox, cat *i18n.Catalogue, m *metrics.Metrics, log zerolog.Logger) (*pager.Pager, error) {
	c := cfg.Pager
	contacts, smtp := pagerContacts(c)
	var signer *pager.Signer
	if c.Ack.Enabled() {
		signer = pager.NewSigner(c.Ack.Secret, c.Ack.PublicURL)
	}
	p, err := pager.New(pager.Config{
		Contacts: contacts, SMTP: smtp, Ack: signer,
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
	if signer == nil {
		return p, nil
	}
	srv := pager.NewAckServer(signer, c.Ack.WebhookSecret, svc, p, log.With().Str("component", "pager-ack").Logger())
	srv.Observed = m.PhoneAck
	addr, err := metrics.Serve(ctx, c.Ack.Listen, srv.Handler(), log)
	if err != nil {
		return nil, err
	}
	log.Info().Stringer("addr", addr).Msg("Acknowledgement listener open")
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
