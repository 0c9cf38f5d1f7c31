package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// placeholders are the example config's values that must be replaced before a start.
var placeholders = []string{"CHANGE-ME", "example.org", "example.com"}

func isPlaceholder(s string) bool {
	for _, p := range placeholders {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// Validate checks that the configuration can run; nothing starts half-configured.
func (c *Config) Validate() error {
	req := func(key, val string) error {
		switch {
		case strings.TrimSpace(val) == "":
			return &Error{Key: key, Msg: "is missing"}
		case isPlaceholder(val):
			return &Error{Key: key, Msg: "still has the example's placeholder value; set your own"}
		}
		return nil
	}
	if err := req("homeserver.url", c.Homeserver.URL); err != nil {
		return err
	}
	if u, err := url.Parse(c.Homeserver.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &Error{Key: "homeserver.url", Msg: "must be an http(s) URL such as https://matrix.example.net"}
	}
	if err := req("bot.user-id", c.Bot.UserID); err != nil {
		return err
	}
	if !strings.HasPrefix(c.Bot.UserID, "@") || !strings.Contains(c.Bot.UserID, ":") {
		return &Error{Key: "bot.user-id", Msg: "must be a full Matrix user ID such as @switchboard:your.server"}
	}
	if c.Bot.Password == "" && c.Bot.AccessToken == "" {
		return &Error{Key: "bot.password", Msg: "is missing (set bot.password or bot.access-token)"}
	}
	if isPlaceholder(c.Bot.Password) || isPlaceholder(c.Bot.AccessToken) {
		return &Error{Key: "bot.password", Msg: "still has the example's placeholder value; set your own"}
	}
	if err := req("encryption.pickle-key", c.Encryption.PickleKey); err != nil {
		return err
	}
	if len(c.Encryption.PickleKey) < 16 {
		return &Error{Key: "encryption.pickle-key", Msg: "is too short; use at least 16 random characters"}
	}
	if c.Encryption.DeviceTrust != TrustCrossSigned && c.Encryption.DeviceTrust != TrustAny {
		return &Error{Key: "encryption.device-trust", Msg: fmt.Sprintf("must be %q or %q", TrustCrossSigned, TrustAny)}
	}
	if err := c.Encryption.validateDataKey(); err != nil {
		return err
	}
	if err := req("database.url", c.Database.URL); err != nil {
		return err
	}
	if c.Service.StaffRoom != "" && !strings.HasPrefix(c.Service.StaffRoom, "!") {
		return &Error{Key: "service.staff-room", Msg: "must be a room ID starting with ! (not an alias)"}
	}
	for key, ids := range map[string][]string{"service.staff": c.Service.Staff, "service.coordinators": c.Service.Coordinators} {
		for _, u := range ids {
			if !strings.HasPrefix(u, "@") || !strings.Contains(u, ":") {
				return &Error{Key: key, Msg: fmt.Sprintf("%q is not a Matrix user ID such as @name:server", u)}
			}
		}
	}
	if r := c.Service.CoordinatorsRoom; r != "" && !strings.HasPrefix(r, "!") {
		return &Error{Key: "service.coordinators-room", Msg: "must be a room ID starting with ! (not an alias)"}
	}
	if r := c.Service.Retention.D(); r != 0 && r < 24*time.Hour {
		return &Error{Key: "service.retention", Msg: "must be 0 (keep for ever) or at least 24h"}
	}
	if e := c.Service.MessageExpiry.D(); e < time.Hour {
		return &Error{Key: "service.message-expiry", Msg: "must be at least 1h"}
	}
	rt := c.Service.Routing
	switch {
	case c.Service.CaseRooms != "relayed" && c.Service.CaseRooms != "shared":
		return &Error{Key: "service.case-rooms", Msg: fmt.Sprintf("must be relayed or shared, not %q", c.Service.CaseRooms)}
	case rt.Mode != "direct" && rt.Mode != "broadcast":
		return &Error{Key: "service.routing.mode", Msg: "must be direct or broadcast"}
	case rt.Mode == "broadcast" && !strings.HasPrefix(rt.VolunteersRoom, "!"):
		return &Error{Key: "service.routing.volunteers-room", Msg: "must be a room ID starting with ! when mode is broadcast"}
	}
	if rt.OfferExpiry.D() < time.Minute {
		return &Error{Key: "service.routing.offer-expiry", Msg: "must be at least 1m"}
	}
	if rt.QueueAlertAfter.D() < time.Minute {
		return &Error{Key: "service.routing.queue-alert-after", Msg: "must be at least 1m"}
	}
	if rt.ReassureEvery.D() < 10*time.Minute {
		return &Error{Key: "service.routing.reassure-every", Msg: "must be at least 10m"}
	}
	if rt.DefaultCaseLimit < 1 || rt.DefaultCaseLimit > 10 {
		return &Error{Key: "service.routing.default-case-limit", Msg: "must be from 1 to 10"}
	}
	if err := c.Service.OnCall.validate(); err != nil {
		return err
	}
	ab := c.Service.Abuse
	switch {
	case ab.IntakesPerDay < 0:
		return &Error{Key: "service.abuse.intakes-per-day", Msg: "must be 0 (no limit) or more"}
	case ab.IntakeRate < 0:
		return &Error{Key: "service.abuse.intake-rate", Msg: "must be 0 (no limit) or more"}
	case ab.IntakeRate > 0 && ab.IntakeBurst < 1:
		return &Error{Key: "service.abuse.intake-burst", Msg: "must be at least 1"}
	}
	if c.Service.IntakeExpiry.D() < 1e9*60 {
		return &Error{Key: "service.intake-expiry", Msg: "must be at least 1m"}
	}
	if c.Service.MaxMessageLength < 100 {
		return &Error{Key: "service.max-message-length", Msg: "must be at least 100"}
	}
	if _, err := zerolog.ParseLevel(c.Logging.Level); err != nil || c.Logging.Level == "" {
		return &Error{Key: "logging.level", Msg: "must be one of trace, debug, info, warn, error"}
	}
	if c.Logging.Format != "pretty" && c.Logging.Format != "json" {
		return &Error{Key: "logging.format", Msg: "must be pretty or json"}
	}
	if err := c.IRC.validate(); err != nil {
		return err
	}
	if err := c.Pager.validate(); err != nil {
		return err
	}
	if err := c.Metrics.validate(); err != nil {
		return err
	}
	if d := c.HA.Lease.D(); d < 3*time.Second || d > 5*time.Minute {
		return &Error{Key: "ha.lease", Msg: "must be from 3s to 5m"}
	}
	return nil
}
