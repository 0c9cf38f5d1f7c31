//go:build tools

// Package tools pins the Matrix homeserver used by the tests and the sandbox, so that
// Dendrite's large dependency graph stays out of the bot's own go.mod.
package tools

import (
	_ "github.com/matrix-org/dendrite/cmd/create-account"
	_ "github.com/matrix-org/dendrite/cmd/dendrite"
	_ "github.com/matrix-org/dendrite/cmd/generate-config"
	_ "github.com/matrix-org/dendrite/cmd/generate-keys"
)
