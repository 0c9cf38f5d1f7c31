package matrix

import "time"

// SetSendTimeout changes the bound on one send attempt for a test, and returns a
// function that puts it back. Not for parallel tests: it is the package's setting.
func SetSendTimeout(d time.Duration) (restore func()) {
	old := sendTimeout
	sendTimeout = d
	return func() { sendTimeout = old }
}
