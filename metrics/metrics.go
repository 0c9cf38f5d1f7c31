// Package metrics serves Switchboard's operational view: Prometheus metrics in the
// switchboard_ namespace, /healthz and /readyz, on an opt-in listener
// (metrics.listen). Counters of what happened to cases are read from the audit log at
// each scrape, so they survive restarts and agree across replicas; what only a
// process knows (sends, retries, sync, leadership) is counted in memory. No metric
// has a label naming a person, a room or a case reference.
package metrics

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"switchboard/bot"
	"switchboard/store"
)

const ns = "switchboard"

// Metrics holds the in-process metrics and the registry that serves them with those
// read from the database.
type Metrics struct {
	reg *prometheus.Registry

	dbRetries     prometheus.Counter
	outboxSent    *prometheus.CounterVec
	outboxFailed  *prometheus.CounterVec
	pagesSent     *prometheus.CounterVec
	pagesFailed   *prometheus.CounterVec
	phoneAcks     *prometheus.CounterVec
	takeovers     prometheus.Counter
	reloads       *prometheus.CounterVec
	leader        prometheus.Gauge
	epoch         prometheus.Gauge
	ircConfigured atomic.Bool
	ircUp         atomic.Pointer[func() bool]
	lastSync      atomic.Int64 // unix nanoseconds of the last /sync batch fully handled

	source  atomic.Pointer[func(context.Context) (store.Snapshot, error)]
	leading atomic.Pointer[func() bool]
	now     func() time.Time
}

