package config

import (
	"errors"
	"strings"
	"testing"
)

const validIRC = valid + `irc:
  server: irc.libera.chat:6697
  account: switchboard
  password: services-password
  channels: ["#wikimedia-help"]
`

func TestIRCOffByDefault(t *testing.T) {
	cfg, err := Parse([]byte(valid), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IRC.Enabled() || !cfg.IRC.TLS || cfg.IRC.FloodBurst != 4 || cfg.IRC.FloodInterval.D().Seconds() != 1 ||
		cfg.IRC.PasteWindow.D().Seconds() != 1 {
		t.Errorf("IRC defaults: %+v", cfg.IRC)
	}
	cfg, err = Parse([]byte(validIRC), noEnv)
	if err != nil || !cfg.IRC.Enabled() || cfg.IRC.Nick != "Switchboard" {
		t.Fatalf("%+v %v", cfg.IRC, err)
	}
}

func TestIRCErrorsNameTheKey(t *testing.T) {
	cases := []struct{ name, yaml, key string }{
		{"no port", strings.Replace(validIRC, ":6697", "", 1), "irc.server"},
		{"bad nick", validIRC + "  nick: 9lives\n", "irc.nick"},
		{"no account", strings.Replace(validIRC, "account: switchboard", "", 1), "irc.account"},
		{"placeholder password", strings.Replace(validIRC, "services-password", "CHANGE-ME", 1), "irc.password"},
		{"not a channel", strings.Replace(validIRC, "#wikimedia-help", "wikimedia-help", 1), "irc.channels[0]"},
		{"no burst", validIRC + "  flood-burst: 0\n", "irc.flood-burst"},
		{"bad interval", validIRC + "  flood-interval: soon\n", "irc.flood-interval"},
		{"paste window too long", validIRC + "  paste-window: 1m\n", "irc.paste-window"},
		{"negative paste window", validIRC + "  paste-window: -1s\n", "irc.paste-window"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), noEnv)
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tc.key {
				t.Fatalf("got %v, want an error for %s", err, tc.key)
			}
		})
	}
}

func TestIRCPasswordFromEnvironment(t *testing.T) {
	yaml := strings.Replace(validIRC, "password: services-password", "", 1)
	cfg, err := Parse([]byte(yaml), func(k string) (string, bool) {
		if k == "SWITCHBOARD_IRC_PASSWORD" {
			return "from-env", true
		}
		return "", false
	})
	if err != nil || cfg.IRC.Password != "from-env" {
		t.Fatalf("%+v %v", cfg.IRC, err)
	}
}
