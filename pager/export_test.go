package pager

import (
	"context"
	"time"
)

// SetSleep replaces the wait between attempts, so a test decides when a retry
// happens instead of racing a real backoff.
func SetSleep(p *Pager, sleep func(ctx context.Context, d time.Duration) error) { p.sleep = sleep }
