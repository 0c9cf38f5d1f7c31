package app

import (
	"context"
	"os"
	"os/signal"
	"reflect"
	"syscall"

	"github.com/rs/zerolog"

	"switchboard/bot"
	"switchboard/config"
	"switchboard/metrics"
	"switchboard/pager"
)

func watchHUP(on bool) chan os.Signal {
	if !on {
		return nil
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch
}

func stopHUP(ch chan os.Signal) {
	if ch != nil {
		signal.Stop(ch)
	}
}

// reloadOnHUP re-reads the configuration at each SIGHUP. Staff, coordinators, the
// on-call chain and pager contacts take effect at once; a file that does not load is
// refused with one line and the running configuration stays whole.
func reloadOnHUP(ctx context.Context, hup <-chan os.Signal, load func() (*config.Config, error), running *config.Config,
	svc *bot.Service, pg *pager.Pager, m *metrics.Metrics, log zerolog.Logger) {
	if hup == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		next, err := load()
		if err == nil {
			contacts, smtp := pagerContacts(next.Pager)
			err = pg.SetContacts(contacts, smtp)
		}
		if err != nil {
			m.Reloaded(false)
			log.Error().Str("error", err.Error()).Msg("Configuration not reloaded; the running one stays")
			continue
		}
		svc.Reload(bot.LiveOf(next.Core()))
		m.Reloaded(true)
		log.Info().Int("staff", len(next.Service.Staff)).Int("coordinators", len(next.Service.Coordinators)).
			Int("on_call", len(next.Service.OnCall.Chain)).Int("pager_contacts", len(next.Pager.Contacts)).
			Msg("Configuration reloaded")
		if restartOnly(running, next) {
			log.Warn().Msg("The file has other changes too; they take effect at the next restart")
		}
		running = next
	}
}

// restartOnly reports whether a and b differ in anything a reload does not apply.
func restartOnly(a, b *config.Config) bool {
	strip := func(c config.Config) config.Config {
		c.Service.Staff, c.Service.Coordinators, c.Service.OnCall = nil, nil, config.OnCall{}
		c.Pager.Contacts, c.Pager.SMTP, c.Upgraded = nil, config.SMTP{}, nil
		return c
	}
	return !reflect.DeepEqual(strip(*a), strip(*b))
}
