package config

import (
	"fmt"
	"os"
	"strings"
)

// minDataKey is the shortest data key accepted: the keys that seal case content are
// derived from it, so it must be as hard to guess as they are (store.MinDataKeyLength).
const minDataKey = 32

// ResolveDataKey returns the data key: encryption.data-key, or the contents of the file
// encryption.data-key-file names (surrounding white space dropped).
func (e Encryption) ResolveDataKey() (string, error) {
	switch {
	case e.DataKey != "" && e.DataKeyFile != "":
		return "", &Error{Key: "encryption.data-key", Msg: "set either encryption.data-key or encryption.data-key-file, not both"}
	case e.DataKeyFile != "":
		raw, err := os.ReadFile(e.DataKeyFile)
		if err != nil {
			return "", &Error{Key: "encryption.data-key-file", Msg: fmt.Sprintf("cannot read %s: %v", e.DataKeyFile, unwrapPathErr(err))}
		}
		return strings.TrimSpace(string(raw)), nil
	}
	return e.DataKey, nil
}

func (e Encryption) validateDataKey() error {
	key, err := e.ResolveDataKey()
	if err != nil {
		return err
	}
	where := "encryption.data-key"
	if e.DataKeyFile != "" {
		where = "encryption.data-key-file"
	}
	switch {
	case strings.TrimSpace(key) == "":
		return &Error{Key: where, Msg: "is missing: set encryption.data-key (or data-key-file) to a long random secret, e.g. from openssl rand -base64 32; it seals case content in the database"}
	case isPlaceholder(key):
		return &Error{Key: where, Msg: "still has the example's placeholder value; set your own"}
	case len(key) < minDataKey:
		return &Error{Key: where, Msg: fmt.Sprintf("is too short; use at least %d random characters (openssl rand -base64 32)", minDataKey)}
	case key == e.PickleKey:
		return &Error{Key: where, Msg: "must differ from encryption.pickle-key, so that it can be changed on its own"}
	}
	for _, r := range e.RetiredDataKeys {
		if strings.TrimSpace(r) == "" {
			return &Error{Key: "encryption.retired-data-keys", Msg: "has an empty entry"}
		}
	}
	return nil
}
