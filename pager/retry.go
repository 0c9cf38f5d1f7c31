package pager

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// failure is why an attempt failed, in words fit for the staff room and the log.
// Raw errors are never shown: Go's HTTP errors quote the URL, and an ntfy topic or a
// webhook path is a secret (whoever knows the topic can read the pages).
type failure struct {
	reason string
	// permanent: trying again within the next seconds cannot help (HTTP 4xx, SMTP
	// 5xx, an untrusted certificate), so the failure is reported at once.
	permanent bool
}

func (f *failure) Error() string { return f.reason }

func transient(format string, a ...any) *failure { return &failure{reason: fmt.Sprintf(format, a...)} }
func permanent(format string, a ...any) *failure {
	return &failure{reason: fmt.Sprintf(format, a...), permanent: true}
}

// httpStatus classifies an HTTP answer: 2xx is success; 408, 429 and 5xx are the
// server's trouble and may pass; any other answer is the configuration's.
func httpStatus(code int) error {
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == 408 || code == 429 || code >= 500:
		return transient("HTTP %d", code)
	}
	return permanent("HTTP %d", code)
}

// classify turns any error of an attempt into a failure.
func classify(err error) *failure {
	var f *failure
	var netErr net.Error
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var tlsRecord tls.RecordHeaderError
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return transient("timed out")
	case errors.Is(err, syscall.ECONNREFUSED):
		return transient("connection refused")
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return transient("connection reset")
	case errors.As(err, &dns):
		return transient("host not found")
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &certInvalid):
		return permanent("TLS certificate not trusted")
	case errors.As(err, &tlsRecord):
		return permanent("TLS handshake failed")
	}
	return transient("network error")
}

// deliver tries one channel until it succeeds, fails for good or has used its
// attempts, waiting RetryBackoff, then twice that, and so on, between attempts. It
// returns the reason to report ("" when delivered), or ctx's error if ctx ended.
func (p *Pager) deliver(ctx context.Context, ch channel, pg page, log zerolog.Logger) (string, error) {
	wait := p.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
		err := ch.send(actx, pg)
		cancel()
		if err == nil {
			return "", nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		f := classify(err)
		switch {
		case f.permanent:
			return f.reason + ", not retried", nil
		case attempt >= p.cfg.Attempts:
			return fmt.Sprintf("%s (%d attempts)", f.reason, attempt), nil
		}
		log.Warn().Str("reason", f.reason).Int("attempt", attempt).Dur("retry_in", wait).Msg("Paging attempt failed")
		if err := p.sleep(ctx, wait); err != nil {
			return "", err
		}
		wait *= 2
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
