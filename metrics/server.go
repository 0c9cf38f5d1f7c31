package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Role is what this process is doing in a group of replicas.
type Role string

const (
	RoleStarting Role = "starting"
	RoleLeader   Role = "leader"
	RoleStandby  Role = "standby"
)

// Health answers /readyz. Every field is asked at each request.
type Health struct {
	Role     func() Role
	Database func(context.Context) error
	// SyncStale is how long without a handled /sync batch makes a leader unready:
	// the long poll returns at least every 30 s, so a minute means it is stuck.
	SyncStale time.Duration
}

// Check is one line of the /readyz answer.
type Check struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Ready runs the readiness checks: the database is reachable; a leader is also
// syncing with the homeserver and connected to IRC when IRC is configured. A
// standby is ready when it can reach the database, from where it takes over.
func (m *Metrics) Ready(ctx context.Context, h Health) (Role, []Check, bool) {
	role := RoleLeader
	if h.Role != nil {
		role = h.Role()
	}
	var checks []Check
	add := func(name string, err error) {
		c := Check{Name: name, OK: err == nil}
		if err != nil {
			c.Error = err.Error()
		}
		checks = append(checks, c)
	}
	if h.Database != nil {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		// The driver's error may name the host; the answer says only that it failed.
		if err := h.Database(ctx); err != nil {
			add("database", errors.New("unreachable"))
		} else {
			add("database", nil)
		}
		cancel()
	}
	switch role {
	case RoleStarting:
		add("role", errors.New("starting"))
	case RoleLeader:
		stale := h.SyncStale
		if stale == 0 {
			stale = time.Minute
		}
		switch last := m.LastSync(); {
		case last.IsZero():
			add("matrix_sync", errors.New("no sync handled yet"))
		case m.now().Sub(last) > stale:
			add("matrix_sync", errors.New("no sync handled for "+m.now().Sub(last).Round(time.Second).String()))
		default:
			add("matrix_sync", nil)
		}
		if configured, up := m.IRCConnected(); configured {
			if up {
				add("irc", nil)
			} else {
				add("irc", errors.New("not connected"))
			}
		}
	}
	ok := true
	for _, c := range checks {
		ok = ok && c.OK
	}
	return role, checks, ok
}

// Handler serves /metrics, /healthz and /readyz.
func (m *Metrics) Handler(h Health, log zerolog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: promLog{log}}))
	// Alive: the process answers. Nothing else, so a supervisor never restarts a
	// bot that is only waiting for its database.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		role, checks, ok := m.Ready(r.Context(), h)
		// ?leader: for a proxy that must reach the leader (the acknowledgement
		// listener runs there only), a standby is not ready.
		if r.URL.Query().Has("leader") && role != RoleLeader {
			ok = false
		}
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(struct {
			Role   Role    `json:"role"`
			Ready  bool    `json:"ready"`
			Checks []Check `json:"checks"`
		}{role, ok, checks})
	})
	return mux
}

type promLog struct{ log zerolog.Logger }

func (p promLog) Println(v ...any) { p.log.Warn().Msgf("metrics: %v", v...) }

// Serve listens on addr until ctx ends. It returns once the listener is open (or
// failed to open), so a bad address stops the start.
func Serve(ctx context.Context, addr string, handler http.Handler, log zerolog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Err(err).Msg("HTTP listener stopped")
		}
	}()
	return ln.Addr(), nil
}
