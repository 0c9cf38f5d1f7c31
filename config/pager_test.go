package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const validPager = valid + `
pager:
  contacts:
    "@alice:localhost":
      ntfy: https://ntfy.test.invalid/sb-topic
      ntfy-token: tk_secret
      webhook: http://127.0.0.1:9/v2/enqueue
      webhook-routing-key: rk
      email: alice@mail.test.invalid
    "@bob:localhost":
      email: Bob <bob@mail.test.invalid>
  smtp:
    host: mail.test.invalid
    from: Switchboard <sb@mail.test.invalid>
`

func TestPagerParse(t *testing.T) {
	cfg, err := Parse([]byte(validPager), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pager
	if !p.Enabled() || len(p.Contacts) != 2 || p.Contacts["@alice:localhost"].NtfyToken != "tk_secret" ||
		p.Contacts["@bob:localhost"].Email != "Bob <bob@mail.test.invalid>" {
		t.Errorf("contacts: %+v", p.Contacts)
	}
	if p.SMTP.Port != 587 || !p.SMTP.StartTLS || p.Attempts != 4 || p.RetryBackoff.D() != 3*time.Second || p.Timeout.D() != 10*time.Second {
		t.Errorf("defaults not applied: %+v", p)
	}
	off, err := Parse([]byte(valid), noEnv)
	if err != nil || off.Pager.Enabled() {
		t.Errorf("no contacts should leave the pager off: %v", err)
	}
	env := map[string]string{"SWITCHBOARD_PAGER_SMTP_PASSWORD": "pw", "SWITCHBOARD_PAGER_SMTP_USERNAME": "u"}
	cfg, err = Parse([]byte(validPager), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || cfg.Pager.SMTP.Password != "pw" {
		t.Errorf("SMTP password from the environment: %v", err)
	}
}

func TestPagerErrorsNameTheKey(t *testing.T) {
	alice := `"@alice:localhost"`
	cases := []struct {
		name, from, to, key, msg string
	}{
		{"contact not a Matrix ID", alice, `"alice"`, "pager.contacts.alice", "not a Matrix user ID"},
		{"bad ntfy URL", "https://ntfy.test.invalid/sb-topic", "ftp://x/y", "pager.contacts.@alice:localhost.ntfy", "ntfy topic URL"},
		{"ntfy without topic", "https://ntfy.test.invalid/sb-topic", "https://ntfy.test.invalid/", "pager.contacts.@alice:localhost.ntfy", "must name the topic"},
		{"bad webhook URL", "http://127.0.0.1:9/v2/enqueue", "127.0.0.1:9", "pager.contacts.@alice:localhost.webhook", "http(s) URL"},
		{"placeholder webhook", "http://127.0.0.1:9/v2/enqueue", "https://hooks.example.org/x", "pager.contacts.@alice:localhost.webhook", "placeholder"},
		{"bad address", "alice@mail.test.invalid", "alice at home", "pager.contacts.@alice:localhost.email", "not an e-mail address"},
		{"token without ntfy", "ntfy: https://ntfy.test.invalid/sb-topic", "ntfy: ''", "pager.contacts.@alice:localhost.ntfy-token", "ntfy is not"},
		{"no channel", "email: Bob <bob@mail.test.invalid>", "", "pager.contacts.@bob:localhost", "has no channel"},
		{"no smtp host", "host: mail.test.invalid", "host: ''", "pager.smtp.host", "is missing"},
		{"smtp host with port", "host: mail.test.invalid", "host: mail.test.invalid:25", "pager.smtp.host", "without port"},
		{"bad from", "from: Switchboard <sb@mail.test.invalid>", "from: switchboard", "pager.smtp.from", "not an e-mail address"},
		{"unknown contact key", "email: alice@mail.test.invalid", "sms: '+1'", "pager.contacts.@alice:localhost.sms", "unknown key"},
		{"duplicate contact", `"@bob:localhost":`, `"@alice:localhost":`, "pager.contacts.@alice:localhost", "appears twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validPager, tc.from) {
				t.Fatalf("test bug: %q not in the config", tc.from)
			}
			_, err := Parse([]byte(strings.Replace(validPager, tc.from, tc.to, 1)), noEnv)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("got %q, want key %q and %q", err, tc.key, tc.msg)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "tk_secret") {
				t.Errorf("error is more than one line or shows a secret: %q", err)
			}
		})
	}
	for _, tc := range []struct{ add, key string }{
		{"pager:\n  contacts: [x]\n", "pager.contacts"},
		{"  attempts: 0\n", "pager.attempts"},
		{"  retry-backoff: 1ms\n", "pager.retry-backoff"},
		{"  timeout: 1h\n", "pager.timeout"},
	} {
		yaml := validPager + tc.add
		if strings.HasPrefix(tc.add, "pager:") {
			yaml = valid + tc.add
		}
		_, err := Parse([]byte(yaml), noEnv)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%s: got %v", strings.TrimSpace(tc.add), err)
		}
	}
}
