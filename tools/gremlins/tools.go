//go:build tools

// Package tools pins Gremlins, the mutation tester behind `make mutate`, so that
// its dependencies stay out of the bot's own go.mod.
package tools

import _ "github.com/go-gremlins/gremlins/cmd/gremlins"
