// Package config reads Switchboard's YAML configuration. Keys are kebab-case; an
// unknown key, a value of the wrong type, a bad duration or a placeholder left from the
// example stops the program with one line naming the key. Every leaf can be overridden
// from the environment (SWITCHBOARD_ + the key path in upper case with "_", such as
// SWITCHBOARD_BOT_PASSWORD), so secrets need not live in the file.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Config is the whole file.
type Config struct {
	// Version is the file's format (see upgrade.go).
	Version    int        `yaml:"version"`
	Homeserver Homeserver `yaml:"homeserver"`
	Bot        Bot        `yaml:"bot"`
	Encryption Encryption `yaml:"encryption"`
	Database   Database   `yaml:"database"`
	Service    Service    `yaml:"service"`
	Logging    Logging    `yaml:"logging"`
	IRC        IRC        `yaml:"irc"`
	Pager      Pager      `yaml:"pager"`
	Metrics    Metrics    `yaml:"metrics"`
	HA         HA         `yaml:"ha"`

	// Upgraded says which keys of an older format were read at their new place; the
	// operator is told at start, so they can update the file.
	Upgraded []string `yaml:"-"`
}

// Homeserver is the Matrix server the bot lives on.
type Homeserver struct {
	URL string `yaml:"url"`
}

// Bot is the bot's Matrix account.
type Bot struct {
	UserID      string `yaml:"user-id"`
	Password    string `yaml:"password"`
	AccessToken string `yaml:"access-token"`
	DeviceName  string `yaml:"device-name"`
	DisplayName string `yaml:"display-name"`
}

// Encryption holds the secrets that seal what the database keeps: the bot's Matrix
// keys (PickleKey), and case content and its access token (the data key).
type Encryption struct {
	PickleKey string `yaml:"pickle-key"`
	// DataKey, or the file DataKeyFile names, is the secret the keys sealing case
	// content are derived from. RetiredDataKeys are earlier ones, kept to open what
	// they sealed until the next start seals it again under the current one.
	DataKey         string   `yaml:"data-key"`
	DataKeyFile     string   `yaml:"data-key-file"`
	RetiredDataKeys []string `yaml:"retired-data-keys"`
	// DeviceTrust is which devices of staff and volunteers the bot trusts:
	// "cross-signed" (signed by their owner, whose identity is trusted on first use) or
	// "any" (for homeservers without cross-signing).
	DeviceTrust string `yaml:"device-trust"`
}

// Device trust policies.
const (
	TrustCrossSigned = "cross-signed"
	TrustAny         = "any"
)

// Database is the PostgreSQL connection.
type Database struct {
	URL          string `yaml:"url"`
	MaxOpenConns int    `yaml:"max-open-conns"`
	MaxIdleConns int    `yaml:"max-idle-conns"`
}

// Service holds the help desk's own settings.
type Service struct {
	StaffRoom        string   `yaml:"staff-room"`
	Staff            []string `yaml:"staff"`
	CoordinatorsRoom string   `yaml:"coordinators-room"`
	Coordinators     []string `yaml:"coordinators"`
	AllowedRooms     []string `yaml:"allowed-rooms"`
	DefaultLanguage  string   `yaml:"default-language"`
	IntakeExpiry     Duration `yaml:"intake-expiry"`
	MaxMessageLength int      `yaml:"max-message-length"`
	Retention        Duration `yaml:"retention"`
	MessageExpiry    Duration `yaml:"message-expiry"`
	CaseRooms        string   `yaml:"case-rooms"`
	Routing          Routing  `yaml:"routing"`
	OnCall           OnCall   `yaml:"on-call"`
	Abuse            Abuse    `yaml:"abuse"`
}

