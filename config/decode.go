package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var durationType = reflect.TypeOf(Duration(0))

// decode walks the YAML tree against the struct so that every error can name the full
// key path (yaml.v3's own errors give only a line and a Go type name).
func decode(n *yaml.Node, out any, path string) error {
	return decodeValue(n, reflect.ValueOf(out).Elem(), path)
}

func decodeValue(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // an empty key keeps its default
	}
	switch {
	case v.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &Error{Key: keyOr(path), Msg: fmt.Sprintf("must be a section of keys (line %d)", n.Line)}
		}
		fields := yamlFields(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := join(path, k.Value)
			idx, ok := fields[k.Value]
			if !ok {
				return &Error{Key: key, Msg: fmt.Sprintf("unknown key (line %d); see config.example.yaml for the keys there are", k.Line)}
			}
			if err := decodeValue(val, v.Field(idx), key); err != nil {
				return err
			}
		}
		return nil
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String:
		return decodeMap(n, v, path)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Key: path, Msg: fmt.Sprintf("must be a list (line %d)", n.Line)}
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := decodeValue(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return &Error{Key: path, Msg: fmt.Sprintf("must be a single value (line %d)", n.Line)}
	}
	if err := setScalar(v, n.Value, path); err != nil {
		err.Msg = fmt.Sprintf("%s (line %d)", err.Msg, n.Line)
		return err
	}
	return nil
}

// decodeMap reads a section whose keys are data (such as Matrix IDs), not field names.
func decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return &Error{Key: keyOr(path), Msg: fmt.Sprintf("must be a section of keys (line %d)", n.Line)}
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		mk := reflect.ValueOf(k.Value).Convert(v.Type().Key())
		if m.MapIndex(mk).IsValid() {
			return &Error{Key: key, Msg: fmt.Sprintf("appears twice (line %d)", k.Line)}
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := decodeValue(val, elem, key); err != nil {
			return err
		}
		m.SetMapIndex(mk, elem)
	}
	v.Set(m)
	return nil
}

// setScalar parses one value into a field; it serves both the file and the environment.
func setScalar(v reflect.Value, s, path string) *Error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			return &Error{Key: path, Msg: fmt.Sprintf("%q is not a duration; write it like 90s, 15m or 24h", s)}
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int:
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return &Error{Key: path, Msg: fmt.Sprintf("%q is not a whole number", s)}
		}
		v.SetInt(int64(i))
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return &Error{Key: path, Msg: fmt.Sprintf("%q is not true or false", s)}
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		// From the environment: a comma-separated list.
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return &Error{Key: path, Msg: "cannot be set here"}
	}
	return nil
}

func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func keyOr(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// applyEnv overrides leaves from SWITCHBOARD_SECTION_KEY variables.
func applyEnv(cfg *Config, env func(string) (string, bool)) error {
	return walkLeaves(reflect.ValueOf(cfg).Elem(), "", func(v reflect.Value, path string) error {
		name := "SWITCHBOARD_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(path))
		s, ok := env(name)
		if !ok {
			return nil
		}
		if err := setScalar(v, s, path); err != nil {
			err.Msg += " (from " + name + ")"
			return err
		}
		return nil
	})
}

func walkLeaves(v reflect.Value, path string, fn func(reflect.Value, string) error) error {
	if v.Kind() != reflect.Struct || v.Type() == durationType {
		return fn(v, path)
	}
	for name, idx := range yamlFields(v.Type()) {
		if err := walkLeaves(v.Field(idx), join(path, name), fn); err != nil {
			return err
		}
	}
	return nil
}
