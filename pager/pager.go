// Package pager pages staff about staff-route cases outside Matrix: an ntfy push, a
// PagerDuty Events v2 compatible webhook and e-mail over SMTP. It is the outbox's
// Sender for platform bot.Pager: one bot.ActionPage row pages one staff member on
// every channel configured for them, in parallel, each channel with its own bounded
// retries. A channel that still fails is reported to the staff room through the core
// (bot.Service.PagerFailed) and never holds up the others. The Matrix mention in the
// staff room is not sent from here; the Matrix bridge does that.
//
// A page says only "Switchboard", the case reference, that a staff-route case needs
// an on-call staff member and where to acknowledge it: phones show pages on locked
// screens, so never a name, a username or what happened.
package pager

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/i18n"
)

// Reporter is told about a channel that failed after its retries; *bot.Service is
// one. The reason is short and holds no secret (no URL, token or server message).
type Reporter interface {
	PagerFailed(ctx context.Context, ref, staffID, channel, reason string) error
}

// Contact is how one staff member is paged; every channel set is used.
type Contact struct {
	Ntfy      string // topic URL
	NtfyToken string // bearer token, when the topic is protected
	Webhook   string // URL taking a PagerDuty Events v2 body
	// WebhookRoutingKey is the body's routing_key (PagerDuty's integration key).
	WebhookRoutingKey string
	Email             string
}

// SMTP is the mail server for e-mail pages.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// StartTLS upgrades the connection before anything is sent; a server that does
	// not offer it fails the attempt instead of sending in plain text.
	StartTLS bool
	// TLS is the client configuration for STARTTLS (nil: the system's roots). Tests
	// use it to trust their own certificate authority.
	TLS *tls.Config
}

// Config is the pager's configuration (config.Pager, plus the language of pages).
type Config struct {
	Contacts map[string]Contact // by Matrix ID
	SMTP     SMTP
	// Attempts per channel and page; RetryBackoff is the first wait between two,
	// doubled after each; Timeout bounds one attempt.
	Attempts     int
	RetryBackoff time.Duration
	Timeout      time.Duration
	// Language of the pages' text (the staff room's language).
	Language string
	// StaffRoom is the Matrix room where pages are acknowledged: an ntfy notification
	// opens it (a matrix.to link, which Element and other clients take) when tapped.
	// Empty: the notification opens nothing.
	StaffRoom string
	// Ack, when set, gives ntfy pages an "Acknowledge" button with a single-use token.
	Ack *Signer
	// Observe, when set, is told of every page that a channel delivered (ok) or
	// that failed after its retries (for metrics).
	Observe func(channel string, ok bool)
}

