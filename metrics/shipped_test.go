package metrics

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"switchboard/store"
)

// everyFamily gathers a registry where every collector reports, and returns the
// names a PromQL expression may use (a histogram's _bucket, _sum and _count too).
func everyFamily(t *testing.T) map[string]bool {
	t.Helper()
	m := New("test")
	m.SetSource(func(context.Context) (store.Snapshot, error) {
		return store.Snapshot{FirstReply: map[string]store.Histogram{}}, nil
	}, func() bool { return true })
	m.Synced()
	m.SetIRC(func() bool { return true })
	m.PhoneAck("ntfy", "acked")
	m.Reloaded(true)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		n := f.GetName()
		names[n] = true
		if f.GetType().String() == "HISTOGRAM" {
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	return names
}

var metricRef = regexp.MustCompile(`\bswitchboard_[a-z_]+`)

// checkExpr fails on an expression that names a metric Switchboard does not export
// (a rename that left the rules or dashboard behind) or whose brackets do not pair.
func checkExpr(t *testing.T, where, expr string, known map[string]bool, used map[string]bool) {
	t.Helper()
	refs := metricRef.FindAllString(expr, -1)
	if len(refs) == 0 {
		t.Errorf("%s: %q uses no switchboard metric", where, expr)
	}
	for _, r := range refs {
		if !known[r] {
			t.Errorf("%s: %q names %s, which Switchboard does not export", where, expr, r)
		}
		used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(r, "_bucket"), "_sum"), "_count")] = true
	}
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := false
	for _, c := range expr {
		switch {
		case c == '"':
			inString = !inString
		case inString:
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
		case pairs[c] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				t.Errorf("%s: %q: unbalanced %c", where, expr, c)
				return
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 || inString {
		t.Errorf("%s: %q: unclosed brackets or string", where, expr)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// The shipped alert rules and dashboard use only metrics that exist, and together
// cover every metric Switchboard exports. The PromQL itself is parsed by
// Prometheus's own parser in tools/promcheck (make test runs it).
func TestShippedRulesAndDashboard(t *testing.T) {
	known := everyFamily(t)
	used := map[string]bool{}

	raw, err := os.ReadFile("../packaging/prometheus/switchboard-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("rules: %v", err)
	}
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			where := "rule " + r.Alert
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("%s: a rule needs alert and expr", where)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", where, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", where, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", where)
			}
			checkExpr(t, where, r.Expr, known, used)
		}
	}
	// What the issue asks to be alerted on.
	for _, want := range []string{"SwitchboardQueueWaitOverLimit", "SwitchboardPageNotAcknowledged",
		"SwitchboardOutboxFailing", "SwitchboardNoLeader"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no %s rule", want)
		}
	}

	raw, err = os.ReadFile("../packaging/grafana/switchboard-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			ID      int                      `json:"id"`
			Title   string                   `json:"title"`
			Type    string                   `json:"type"`
			GridPos struct{ H, W, X, Y int } `json:"gridPos"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without title, uid or panels")
	}
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		where := "panel " + p.Title
		if ids[p.ID] {
			t.Errorf("%s: id %d used twice", where, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W < 1 || p.GridPos.H < 1 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: bad gridPos %+v", where, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, q := range p.Targets {
			checkExpr(t, where, q.Expr, known, used)
		}
	}
	for name := range known {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if strings.HasPrefix(name, "switchboard_") && !used[base] &&
			base != "switchboard_build_info" && base != "switchboard_metrics_database_up" {
			t.Errorf("%s is neither on the dashboard nor in an alert", base)
		}
	}
}
