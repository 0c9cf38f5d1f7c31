package pager

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// mailer sends a page by e-mail: the channel that reaches anyone, through the
// organisation's own mail server, and a record in the staff member's mailbox.
// net/smtp is enough for one message to one recipient: it speaks STARTTLS and AUTH
// PLAIN (which it refuses over plain text except to localhost), and a connection of
// our own gives it the attempt's deadline.
type mailer struct {
	cfg  SMTP
	from *mail.Address
	to   *mail.Address
}

func newMailer(cfg SMTP, to string) (*mailer, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, errors.New("smtp from is not an e-mail address")
	}
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return nil, errors.New("email is not an e-mail address")
	}
	if cfg.Host == "" || cfg.Port < 1 {
		return nil, errors.New("an email contact needs an SMTP host and port")
	}
	return &mailer{cfg: cfg, from: from, to: rcpt}, nil
}

func (m *mailer) name() string { return "email" }

func (m *mailer) send(ctx context.Context, pg page) error {
	err := m.deliver(ctx, pg)
	if err != nil && ctx.Err() != nil {
		// The deadline closed the connection under a read; say so, not "closed".
		return ctx.Err()
	}
	return err
}

func (m *mailer) deliver(ctx context.Context, pg page) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port)))
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		return smtpFailure(err)
	}
	defer c.Close()
	if m.cfg.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return permanent("SMTP server offers no STARTTLS")
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if m.cfg.TLS != nil {
			tc = m.cfg.TLS.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = m.cfg.Host
		}
		if err := c.StartTLS(tc); err != nil {
			return smtpFailure(err)
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			return smtpFailure(err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return smtpFailure(err)
	}
	if err := c.Rcpt(m.to.Address); err != nil {
		return smtpFailure(err)
	}
	w, err := c.Data()
	if err != nil {
		return smtpFailure(err)
	}
	if _, err := w.Write(m.message(pg)); err != nil {
		return smtpFailure(err)
	}
	if err := w.Close(); err != nil {
		return smtpFailure(err)
	}
	_ = c.Quit() // the message is accepted; a lost goodbye changes nothing
	return nil
}

// smtpFailure classifies an SMTP answer: 4xx may pass, 5xx will not. The server's
// text is left out, since it may quote addresses.
func smtpFailure(err error) error {
	var tp *textproto.Error
	switch {
	case errors.As(err, &tp) && tp.Code >= 500:
		return permanent("SMTP %d", tp.Code)
	case errors.As(err, &tp):
		return transient("SMTP %d", tp.Code)
	case err.Error() == "unencrypted connection":
		// net/smtp's PlainAuth refusing to send a password in the clear.
		return permanent("SMTP login needs STARTTLS")
	}
	return err
}

// message builds the mail: plain text, UTF-8, marked urgent and automatic (so
// vacation replies stay away). Message-ID is the same when the outbox sends the page
// again after a crash, so mail clients show it once.
func (m *mailer) message(pg page) []byte {
	domain := "switchboard.invalid"
	if at := strings.LastIndexByte(m.from.Address, '@'); at >= 0 {
		domain = m.from.Address[at+1:]
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.from.String())
	h("To", m.to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", pg.title))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("Message-ID", fmt.Sprintf("<page.%s.%d.%d@%s>", pg.ref, pg.id, pg.round, domain))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	h("X-Priority", "1")
	h("Importance", "high")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(pg.body, "\n", "\r\n") + "\r\n"))
	_ = qp.Close()
	return b.Bytes()
}