// New makes the metrics of one process. version labels switchboard_build_info.
func New(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), now: time.Now}
	f := prometheus.NewCounterVec
	m.dbRetries = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "db_retries_total",
		Help: "Database operations tried again because PostgreSQL was unreachable or asked for a retry."})
	m.outboxSent = f(prometheus.CounterOpts{Namespace: ns, Name: "outbox_sent_total",
		Help: "Outbox messages and actions delivered, per platform."}, []string{"platform"})
	m.outboxFailed = f(prometheus.CounterOpts{Namespace: ns, Name: "outbox_send_failures_total",
		Help: "Failed attempts at delivering an outbox row, per platform (each is retried)."}, []string{"platform"})
	m.pagesSent = f(prometheus.CounterOpts{Namespace: ns, Name: "pages_sent_total",
		Help: "Pages delivered to a paging channel (ntfy, webhook, email)."}, []string{"channel"})
	m.pagesFailed = f(prometheus.CounterOpts{Namespace: ns, Name: "pages_send_failures_total",
		Help: "Pages that a channel still refused after its retries."}, []string{"channel"})
	m.phoneAcks = f(prometheus.CounterOpts{Namespace: ns, Name: "phone_acks_total",
		Help: "Acknowledgements arriving from outside Matrix (ntfy action, on-call webhook), by outcome."}, []string{"via", "outcome"})
	m.takeovers = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "leader_takeovers_total",
		Help: "Times this process became the leader."})
	m.reloads = f(prometheus.CounterOpts{Namespace: ns, Name: "config_reloads_total",
		Help: "Configuration reloads on SIGHUP, by result."}, []string{"result"})
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "leader",
		Help: "1 while this process is the leader (syncs, sends, runs timers), 0 while it is a standby."})
	m.epoch = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "leader_epoch",
		Help: "The lease epoch this process last held; it grows by one at every take-over."})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
		Help: "Always 1; the version is the label."}, []string{"version"})
	build.WithLabelValues(version).Set(1)
	m.reg.MustRegister(m.dbRetries, m.outboxSent, m.outboxFailed, m.pagesSent, m.pagesFailed, m.phoneAcks,
		m.takeovers, m.reloads, m.leader, m.epoch, build, &dbCollector{m: m}, &liveCollector{m: m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, p := range []bot.Platform{bot.Matrix, bot.IRC, bot.Pager} {
		m.outboxSent.WithLabelValues(string(p))
		m.outboxFailed.WithLabelValues(string(p))
	}
	for _, c := range []string{"ntfy", "webhook", "email"} {
		m.pagesSent.WithLabelValues(c)
		m.pagesFailed.WithLabelValues(c)
	}
	return m
}

// Registry is where every metric is registered (for tests and the handler).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SetSource gives the database snapshot and says when this process is the one that
// reports it: only the leader does, so that a sum over replicas counts each case once.
func (m *Metrics) SetSource(snapshot func(context.Context) (store.Snapshot, error), leading func() bool) {
	m.source.Store(&snapshot)
	m.leading.Store(&leading)
}

// SetLeader records this process's role and lease epoch.
func (m *Metrics) SetLeader(leading bool, epoch int64) {
	if leading {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
	m.epoch.Set(float64(epoch))
}

// TookOver counts a take-over.
func (m *Metrics) TookOver() { m.takeovers.Inc() }

// DBRetry counts one retried database operation.
func (m *Metrics) DBRetry() { m.dbRetries.Inc() }

// Synced records that a /sync batch was fully handled.
func (m *Metrics) Synced() { m.lastSync.Store(m.now().UnixNano()) }

// LastSync is when a /sync batch was last fully handled (zero: never).
func (m *Metrics) LastSync() time.Time {
	if n := m.lastSync.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// SetIRC says that IRC is configured and how to tell whether it is connected.
func (m *Metrics) SetIRC(connected func() bool) {
	m.ircConfigured.Store(true)
	m.ircUp.Store(&connected)
}

// IRCConnected reports (configured, connected).
func (m *Metrics) IRCConnected() (bool, bool) {
	if !m.ircConfigured.Load() {
		return false, false
	}
	f := m.ircUp.Load()
	return true, f != nil && (*f)()
}

// PageSent and PageFailed count one page on one channel.
func (m *Metrics) PageSent(channel string)   { m.pagesSent.WithLabelValues(channel).Inc() }
func (m *Metrics) PageFailed(channel string) { m.pagesFailed.WithLabelValues(channel).Inc() }

// PhoneAck counts an acknowledgement from outside Matrix: via "ntfy" or "webhook",
// outcome "acked", "already", "refused".
func (m *Metrics) PhoneAck(via, outcome string) { m.phoneAcks.WithLabelValues(via, outcome).Inc() }

// Reloaded counts a SIGHUP reload, ok or refused.
func (m *Metrics) Reloaded(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("refused").Inc()
	}
}

// Sender counts an outbox platform's deliveries and failures around its sender.
func (m *Metrics) Sender(p bot.Platform, s bot.Sender) bot.Sender {
	c := &countingSender{s: s, sent: m.outboxSent.WithLabelValues(string(p)), failed: m.outboxFailed.WithLabelValues(string(p))}
	if par, ok := s.(bot.Paralleler); ok {
		return &parallelCounting{countingSender: c, par: par}
	}
	return c
}

type countingSender struct {
	s            bot.Sender
	sent, failed prometheus.Counter
}

func (c *countingSender) Send(ctx context.Context, o bot.Outgoing) error {
	err := c.s.Send(ctx, o)
	switch {
	case err == nil:
		c.sent.Inc()
	case ctx.Err() != nil, errors.Is(err, bot.ErrRecipientAway):
		// Stopping, or an IRC person offline: nothing failed.
	default:
		c.failed.Inc()
	}
	return err
}

type parallelCounting struct {
	*countingSender
	par bot.Paralleler
}

func (p *parallelCounting) Parallel() int { return p.par.Parallel() }

// dbCollector reads the database snapshot at each scrape.
type dbCollector struct{ m *Metrics }

var (
	descUp           = prometheus.NewDesc(ns+"_metrics_database_up", "1 when the last scrape could read the database (leader only).", nil, nil)
	descCases        = prometheus.NewDesc(ns+"_cases", "Cases by route and state.", []string{"route", "state"}, nil)
	descIntakesOpen  = prometheus.NewDesc(ns+"_intakes_open", "Intakes in progress.", nil, nil)
	descIntakes      = prometheus.NewDesc(ns+"_intakes_total", "Intakes started, completed and abandoned (cancelled or expired).", []string{"outcome"}, nil)
	descWaitlist     = prometheus.NewDesc(ns+"_intake_waitlist", "People waiting in the busy line to start an intake.", nil, nil)
	descQueue        = prometheus.NewDesc(ns+"_queue_length", "Volunteer-route cases waiting for a volunteer (queued or offered).", nil, nil)
	descQueueOldest  = prometheus.NewDesc(ns+"_queue_oldest_wait_seconds", "How long the longest-waiting volunteer-route case has waited (0: none waits).", nil, nil)
	descQueueWait    = prometheus.NewDesc(ns+"_queue_wait_seconds", "Time from queued to accepted by a volunteer.", nil, nil)
	descFirstReply   = prometheus.NewDesc(ns+"_first_reply_seconds", "Time from a case opening to the first reply of a person working it, by route.", []string{"route"}, nil)
	descOffers       = prometheus.NewDesc(ns+"_offers_total", "Offers to volunteers, by outcome (made, accepted, declined, expired).", []string{"outcome"}, nil)
	descCaseEvents   = prometheus.NewDesc(ns+"_case_transitions_total", "Cases opened, escalated, closed and withdrawn.", []string{"transition"}, nil)
	descPages        = prometheus.NewDesc(ns+"_pages_total", "Staff pages (paged), acknowledgements (acked), failures reported to staff (failed) and chains that ran out (exhausted).", []string{"outcome"}, nil)
	descPageFailures = prometheus.NewDesc(ns+"_page_failures_total", "Pages reported to the staff room as failed, per channel.", []string{"channel"}, nil)
	descAckTime      = prometheus.NewDesc(ns+"_page_ack_seconds", "Time from a staff-route case opening to a staff member acknowledging it.", nil, nil)
	descUnacked      = prometheus.NewDesc(ns+"_page_unacked_oldest_seconds", "How long the oldest open staff-route case has gone unacknowledged (0: none).", nil, nil)
	descBacklog      = prometheus.NewDesc(ns+"_outbox_backlog", "Outbox rows waiting to be sent, per platform.", []string{"platform"}, nil)
	descBacklogAge   = prometheus.NewDesc(ns+"_outbox_oldest_seconds", "Age of the oldest waiting outbox row, per platform.", []string{"platform"}, nil)
)

// platforms and routes always get a series, so that an alert on them has a 0 to
// compare with rather than no data.
var (
	platforms = []string{string(bot.Matrix), string(bot.IRC), string(bot.Pager)}
	routes    = []string{string(bot.RouteVolunteer), string(bot.RouteStaff)}
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descCases, descIntakesOpen, descIntakes, descWaitlist, descQueue,
		descQueueOldest, descQueueWait, descFirstReply, descOffers, descCaseEvents, descPages, descPageFailures,
		descAckTime, descUnacked, descBacklog, descBacklogAge} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	src, lead := c.m.source.Load(), c.m.leading.Load()
	if src == nil || lead == nil || !(*lead)() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := (*src)(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, kind bot.EventKind, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(snap.Events[string(kind)]), labels...)
	}
	for _, route := range routes {
		for _, state := range []bot.CaseState{bot.StateIntake, bot.StateQueued, bot.StateOffered, bot.StateAccepted,
			bot.StateActive, bot.StateStaff, bot.StateWithdrawn, bot.StateClosed} {
			gauge(descCases, float64(snap.Cases[[2]string{route, string(state)}]), route, string(state))
		}
	}
	gauge(descIntakesOpen, float64(snap.OpenIntakes))
	counter(descIntakes, bot.EventIntakeStarted, "started")
	counter(descIntakes, bot.EventIntakeCompleted, "completed")
	counter(descIntakes, bot.EventIntakeCancelled, "cancelled")
	counter(descIntakes, bot.EventIntakeExpired, "expired")
	gauge(descWaitlist, float64(snap.Waitlist))
	vr := string(bot.RouteVolunteer)
	gauge(descQueue, float64(snap.Cases[[2]string{vr, string(bot.StateQueued)}]+snap.Cases[[2]string{vr, string(bot.StateOffered)}]))
	gauge(descQueueOldest, snap.OldestQueued.Seconds())
	histogram(ch, descQueueWait, snap.QueueWait)
	for _, route := range routes {
		histogram(ch, descFirstReply, snap.FirstReply[route], route)
	}
	counter(descOffers, bot.EventOffered, "made")
	counter(descOffers, bot.EventAccepted, "accepted")
	counter(descOffers, bot.EventOfferDeclined, "declined")
	counter(descOffers, bot.EventOfferExpired, "expired")
	counter(descCaseEvents, bot.EventCaseOpened, "opened")
	counter(descCaseEvents, bot.EventEscalated, "escalated")
	counter(descCaseEvents, bot.EventCaseClosed, "closed")
	counter(descCaseEvents, bot.EventCaseWithdrawn, "withdrawn")
	counter(descPages, bot.EventPaged, "paged")
	counter(descPages, bot.EventAcked, "acked")
	counter(descPages, bot.EventPageFailed, "failed")
	counter(descPages, bot.EventPagingExhausted, "exhausted")
	for _, channel := range []string{"ntfy", "webhook", "email"} {
		ch <- prometheus.MustNewConstMetric(descPageFailures, prometheus.CounterValue, float64(snap.PageFailed[channel]), channel)
	}
	histogram(ch, descAckTime, snap.AckTime)
	gauge(descUnacked, snap.OldestUnacked.Seconds())
	for _, p := range platforms {
		gauge(descBacklog, float64(snap.Outbox[p].Rows), p)
		gauge(descBacklogAge, snap.Outbox[p].Oldest.Seconds(), p)
	}
}

