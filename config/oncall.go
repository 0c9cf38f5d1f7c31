package config

import (
	"fmt"
	"strings"
	"time"
)

// Start is the rotation's start (zero when not set).
func (o OnCall) Start() time.Time {
	t, _ := time.Parse(time.RFC3339, o.RotationStart)
	return t
}

func (o OnCall) validate() error {
	for _, u := range o.Chain {
		if !strings.HasPrefix(u, "@") || !strings.Contains(u, ":") {
			return &Error{Key: "service.on-call.chain", Msg: fmt.Sprintf("%q is not a Matrix user ID such as @name:server", u)}
		}
	}
	if o.RotationStart != "" {
		if _, err := time.Parse(time.RFC3339, o.RotationStart); err != nil {
			return &Error{Key: "service.on-call.rotation-start", Msg: fmt.Sprintf("%q is not a time like 2026-01-05T09:00:00Z", o.RotationStart)}
		}
	}
	switch {
	case o.RotationPeriod.D() < time.Hour:
		return &Error{Key: "service.on-call.rotation-period", Msg: "must be at least 1h"}
	case o.AckTimeout.D() < 30*time.Second:
		return &Error{Key: "service.on-call.ack-timeout", Msg: "must be at least 30s"}
	case o.MaxRounds < 1 || o.MaxRounds > 20:
		return &Error{Key: "service.on-call.max-rounds", Msg: "must be from 1 to 20"}
	case o.RepageEvery.D() != 0 && o.RepageEvery.D() < time.Minute:
		return &Error{Key: "service.on-call.repage-every", Msg: "must be 0 (never) or at least 1m"}
	}
	return nil
}