// Pager sends pages. It is safe for concurrent use.
type Pager struct {
	cfg      Config
	rep      Reporter
	cat      *i18n.Catalogue
	log      zerolog.Logger
	client   *http.Client
	mu       sync.RWMutex
	channels map[string][]channel // by staff member; replaced whole by SetContacts
	// sleep waits between attempts; tests may replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// channel is one way of reaching one person.
type channel interface {
	name() string // "ntfy", "webhook", "email": shown to staff and in logs
	send(ctx context.Context, pg page) error
}

// page is what every channel says, rendered once per Send.
type page struct {
	id    int64 // the outbox row: stable across a resend after a crash
	ref   string
	staff string // who is paged
	round int
	ackBy int64 // unix ms: when the round ends (0: unknown, no acknowledgement button)
	title string
	body  string
	// event is the webhook's event_action: "trigger" for a page, "acknowledge" or
	// "resolve" for a follow-up.
	event string
}

// followUp is a channel that can be told a page was acknowledged or the case closed:
// an on-call tool behind the webhook escalates by itself until it is. A push or an
// e-mail cannot be taken back, so ntfy and e-mail get nothing.
type followUp interface {
	channel
	followsUp()
}

// refRe is what a case reference may look like; anything else would end up in HTTP
// and mail headers, so it is refused rather than escaped.
var refRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`)

// roomLink is a matrix.to link to a room, or "" for no room. The fragment is escaped by
// net/url, so nothing in a room ID can break out of the header it is put in.
func roomLink(room string) string {
	if room == "" {
		return ""
	}
	return (&url.URL{Scheme: "https", Host: "matrix.to", Path: "/", Fragment: "/" + room}).String()
}

// New makes a pager. rep is told about channels that fail; cat renders the pages.
func New(cfg Config, rep Reporter, cat *i18n.Catalogue, log zerolog.Logger) (*Pager, error) {
	if rep == nil || cat == nil {
		return nil, errors.New("pager: a reporter and a catalogue are required")
	}
	if cfg.Attempts < 1 {
		cfg.Attempts = 4
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 3 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Language == "" {
		cfg.Language = i18n.Fallback
	}
	p := &Pager{cfg: cfg, rep: rep, cat: cat, log: log, sleep: sleepCtx}
	p.client = &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		// A page is a POST: a redirect would turn it into a GET elsewhere. It counts
		// as a failure to fix in the configuration.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := p.SetContacts(cfg.Contacts, cfg.SMTP); err != nil {
		return nil, err
	}
	return p, nil
}

// SetContacts replaces who is paged and how (a configuration reload). Pages being
// sent finish on the channels they started with.
func (p *Pager) SetContacts(contacts map[string]Contact, smtp SMTP) error {
	all := make(map[string][]channel, len(contacts))
	for staff, c := range contacts {
		var chans []channel
		if c.Ntfy != "" {
			chans = append(chans, &ntfy{client: p.client, url: c.Ntfy, token: c.NtfyToken, click: roomLink(p.cfg.StaffRoom), ack: p.cfg.Ack})
		}
		if c.Webhook != "" {
			chans = append(chans, &webhook{client: p.client, url: c.Webhook, routingKey: c.WebhookRoutingKey})
		}
		if c.Email != "" {
			m, err := newMailer(smtp, c.Email)
			if err != nil {
				return fmt.Errorf("pager: %s: %w", staff, err)
			}
			chans = append(chans, m)
		}
		all[staff] = chans
	}
	p.mu.Lock()
	p.channels = all
	p.mu.Unlock()
	return nil
}

// hasWebhook reports whether staff is paged through an on-call tool's webhook.
func (p *Pager) hasWebhook(staff string) bool {
	for _, ch := range p.channelsOf(staff) {
		if _, ok := ch.(*webhook); ok {
			return true
		}
	}
	return false
}

func (p *Pager) channelsOf(staff string) []channel {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.channels[staff]
}

// Has reports whether staffID has any channel here, so a page row for them does
// something.
func (p *Pager) Has(staffID string) bool { return len(p.channelsOf(staffID)) > 0 }

// Send pages o.Conversation (a staff member's Matrix ID) about o.Payload.Ref on every
// channel of theirs at once. It returns nil once every channel has succeeded or been
// reported as failed, so the outbox does not page again through channels that
// worked; bot.ErrUnavailable only when ctx ended first (the row is sent again at the
// next start).
func (p *Pager) Send(ctx context.Context, o bot.Outgoing) error {
	ref := o.Payload.Ref
	if o.Action == bot.ActionPageAck || o.Action == bot.ActionPageResolve {
		if !refRe.MatchString(ref) {
			return fmt.Errorf("pager: outbox row %d has no valid reference: %w", o.ID, bot.ErrPermanent)
		}
		return p.followUp(ctx, o)
	}
	if o.Action != bot.ActionPage || !refRe.MatchString(ref) {
		p.log.Error().Int64("outbox_id", o.ID).Str("action", string(o.Action)).Msg("Not a page; dropping it")
		return fmt.Errorf("pager: outbox row %d is not a page: %w", o.ID, bot.ErrPermanent)
	}
	staff := o.Conversation
	chans := p.channelsOf(staff)
	if len(chans) == 0 {
		p.log.Warn().Str("case", ref).Str("staff", staff).Msg("No pager channel for this staff member; only Matrix reaches them")
		return nil
	}
	pg := page{id: o.ID, ref: ref, staff: staff, round: o.Payload.Round, ackBy: o.Payload.AckBy, event: "trigger",
		title: p.cat.Text(p.cfg.Language, "switchboard-page-title", ref),
		body:  p.cat.Text(p.cfg.Language, "switchboard-page-body", ref)}
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		interrupted bool
	)
	for _, ch := range chans {
		wg.Go(func() {
			if !p.page(ctx, ch, staff, pg) {
				mu.Lock()
				interrupted = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if interrupted {
		return bot.ErrUnavailable
	}
	return nil
}

// followUp tells the staff member's follow-up channels (the webhook) that the case was
// acknowledged or closed. A failure is logged, not reported to the staff room: it
// leaves an incident open in the on-call tool, which its people see there, while the
// case itself is in hand.
func (p *Pager) followUp(ctx context.Context, o bot.Outgoing) error {
	event := "acknowledge"
	if o.Action == bot.ActionPageResolve {
		event = "resolve"
	}
	pg := page{id: o.ID, ref: o.Payload.Ref, event: event}
	for _, ch := range p.channelsOf(o.Conversation) {
		if _, ok := ch.(followUp); !ok {
			continue
		}
		log := p.log.With().Str("case", pg.ref).Str("staff", o.Conversation).Str("channel", ch.name()).Str("event", event).Logger()
		reason, err := p.deliver(ctx, ch, pg, log)
		switch {
		case err != nil:
			return bot.ErrUnavailable // stopping; sent again at the next start
		case reason != "":
			log.Warn().Str("reason", reason).Msg("Could not tell the on-call tool; its incident stays open")
		default:
			log.Info().Msg("Told the on-call tool")
		}
	}
	return nil
}

// page runs one channel to its end: delivered, or failed and reported. It returns
// false only when ctx ended before that.
func (p *Pager) page(ctx context.Context, ch channel, staff string, pg page) bool {
	log := p.log.With().Str("case", pg.ref).Str("staff", staff).Str("channel", ch.name()).Int("round", pg.round).Logger()
	reason, err := p.deliver(ctx, ch, pg, log)
	if err != nil {
		return false
	}
	if p.cfg.Observe != nil {
		p.cfg.Observe(ch.name(), reason == "")
	}
	if reason == "" {
		log.Info().Msg("Paged")
		return true
	}
	log.Warn().Str("reason", reason).Msg("Paging channel failed; telling the staff room")
	if err := p.rep.PagerFailed(ctx, pg.ref, staff, ch.name(), reason); err != nil {
		if ctx.Err() != nil {
			return false
		}
		// Not an outage (the store retries those itself), so sending the page again
		// would not help and would page the working channels twice.
		log.Err(err).Msg("Could not report the failed page to the staff room")
	}
	return true
}
