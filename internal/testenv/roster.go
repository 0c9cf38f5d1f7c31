package testenv

import "strings"

// Enrol is what staff type to make a Matrix account an active volunteer: on the roster
// with a wiki username (without one the bot offers them nothing), confirmed, promoted.
// Each answer names the account.
func Enrol(userID string) []string {
	local := strings.SplitN(strings.TrimPrefix(userID, "@"), ":", 2)[0]
	return []string{
		"!volunteer add " + userID + " Wiki_" + local,
		"!volunteer confirm " + userID,
		"!volunteer promote " + userID,
	}
}
