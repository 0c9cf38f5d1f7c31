package config

import (
	"net"
	"strconv"
)

// Metrics is the operations listener: Prometheus metrics, /healthz and /readyz.
type Metrics struct {
	// Listen is host:port; empty (the default) leaves the listener off.
	Listen string `yaml:"listen"`
}

// HA is how replicas share the work: one leader at a time, by a lease in PostgreSQL.
type HA struct {
	// Lease is how long the leader's lease lasts without renewal (renewed every
	// quarter of it): a frozen leader is replaced after this long, a dead one at once.
	Lease Duration `yaml:"lease"`
}

func (m Metrics) validate() error {
	if m.Listen == "" {
		return nil
	}
	return checkListen("metrics.listen", m.Listen)
}

func checkListen(key, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
		return &Error{Key: key, Msg: "must be host:port, such as 127.0.0.1:9464 (an empty host listens everywhere)"}
	}
	return nil
}
