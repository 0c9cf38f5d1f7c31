package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

const valid = `
homeserver:
  url: http://127.0.0.1:8008
bot:
  user-id: "@sb:localhost"
  password: secret-password
encryption:
  pickle-key: 0123456789abcdef0123
  data-key: test-data-key-0123456789abcdefghij
database:
  url: postgres://sb@localhost/sb
`

func noEnv(string) (string, bool) { return "", false }

func TestParseValid(t *testing.T) {
	cfg, err := Parse([]byte(valid), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Service.IntakeExpiry.D().Hours() != 24 || cfg.Bot.DeviceName != "Switchboard" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

func TestParseErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml, key, msg string
	}{
		{"unknown key", valid + "  colour: blue\n", "database.colour", "unknown key"},
		{"unknown section", valid + "extras:\n  a: 1\n", "extras", "unknown key"},
		{"missing homeserver", strings.Replace(valid, "url: http://127.0.0.1:8008", "url: \"\"", 1), "homeserver.url", "is missing"},
		{"bad duration", valid + "service:\n  intake-expiry: tomorrow\n", "service.intake-expiry", "not a duration"},
		{"negative duration", valid + "service:\n  intake-expiry: -5m\n", "service.intake-expiry", "not a duration"},
		{"not a number", valid + "service:\n  max-message-length: lots\n", "service.max-message-length", "whole number"},
		{"list expected", valid + "service:\n  allowed-rooms: '!a:b'\n", "service.allowed-rooms", "must be a list"},
		{"placeholder", strings.Replace(valid, "0123456789abcdef0123", "CHANGE-ME", 1), "encryption.pickle-key", "placeholder"},
		{"alias as staff room", valid + "service:\n  staff-room: '#staff:localhost'\n", "service.staff-room", "room ID"},
		{"bad level", valid + "logging:\n  level: loud\n", "logging.level", "must be one of"},
		{"no credentials", strings.Replace(valid, "password: secret-password", "", 1), "bot.password", "is missing"},
		{"no data key", strings.Replace(valid, "  data-key: test-data-key-0123456789abcdefghij\n", "", 1), "encryption.data-key", "is missing"},
		{"short data key", strings.Replace(valid, "test-data-key-0123456789abcdefghij", "too-short", 1), "encryption.data-key", "too short"},
		{"data key is the pickle key", strings.Replace(valid, "0123456789abcdef0123", "test-data-key-0123456789abcdefghij", 1),
			"encryption.data-key", "must differ"},
		{"two data keys", strings.Replace(valid, "  data-key: test", "  data-key-file: /etc/sb.key\n  data-key: test", 1), "encryption.data-key", "not both"},
		{"unreadable data key file", strings.Replace(valid, "  data-key: test-data-key-0123456789abcdefghij", "  data-key-file: /nonexistent/sb.key", 1),
			"encryption.data-key-file", "cannot read /nonexistent/sb.key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), noEnv)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("got %q, want key %q and %q", err, tc.key, tc.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	_, err := Load("/nonexistent/switchboard.yaml")
	if err == nil || !strings.Contains(err.Error(), "cannot read /nonexistent/switchboard.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	env := map[string]string{
		"SWITCHBOARD_BOT_PASSWORD":          "from-env",
		"SWITCHBOARD_SERVICE_INTAKE_EXPIRY": "2h",
		"SWITCHBOARD_SERVICE_ALLOWED_ROOMS": "!a:x, !b:x",
	}
	cfg, err := Parse([]byte(valid), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.Password != "from-env" || cfg.Service.IntakeExpiry.D().Hours() != 2 ||
		!reflect.DeepEqual(cfg.Service.AllowedRooms, []string{"!a:x", "!b:x"}) {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	env["SWITCHBOARD_DATABASE_MAX_OPEN_CONNS"] = "many"
	_, err = Parse([]byte(valid), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_DATABASE_MAX_OPEN_CONNS") {
		t.Errorf("bad env value not reported: %v", err)
	}
}

// The example must document every key and must not start as it is.
func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(raw, noEnv)
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "placeholder") {
		t.Fatalf("the example should be refused for its placeholders, got %v", err)
	}
	text := string(raw)
	_ = walkLeaves(reflect.ValueOf(&Config{}).Elem(), "", func(_ reflect.Value, path string) error {
		parts := strings.Split(path, ".")
		if !strings.Contains(text, parts[len(parts)-1]+":") {
			t.Errorf("config.example.yaml does not document %s", path)
		}
		return nil
	})
	// A comment line directly above every key.
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		trim := strings.TrimSpace(l)
		if i == 0 || trim == "" || strings.HasPrefix(trim, "#") || !strings.HasPrefix(l, "    ") {
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("line %d (%s) has no comment above it", i+1, trim)
		}
	}
}

// The data key may come from a file, white space around it dropped.
func TestDataKeyFromFile(t *testing.T) {
	path := t.TempDir() + "/data.key"
	if err := os.WriteFile(path, []byte("  from-a-file-0123456789abcdefghijkl\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(strings.Replace(valid, "  data-key: test-data-key-0123456789abcdefghij", "  data-key-file: "+path, 1)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if key, err := cfg.Encryption.ResolveDataKey(); err != nil || key != "from-a-file-0123456789abcdefghijkl" {
		t.Fatalf("data key %q, %v", key, err)
	}
}

func TestMetricsListen(t *testing.T) {
	cfg, err := Parse([]byte(valid), noEnv)
	if err != nil || cfg.Metrics.Listen != "" {
		t.Fatalf("the listener must be off by default: %q, %v", cfg.Metrics.Listen, err)
	}
	cfg, err = Parse([]byte(valid+"metrics:\n  listen: 127.0.0.1:9464\n"), noEnv)
	if err != nil || cfg.Metrics.Listen != "127.0.0.1:9464" {
		t.Fatalf("listen not read: %+v, %v", cfg.Metrics, err)
	}
	for _, bad := range []string{"9464", "localhost:http", "127.0.0.1:99999"} {
		_, err := Parse([]byte(valid+"metrics:\n  listen: \""+bad+"\"\n"), noEnv)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "metrics.listen" {
			t.Errorf("listen %q: want an error naming metrics.listen, got %v", bad, err)
		}
	}
}
