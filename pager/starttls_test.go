package pager_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"switchboard/internal/testenv"
	"switchboard/pager"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files and returns
// their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "switchboard test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With starttls on, the page travels encrypted (the server requires it) and logs in;
// an untrusted certificate, or a server without STARTTLS (below), fails at once
// instead of falling back to plain text.
func TestEmailOverSTARTTLS(t *testing.T) {
	r := newRig(t)
	certFile, keyFile, pool := selfSigned(t)
	tlsMail := testenv.NewMailpit(t, testenv.MailpitOptions{TLSCert: certFile, TLSKey: keyFile, RequireSTARTTLS: true})
	useTLS := func(trust bool) func(*pager.Config) {
		return func(c *pager.Config) {
			c.SMTP.Host, c.SMTP.Port, c.SMTP.StartTLS = tlsMail.SMTPHost(), tlsMail.SMTPPort(), true
			if trust {
				c.SMTP.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
		}
	}
	r.send(r.pager(useTLS(true)), r.page(1))
	if f := r.failures(); len(f) != 0 {
		t.Fatalf("STARTTLS page failed: %q", f)
	}
	m := tlsMail.WaitMessages(t, "alice@oncall.test", 1, 10*time.Second)[0]
	if m.Header.Get("Subject") != "Switchboard: staff-route case "+r.ref {
		t.Errorf("subject %q", m.Header.Get("Subject"))
	}

	r.send(r.pager(useTLS(false)), r.page(2))
	r.expectFailure("email", "TLS certificate not trusted, not retried")
}

func TestEmailWithoutOfferedSTARTTLSIsNotSent(t *testing.T) {
	r := newRig(t)
	noTLS := func(c *pager.Config) { c.SMTP.StartTLS = true } // the rig's Mailpit has no certificate
	r.send(r.pager(noTLS), r.page(1))
	r.expectFailure("email", "SMTP server offers no STARTTLS, not retried")
	if n := len(r.mail.Messages(t, "")); n != 0 {
		t.Errorf("%d messages went out in plain text", n)
	}
}