func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h store.Histogram, labels ...string) {
	buckets := make(map[float64]uint64, len(store.MetricBuckets))
	for i, b := range store.MetricBuckets {
		if i < len(h.Counts) {
			buckets[b.Seconds()] = h.Counts[i]
		} else {
			buckets[b.Seconds()] = 0
		}
	}
	ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum.Seconds(), buckets, labels...)
}

// liveCollector reports what is measured at the moment of the scrape.
type liveCollector struct{ m *Metrics }

var (
	descSyncLag = prometheus.NewDesc(ns+"_matrix_sync_lag_seconds", "Seconds since a Matrix /sync batch was last fully handled (leader only; a healthy bot stays under ~35 s, the long-poll timeout).", nil, nil)
	descIRC     = prometheus.NewDesc(ns+"_irc_connected", "1 while the IRC connection is up (leader only, when IRC is configured).", nil, nil)
)

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descSyncLag; ch <- descIRC }

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	if lead := c.m.leading.Load(); lead == nil || !(*lead)() {
		return
	}
	if last := c.m.LastSync(); !last.IsZero() {
		ch <- prometheus.MustNewConstMetric(descSyncLag, prometheus.GaugeValue, c.m.now().Sub(last).Seconds())
	}
	if configured, up := c.m.IRCConnected(); configured {
		v := 0.0
		if up {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descIRC, prometheus.GaugeValue, v)
	}
}
