package pager

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
)

// webhook posts a PagerDuty Events API v2 "trigger" event. That format is what
// PagerDuty takes and what Opsgenie, Grafana OnCall and others accept as "PagerDuty
// compatible", so an organisation's existing on-call tool can page its staff too.
type webhook struct {
	client     *http.Client
	url        string // may carry a secret in its path, never shown
	routingKey string
}

// pdEvent is the PagerDuty Events v2 body.
type pdEvent struct {
	RoutingKey  string `json:"routing_key,omitempty"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Client      string `json:"client,omitempty"`
	// Payload is for "trigger" only; "acknowledge" and "resolve" name the incident by
	// its dedup key alone.
	Payload *pdPayload `json:"payload,omitempty"`
}

type pdPayload struct {
	Summary  string `json:"summary"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
	Class    string `json:"class"`
	// CustomDetails hold the reference and round only: they show on phones too.
	CustomDetails map[string]any `json:"custom_details"`
}

func (w *webhook) name() string { return "webhook" }

func (w *webhook) followsUp() {}

var _ followUp = (*webhook)(nil)

func (w *webhook) send(ctx context.Context, pg page) error {
	ev := pdEvent{
		RoutingKey:  w.routingKey,
		EventAction: pg.event,
		// One key per case: every round and every staff member paged about it
		// lands in the same incident instead of a new one each time, and the
		// acknowledgement and resolution find it.
		DedupKey: "switchboard-" + pg.ref,
	}
	if pg.event == "trigger" {
		ev.Client = "Switchboard"
		ev.Payload = &pdPayload{
			Summary: pg.body, Source: "switchboard", Severity: "critical", Class: "staff-route",
			CustomDetails: map[string]any{"ref": pg.ref, "round": pg.round},
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return permanent("cannot encode the event")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return permanent("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	return post(w.client, req)
}
