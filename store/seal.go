package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"switchboard/bot"
)

// Case content is sealed at rest: a dump of the database (a backup, a stolen disk, a
// read-only SQL injection somewhere else on the host) must not hand a harasser the story
// of the person they harass, who they named, or the bot's Matrix access token. Each
// value is sealed on its own with AES-256-GCM under a key derived with HKDF from the
// configured secret (encryption.data-key), and tagged with the ID of that key:
//
//	sb1:<key ID, 8 hex digits>:<base64 of nonce and ciphertext>
//
// so that a new secret can be configured while the old one is kept to read (rotation:
// at start, every value sealed under a retired key is sealed again under the current
// one; docs/operations.md). The associated data is the column's name, so a sealed value
// copied into another column does not open. Empty stays empty: that a field is empty
// says nothing, and SQL still tells a purged case from one with content.
//
// Names are compared without being read: the comparison key of a wiki username
// (bot.NameKey) is stored as an HMAC-SHA256 under another key derived from the same
// secret, and SQL compares those hashes.

const sealVersion = "sb1:"

// Keys seals and opens values, and hashes names, under the configured data key.
type Keys struct {
	id      string
	aead    cipher.AEAD
	mac     []byte
	retired map[string]cipher.AEAD
}

// MinDataKeyLength is the shortest secret accepted: the keys are derived from it, so
// it must be as hard to guess as they are.
const MinDataKeyLength = 32

// NewKeys derives the keys from the current secret and from retired ones, which are
// only ever used to open what was sealed under them.
func NewKeys(current string, retired ...string) (*Keys, error) {
	if len(current) < MinDataKeyLength {
		return nil, fmt.Errorf("the data key must be at least %d characters", MinDataKeyLength)
	}
	k := &Keys{retired: map[string]cipher.AEAD{}}
	var err error
	if k.id, k.aead, k.mac, err = derive(current); err != nil {
		return nil, err
	}
	for _, r := range retired {
		id, aead, _, err := derive(r)
		if err != nil {
			return nil, err
		}
		if id == k.id {
			continue // the current key listed among the retired ones
		}
		k.retired[id] = aead
	}
	return k, nil
}

func derive(secret string) (id string, aead cipher.AEAD, mac []byte, err error) {
	prk, err := hkdf.Extract(sha256.New, []byte(secret), []byte("switchboard data key"))
	if err != nil {
		return "", nil, nil, err
	}
	expand := func(info string, n int) []byte {
		out, xerr := hkdf.Expand(sha256.New, prk, info, n)
		if xerr != nil && err == nil {
			err = xerr
		}
		return out
	}
	sealKey, macKey, idBytes := expand("switchboard seal aes-256-gcm v1", 32), expand("switchboard name keys hmac-sha256 v1", 32),
		expand("switchboard key id v1", 4)
	if err != nil {
		return "", nil, nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return "", nil, nil, err
	}
	if aead, err = cipher.NewGCM(block); err != nil {
		return "", nil, nil, err
	}
	return hex.EncodeToString(idBytes), aead, macKey, nil
}

// ID names the current key (it is not secret: it only says which key sealed a value).
func (k *Keys) ID() string { return k.id }

// seal seals plain for column (the associated data). "" stays "".
func (k *Keys) seal(column, plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(column))
	return sealVersion + k.id + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// sealAll seals each element of a list (nil stays nil: "not asked" is not "none").
func (k *Keys) sealAll(column string, plain []string) []string {
	if plain == nil {
		return nil
	}
	out := make([]string, len(plain))
	for i, p := range plain {
		out[i] = k.seal(column, p)
	}
	return out
}

var (
	errNotSealed  = errors.New("store: a stored value is not sealed")
	errUnknownKey = errors.New("store: a stored value is sealed under a key that is not configured (was encryption.data-key changed without keeping the old one in encryption.retired-data-keys?)")
	errDamaged    = errors.New("store: a sealed value does not open (damaged, or not from this column)")
)

// parse splits a sealed value into its key ID and payload; ok is false for anything
// that does not have the shape of one.
func parseSealed(v string) (id string, payload []byte, ok bool) {
	rest, found := strings.CutPrefix(v, sealVersion)
	if !found {
		return "", nil, false
	}
	id, b64, found := strings.Cut(rest, ":")
	if !found || len(id) != 8 {
		return "", nil, false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", nil, false
	}
	payload, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(payload) < 12+16 {
		return "", nil, false
	}
	return id, payload, true
}

// open opens a value sealed for column, under the current key or a retired one.
func (k *Keys) open(column, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	id, payload, ok := parseSealed(v)
	if !ok {
		return "", errNotSealed
	}
	aead := k.aead
	if id != k.id {
		if aead = k.retired[id]; aead == nil {
			return "", errUnknownKey
		}
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, payload[:n], payload[n:], []byte(column))
	if err != nil {
		return "", errDamaged
	}
	return string(plain), nil
}

// openAll opens each element of a sealed list.
func (k *Keys) openAll(column string, sealed []string) ([]string, error) {
	if sealed == nil {
		return nil, nil
	}
	out := make([]string, len(sealed))
	for i, s := range sealed {
		var err error
		if out[i], err = k.open(column, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// nameHash is the keyed hash of a wiki username's comparison key (bot.NameKey), what
// SQL compares; "" for a name without a key.
func (k *Keys) nameHash(name string) string {
	key := bot.NameKey(name)
	if key == "" {
		return ""
	}
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// nameHashes is nameHash of each name, dropping names without a key.
func (k *Keys) nameHashes(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if h := k.nameHash(n); h != "" {
			out = append(out, h)
		}
	}
	return out
}
