package store

import (
	"strings"
	"testing"
)

// A sealed value opens only under a key it was sealed with, and only in its column.
func TestSealedValueOpensOnlyInItsColumn(t *testing.T) {
	old, err := NewKeys("an-old-data-key-0123456789abcdefghijkl")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := NewKeys("the-current-data-key-0123456789abcdefg", "an-old-data-key-0123456789abcdefghijkl")
	if err != nil {
		t.Fatal(err)
	}
	const story = "he follows me to every talk page"
	sealed := old.seal("cases.description", story)
	if strings.Contains(sealed, story) || !strings.HasPrefix(sealed, "sb1:"+old.ID()+":") {
		t.Fatalf("sealed as %q", sealed)
	}
	if again := old.seal("cases.description", story); again == sealed {
		t.Error("two seals of one text are equal: the nonce is not fresh")
	}
	if got, err := cur.open("cases.description", sealed); err != nil || got != story {
		t.Errorf("a retired key does not open its value: %q %v", got, err)
	}
	if _, err := cur.open("case_notes.text", sealed); err != errDamaged {
		t.Errorf("a value moved to another column opened: %v", err)
	}
	if _, err := old.open("cases.description", cur.seal("cases.description", story)); err != errUnknownKey {
		t.Errorf("a value under a key not configured: %v", err)
	}
	if _, err := cur.open("cases.description", story); err != errNotSealed {
		t.Errorf("clear text read as sealed: %v", err)
	}
	if cur.seal("cases.description", "") != "" {
		t.Error("an empty value was sealed")
	}
	if _, err := NewKeys("short"); err == nil {
		t.Error("a short data key was taken")
	}
	if old.nameHash("Émile") != old.nameHash("E\u0301MILE\u200e") || old.nameHash("Émile") == cur.nameHash("Émile") {
		t.Error("name hashes: one name must hash alike under one key, and differently under another")
	}
}
