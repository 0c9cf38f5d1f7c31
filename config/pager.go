package config

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pager is how staff are paged for staff-route cases, besides the Matrix mention in
// the staff room: ntfy push, a PagerDuty Events v2 compatible webhook and e-mail.
// Without contacts the pager is off.
type Pager struct {
	// Contacts maps a staff member's Matrix ID to the channels that reach them.
	Contacts map[string]PagerContact `yaml:"contacts"`
	SMTP     SMTP                    `yaml:"smtp"`
	// Attempts per channel and page; RetryBackoff is the first wait between two of
	// them, doubled after each; Timeout bounds one attempt.
	Attempts     int      `yaml:"attempts"`
	RetryBackoff Duration `yaml:"retry-backoff"`
	Timeout      Duration `yaml:"timeout"`
	// Ack lets staff acknowledge from their phone (see PagerAck).
	Ack PagerAck `yaml:"ack"`
}

// PagerAck is the listener that acknowledges pages from outside Matrix: the ntfy
// "Acknowledge" button and an on-call tool's webhooks. Off while Listen is empty.
type PagerAck struct {
	Listen        string `yaml:"listen"`
	PublicURL     string `yaml:"public-url"`
	Secret        string `yaml:"secret"`
	WebhookSecret string `yaml:"webhook-secret"`
}

// Enabled reports whether the acknowledgement listener runs.
func (a PagerAck) Enabled() bool { return a.Listen != "" }

func (a PagerAck) validate() error {
	if !a.Enabled() {
		return nil
	}
	if err := checkListen("pager.ack.listen", a.Listen); err != nil {
		return err
	}
	if err := checkURL("pager.ack.public-url", a.PublicURL, "the https URL at which phones reach pager.ack.listen, such as https://switchboard.your.org"); err != nil {
		return err
	}
	switch {
	case isPlaceholder(a.Secret):
		return &Error{Key: "pager.ack.secret", Msg: "still has the example's placeholder value; set your own"}
	case len(a.Secret) < 32:
		return &Error{Key: "pager.ack.secret", Msg: "must be at least 32 random characters (openssl rand -base64 32)"}
	case isPlaceholder(a.WebhookSecret):
		return &Error{Key: "pager.ack.webhook-secret", Msg: "still has the example's placeholder value; set your own"}
	case a.WebhookSecret != "" && len(a.WebhookSecret) < 16:
		return &Error{Key: "pager.ack.webhook-secret", Msg: "must be at least 16 characters (the on-call tool's signing secret)"}
	}
	return nil
}

// PagerContact lists one staff member's paging channels; each one set is used.
type PagerContact struct {
	Ntfy              string `yaml:"ntfy"`
	NtfyToken         string `yaml:"ntfy-token"`
	Webhook           string `yaml:"webhook"`
	WebhookRoutingKey string `yaml:"webhook-routing-key"`
	Email             string `yaml:"email"`
}

// SMTP is the mail server that e-mail pages leave through.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	StartTLS bool   `yaml:"starttls"`
}

// Enabled reports whether anyone is to be paged outside Matrix.
func (p Pager) Enabled() bool { return len(p.Contacts) > 0 }

func pagerDefaults() Pager {
	return Pager{
		SMTP:     SMTP{Port: 587, StartTLS: true},
		Attempts: 4, RetryBackoff: Duration(3 * time.Second), Timeout: Duration(10 * time.Second),
	}
}

