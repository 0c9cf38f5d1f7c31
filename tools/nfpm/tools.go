//go:build tools

// Package tools pins nfpm, which builds Switchboard's Debian package
// (scripts/package.sh), in a module of its own so that its dependencies stay out
// of the bot's go.mod.
package tools

import _ "github.com/goreleaser/nfpm/v2/cmd/nfpm"
