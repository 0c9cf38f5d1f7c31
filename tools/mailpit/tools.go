//go:build tools

// Package tools pins Mailpit, the SMTP server that the pager's tests send e-mail
// pages to, so that its dependencies stay out of the bot's own go.mod.
package tools

import _ "github.com/axllent/mailpit"
