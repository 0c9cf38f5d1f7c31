package config

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The fuzz target of the config decoder: seeds are in testdata/fuzz/FuzzParse, and
// `make fuzz` runs it for FUZZTIME.

// FuzzParse: any file, and any value in the environment, gives a configuration or
// one *Error of one line naming the key; a configuration written out again reads back
// the same.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid), "")
	f.Add([]byte(valid+"service:\n  intake-expiry: 90m\n  staff: ['@a:b', '@c:d']\npager:\n  contacts:\n    '@a:b':\n      email: a@b.example\n"), "")
	f.Add([]byte(valid+"irc:\n  server: irc.libera.chat:6697\n  channels: ['#x']\n"), "5")
	f.Add([]byte("a: &a [1,2]\nb: *a\n"), "")
	f.Add([]byte("version: 2\n"), "")
	f.Add([]byte(valid), "tomorrow")
	f.Add([]byte(valid+"? \"a\\nb\"\n: 1\n"), "") // a key with a line break
	f.Fuzz(func(t *testing.T, raw []byte, envValue string) {
		cfg, err := Parse(raw, nil)
		checkErr(t, raw, err)
		if err == nil {
			out, err := yaml.Marshal(encodeNode(t, reflect.ValueOf(*cfg)))
			if err != nil {
				t.Fatalf("cannot write %+v out: %v", cfg, err)
			}
			back, err := Parse(out, nil)
			if err != nil {
				t.Fatalf("%q read, but written out as\n%s\nit does not: %v", raw, out, err)
			}
			back.Upgraded, cfg.Upgraded = nil, nil
			if !reflect.DeepEqual(back, cfg) {
				t.Errorf("%q read as\n%+v\nwritten out as\n%s\nread back as\n%+v", raw, cfg, out, back)
			}
		}
		// Every variable set to the same value: each leaf parses it or says which one.
		_, err = Parse(raw, func(string) (string, bool) { return envValue, true })
		checkErr(t, raw, err)
	})
}

func checkErr(t *testing.T, raw []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: an error that is not a *config.Error: %v", raw, err)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("%q: an error of more than one line: %q", raw, err.Error())
	}
}

// encodeNode writes a configuration value as the YAML the operator would write.
func encodeNode(t *testing.T, v reflect.Value) *yaml.Node {
	t.Helper()
	switch {
	case v.Type() == durationType:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: time.Duration(v.Int()).String()}
	case v.Kind() == reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			if fv := v.Field(i); (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.IsNil() {
				continue // nil stays nil; an empty list is written []
			}
			n.Content = append(n.Content, str(name), encodeNode(t, v.Field(i)))
		}
		return n
	case v.Kind() == reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range v.MapKeys() {
			n.Content = append(n.Content, str(k.String()), encodeNode(t, v.MapIndex(k)))
		}
		return n
	case v.Kind() == reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := range v.Len() {
			n.Content = append(n.Content, encodeNode(t, v.Index(i)))
		}
		return n
	case v.Kind() == reflect.String:
		return str(v.String())
	case v.Kind() == reflect.Int:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatInt(v.Int(), 10)}
	case v.Kind() == reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Value: strconv.FormatBool(v.Bool())}
	}
	t.Fatalf("cannot write a %s", v.Type())
	return nil
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}
