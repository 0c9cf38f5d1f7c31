package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// fillPlaceholders makes an example file startable, the way an operator would.
func fillPlaceholders(raw []byte) []byte {
	s := strings.ReplaceAll(string(raw), "CHANGE-ME", "a-long-operator-secret-0123456789")
	return []byte(strings.ReplaceAll(s, "example.org", "wiki.test"))
}

// Last release's config.example.yaml (format 1, before keys were versioned) still
// starts this build, and reads the same as this build's own example.
func TestLastReleaseExampleStillLoads(t *testing.T) {
	old, err := os.ReadFile("testdata/example-format-1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	current, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The data key (sealing case content) is new and required: an operator of the last
	// release adds it, here from the environment, and nothing else changes.
	dataKey := func(k string) (string, bool) {
		if k == "SWITCHBOARD_ENCRYPTION_DATA_KEY" {
			return "a-long-operator-data-key-0123456789", true
		}
		return "", false
	}
	oldCfg, err := Parse(fillPlaceholders(old), dataKey)
	if err != nil {
		t.Fatalf("last release's example no longer loads: %v", err)
	}
	curCfg, err := Parse(fillPlaceholders(current), dataKey)
	if err != nil {
		t.Fatal(err)
	}
	oldCfg.Upgraded, curCfg.Upgraded = nil, nil
	if !reflect.DeepEqual(oldCfg, curCfg) {
		t.Errorf("last release's example reads differently:\n old %+v\n new %+v", oldCfg, curCfg)
	}
}

func TestUpgradeMovesRenamedKeys(t *testing.T) {
	steps := map[int][]move{
		2: {{from: "service.max-message-length", to: "service.intake.max-length"}},
		3: {{from: "logging.format", to: "log-format"}},
	}
	parse := func(text string) *yaml.Node {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Content[0]
	}
	root := parse("service:\n  staff-room: '!s:x'\n  max-message-length: 900\nlogging:\n  format: json\n")
	notes, err := upgrade(root, steps, 3)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := lookup(root, "service.intake.max-length"); !ok || v.Value != "900" {
		t.Errorf("the renamed key was not moved: %v", v)
	}
	if _, ok := lookup(root, "service.max-message-length"); ok {
		t.Error("the old key is still there")
	}
	if v, ok := lookup(root, "log-format"); !ok || v.Value != "json" {
		t.Errorf("the second step did not run: %v", v)
	}
	if v, ok := lookup(root, "service.staff-room"); !ok || v.Value != "!s:x" {
		t.Errorf("an untouched key moved: %v", v)
	}
	if len(notes) != 3 || !strings.Contains(notes[0], "service.max-message-length is now service.intake.max-length") ||
		!strings.Contains(notes[2], "version: 3") {
		t.Errorf("notes: %q", notes)
	}

	// A file already at format 2 keeps its (new) keys; only step 3 applies.
	root = parse("version: 2\nservice:\n  max-message-length: 5\nlogging:\n  format: json\n")
	if _, err := upgrade(root, steps, 3); err != nil {
		t.Fatal(err)
	}
	if _, ok := lookup(root, "service.max-message-length"); !ok {
		t.Error("a step older than the file's format was applied")
	}

	var ce *Error
	_, err = upgrade(parse("service:\n  max-message-length: 5\n  intake:\n    max-length: 6\n"), steps, 3)
	if !errors.As(err, &ce) || ce.Key != "service.intake.max-length" || !strings.Contains(ce.Msg, "keep only") {
		t.Errorf("a key set at both places: %v", err)
	}
	_, err = upgrade(parse("version: 4\n"), steps, 3)
	if !errors.As(err, &ce) || ce.Key != "version" || !strings.Contains(ce.Msg, "upgrade Switchboard") {
		t.Errorf("a file from a newer Switchboard: %v", err)
	}
	_, err = upgrade(parse("version: two\n"), steps, 3)
	if !errors.As(err, &ce) || ce.Key != "version" {
		t.Errorf("a bad version: %v", err)
	}
}
