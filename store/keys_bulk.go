package store

// Seal seals plain for column ("table.column") exactly as the store writes it, and
// NameHash is the keyed hash the store keeps next to a name. They are for tools that
// write rows in bulk without the store (cmd/benchscale fills a database with a hundred
// thousand cases): a row they write is then the row the store would have written.
func (k *Keys) Seal(column, plain string) string { return k.seal(column, plain) }

// NameHash is the keyed hash of a wiki username that SQL compares (see nameHash).
func (k *Keys) NameHash(name string) string { return k.nameHash(name) }