// OnCall is the staff escalation chain for staff-route cases.
type OnCall struct {
	Chain          []string `yaml:"chain"`
	RotationStart  string   `yaml:"rotation-start"`
	RotationPeriod Duration `yaml:"rotation-period"`
	AckTimeout     Duration `yaml:"ack-timeout"`
	MaxRounds      int      `yaml:"max-rounds"`
	RepageEvery    Duration `yaml:"repage-every"`
}

// Abuse bounds what one person, and everyone together, can start.
type Abuse struct {
	IntakesPerDay int `yaml:"intakes-per-day"`
	IntakeRate    int `yaml:"intake-rate"`
	IntakeBurst   int `yaml:"intake-burst"`
}

// Routing says how cases reach volunteers.
type Routing struct {
	Mode             string   `yaml:"mode"`
	VolunteersRoom   string   `yaml:"volunteers-room"`
	OfferExpiry      Duration `yaml:"offer-expiry"`
	QueueAlertAfter  Duration `yaml:"queue-alert-after"`
	ReassureEvery    Duration `yaml:"reassure-every"`
	DefaultCaseLimit int      `yaml:"default-case-limit"`
}

// Logging sets the log level and format.
type Logging struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Duration is a time.Duration written as "90s", "15m" or "24h".
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Error is a configuration problem, phrased as the one line the operator reads.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Msg
	}
	key := e.Key
	if strings.ContainsFunc(key, func(r rune) bool { return !unicode.IsPrint(r) }) {
		// An unknown key is as the file wrote it: "a\nb" made an error of two lines
		// (a seed of FuzzParse).
		key = strconv.Quote(key)
	}
	return fmt.Sprintf("config: %s: %s", key, e.Msg)
}

// Defaults are the values an omitted key takes.
func Defaults() Config {
	return Config{
		Version:  Version,
		Bot:      Bot{DeviceName: "Switchboard", DisplayName: "Switchboard"},
		Database: Database{MaxOpenConns: 20, MaxIdleConns: 4},
		// RetiredDataKeys is an empty list, as the example writes it: a file without the
		// key reads the same.
		Encryption: Encryption{DeviceTrust: TrustCrossSigned, RetiredDataKeys: []string{}},
		Service: Service{
			DefaultLanguage: "en", IntakeExpiry: Duration(24 * time.Hour), MaxMessageLength: 4000,
			Retention: Duration(90 * 24 * time.Hour), MessageExpiry: Duration(7 * 24 * time.Hour), CaseRooms: "relayed",
			Routing: Routing{Mode: "direct", OfferExpiry: Duration(10 * time.Minute), QueueAlertAfter: Duration(30 * time.Minute),
				ReassureEvery: Duration(2 * time.Hour), DefaultCaseLimit: 2},
			OnCall: OnCall{RotationPeriod: Duration(7 * 24 * time.Hour), AckTimeout: Duration(5 * time.Minute), MaxRounds: 3,
				RepageEvery: Duration(15 * time.Minute)},
			Abuse: Abuse{IntakesPerDay: 3, IntakeRate: 60, IntakeBurst: 20},
		},
		Logging: Logging{Level: "info", Format: "pretty"},
		IRC:     ircDefaults(),
		Pager:   pagerDefaults(),
		Metrics: Metrics{Listen: ""},
		HA:      HA{Lease: Duration(10 * time.Second)},
	}
}

// Load reads, overrides from the environment and validates a config file.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot read %s: %v", path, unwrapPathErr(err))}
	}
	return Parse(raw, os.LookupEnv)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Parse decodes YAML strictly, applies environment overrides and validates.
func Parse(raw []byte, env func(string) (string, bool)) (*Config, error) {
	cfg := Defaults()
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, &Error{Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) > 0 {
		notes, err := upgrade(doc.Content[0], upgrades, Version)
		if err != nil {
			return nil, err
		}
		cfg.Upgraded = notes
		if err := decode(doc.Content[0], &cfg, ""); err != nil {
			return nil, err
		}
	}
	if env != nil {
		if err := applyEnv(&cfg, env); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}