func (p Pager) validate() error {
	if p.Attempts < 1 || p.Attempts > 10 {
		return &Error{Key: "pager.attempts", Msg: "must be from 1 to 10"}
	}
	if d := p.RetryBackoff.D(); d < 100*time.Millisecond || d > 5*time.Minute {
		return &Error{Key: "pager.retry-backoff", Msg: "must be from 100ms to 5m"}
	}
	if d := p.Timeout.D(); d < time.Second || d > 2*time.Minute {
		return &Error{Key: "pager.timeout", Msg: "must be from 1s to 2m"}
	}
	if err := p.Ack.validate(); err != nil {
		return err
	}
	email := false
	// Sorted, so that of several mistakes the same one is reported every time.
	for _, id := range slices.Sorted(maps.Keys(p.Contacts)) {
		c, key := p.Contacts[id], "pager.contacts."+id
		if !isMatrixID(id) {
			return &Error{Key: key, Msg: fmt.Sprintf("%q is not a Matrix user ID such as @name:server (quote it in YAML)", id)}
		}
		if err := c.validate(key); err != nil {
			return err
		}
		email = email || c.Email != ""
	}
	if !email {
		return nil
	}
	// The SMTP server matters only once someone is paged by e-mail.
	s := p.SMTP
	switch {
	case strings.TrimSpace(s.Host) == "":
		return &Error{Key: "pager.smtp.host", Msg: "is missing (a contact has an email)"}
	case isPlaceholder(s.Host):
		return &Error{Key: "pager.smtp.host", Msg: "still has the example's placeholder value; set your own"}
	case strings.ContainsAny(s.Host, ":/ "):
		return &Error{Key: "pager.smtp.host", Msg: "must be a host name or IP address, without port or scheme"}
	case s.Port < 1 || s.Port > 65535:
		return &Error{Key: "pager.smtp.port", Msg: "must be from 1 to 65535 (587 for STARTTLS)"}
	case s.Password != "" && s.Username == "":
		return &Error{Key: "pager.smtp.username", Msg: "is missing (pager.smtp.password is set)"}
	case isPlaceholder(s.Password):
		return &Error{Key: "pager.smtp.password", Msg: "still has the example's placeholder value; set your own"}
	}
	if err := checkAddress("pager.smtp.from", s.From); err != nil {
		return err
	}
	return nil
}

func (c PagerContact) validate(key string) error {
	if c.Ntfy == "" && c.Webhook == "" && c.Email == "" {
		return &Error{Key: key, Msg: "has no channel; set ntfy, webhook or email"}
	}
	if c.Ntfy != "" {
		if err := checkURL(key+".ntfy", c.Ntfy, "an ntfy topic URL such as https://ntfy.sh/your-secret-topic"); err != nil {
			return err
		}
		if u, _ := url.Parse(c.Ntfy); strings.Trim(u.Path, "/") == "" {
			return &Error{Key: key + ".ntfy", Msg: "must name the topic, such as https://ntfy.sh/your-secret-topic"}
		}
	} else if c.NtfyToken != "" {
		return &Error{Key: key + ".ntfy-token", Msg: "is set but ntfy is not"}
	}
	if isPlaceholder(c.NtfyToken) {
		return &Error{Key: key + ".ntfy-token", Msg: "still has the example's placeholder value; set your own"}
	}
	if c.Webhook != "" {
		if err := checkURL(key+".webhook", c.Webhook, "an http(s) URL such as https://events.pagerduty.com/v2/enqueue"); err != nil {
			return err
		}
	} else if c.WebhookRoutingKey != "" {
		return &Error{Key: key + ".webhook-routing-key", Msg: "is set but webhook is not"}
	}
	if isPlaceholder(c.WebhookRoutingKey) {
		return &Error{Key: key + ".webhook-routing-key", Msg: "still has the example's placeholder value; set your own"}
	}
	if c.Email != "" {
		return checkAddress(key+".email", c.Email)
	}
	return nil
}

func isMatrixID(s string) bool {
	local, server, ok := strings.Cut(strings.TrimPrefix(s, "@"), ":")
	return ok && strings.HasPrefix(s, "@") && local != "" && server != "" && !strings.ContainsAny(s, " \t\r\n")
}

func checkURL(key, raw, want string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{Key: key, Msg: "must be " + want}
	}
	if isPlaceholder(u.Host) {
		return &Error{Key: key, Msg: "still has the example's placeholder value; set your own"}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return &Error{Key: key, Msg: "must be " + want}
		}
	}
	return nil
}

func checkAddress(key, raw string) error {
	a, err := mail.ParseAddress(raw)
	if err != nil || strings.ContainsAny(raw, "\r\n") {
		return &Error{Key: key, Msg: fmt.Sprintf("%q is not an e-mail address such as oncall@your.org", raw)}
	}
	if isPlaceholder(a.Address) {
		return &Error{Key: key, Msg: "still has the example's placeholder value; set your own"}
	}
	return nil
}
