package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Version is the format of the configuration this build reads and writes (the
// `version` key of config.example.yaml). A file without the key is version 1.
//
// Renaming or moving a key must not break an operator's file: the change bumps
// Version and adds a step to upgrades, and the file's older keys are then read at
// their new place, with a note (logged at start) saying what to change. This is
// mautrix's configupgrade done in memory: the operator's file, comments and all, is
// never rewritten behind their back.
const Version = 1

// A move is one key that changed place in a format version.
type move struct {
	from, to string
}

// upgrades[v] are the moves from format v-1 to v. Version 1 is the first format.
var upgrades = map[int][]move{}

// upgrade brings an older file's tree to the current format and returns what it
// moved, for the operator. A key set at both its old and its new place is an error,
// since either reading could be what they meant.
func upgrade(root *yaml.Node, steps map[int][]move, current int) (notes []string, err error) {
	version, err := fileVersion(root)
	if err != nil {
		return nil, err
	}
	if version > current {
		return nil, &Error{Key: "version", Msg: fmt.Sprintf("the file is format %d, but this Switchboard reads formats up to %d; upgrade Switchboard", version, current)}
	}
	for v := version + 1; v <= current; v++ {
		for _, m := range steps[v] {
			val, ok := take(root, m.from)
			if !ok {
				continue
			}
			if _, exists := lookup(root, m.to); exists {
				return nil, &Error{Key: m.to, Msg: fmt.Sprintf("is set, and so is %s, its name before format %d; keep only %s", m.from, v, m.to)}
			}
			put(root, m.to, val)
			notes = append(notes, fmt.Sprintf("%s is now %s (format %d): rename it in the file", m.from, m.to, v))
		}
	}
	if version < current && len(notes) > 0 {
		notes = append(notes, fmt.Sprintf("then set version: %d", current))
	}
	return notes, nil
}

func fileVersion(root *yaml.Node) (int, error) {
	n, ok := lookup(root, "version")
	if !ok || n.Tag == "!!null" {
		return 1, nil
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < 1 {
		return 0, &Error{Key: "version", Msg: fmt.Sprintf("%q is not a format version such as %d (line %d)", n.Value, Version, n.Line)}
	}
	return v, nil
}

// lookup finds the value node at a dotted key path.
func lookup(root *yaml.Node, path string) (*yaml.Node, bool) {
	n := root
	for _, k := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return nil, false
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				n, found = n.Content[i+1], true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return n, true
}

// take removes a key and returns its value.
func take(root *yaml.Node, path string) (*yaml.Node, bool) {
	parentPath, key := "", path
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parentPath, key = path[:i], path[i+1:]
	}
	parent := root
	if parentPath != "" {
		var ok bool
		if parent, ok = lookup(root, parentPath); !ok {
			return nil, false
		}
	}
	if parent.Kind != yaml.MappingNode {
		return nil, false
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == key {
			val := parent.Content[i+1]
			parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
			return val, true
		}
	}
	return nil, false
}

// put sets a key, creating the sections on its path.
func put(root *yaml.Node, path string, val *yaml.Node) {
	n := root
	keys := strings.Split(path, ".")
	for i, k := range keys {
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				next = n.Content[j+1]
				break
			}
		}
		if i == len(keys)-1 {
			if next != nil {
				*next = *val
				return
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, val)
			return
		}
		if next == nil || next.Kind != yaml.MappingNode {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, next)
		}
		n = next
	}
}
