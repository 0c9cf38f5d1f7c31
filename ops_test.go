package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/testenv"
)

var listenRe = regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"[^\n]*Metrics and health listener open`)

// opsAddr waits for the bot to say where its metrics listener is.
func opsAddr(t *testing.T, p *proc, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := listenRe.FindStringSubmatch(p.logs.String()); m != nil {
			return m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("the bot exited before opening its listener")
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no metrics listener after %s", timeout)
	return ""
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

type readyz struct {
	Role   string `json:"role"`
	Ready  bool   `json:"ready"`
	Checks []struct {
		Name string `json:"name"`
		OK   bool   `json:"ok"`
	} `json:"checks"`
}

// waitReady polls /readyz until it answers 200 with role, or fails at the deadline.
func waitReady(t *testing.T, addr, role string, timeout time.Duration) readyz {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		code, body := httpGet(t, "http://"+addr+"/readyz")
		var r readyz
		if code == 200 && json.Unmarshal([]byte(body), &r) == nil && r.Ready && r.Role == role {
			return r
		}
		last = fmt.Sprintf("%d %s", code, body)
		time.Sleep(100 * time.Millisecond) // polling a deadline, not a wait for something
	}
	t.Fatalf("/readyz never said ready as %s; last: %s", role, last)
	return readyz{}
}

// samples scrapes /metrics into name{labels} → value (a histogram gives _count and _sum).
func samples(t *testing.T, addr string) (map[string]float64, []*dto.MetricFamily) {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]float64{}
	var list []*dto.MetricFamily
	for name, f := range fams {
		list = append(list, f)
		if !strings.HasPrefix(name, "switchboard_") {
			continue
		}
		for _, m := range f.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count{"+strings.Join(ls, ",")+"}"] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out, list
}

// The operations listener of the real binary: /healthz, /readyz as the leader, and
// /metrics moving through a staff-route intake that is paged and acknowledged. No
// label holds a person, a room or a reference.
func TestMetricsEndToEnd(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	hs := testenv.Homeserver(t)
	botID, password := hs.NewUser(t, "switchboard")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	staff := testenv.NewMatrixUser(t, "staff")
	staffRoom, err := staff.CreateRoom(ctx, "Staff", botID)
	if err != nil {
		t.Fatal(err)
	}
	ntfy := testenv.NewRecorder(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`homeserver: {url: %s}
bot: {user-id: "%s", password: %s}
encryption: {pickle-key: metrics-e2e-pickle-key-0123, data-key: metrics-e2e-data-key-0123456789abcdefghijklmn}
database: {url: "%s"}
service:
  staff-room: "%s"
  staff: ["%s"]
  on-call: {chain: ["%s"]}
pager:
  contacts:
    "%s": {ntfy: "%s/oncall"}
metrics: {listen: "127.0.0.1:0"}
logging: {level: debug, format: json}
`, hs.URL(), botID, password, testenv.NewDB(t), staffRoom, staff.UserID(), staff.UserID(), staff.UserID(), ntfy.URL())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, cfgPath)
	addr := opsAddr(t, p, 60*time.Second)
	if code, body := httpGet(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	r := waitReady(t, addr, "leader", 90*time.Second)
	names := map[string]bool{}
	for _, c := range r.Checks {
		names[c.Name] = c.OK
	}
	if !names["database"] || !names["matrix_sync"] {
		t.Errorf("/readyz checks: %+v", r.Checks)
	}
	before, _ := samples(t, addr)
	if before["switchboard_leader{}"] != 1 {
		t.Errorf("switchboard_leader = %v, want 1", before["switchboard_leader{}"])
	}

	staffRouteRequest(t, ctx, id.UserID(botID), "alice")
	page := ntfy.WaitFor(t, 1, 60*time.Second)[0]
	ref := regexp.MustCompile(`SB-[A-Z0-9]+`).FindString(string(page.Body))
	if ref == "" {
		t.Fatalf("no reference in the page %q", page.Body)
	}
	if _, err := staff.Send(ctx, staffRoom, "!ack "+ref); err != nil {
		t.Fatal(err)
	}
	staff.Expect(t, staffRoom, ref+" is with")

	// The case metrics are read at each scrape; the ack is committed before the
	// reply above was queued, so the next scrape must show it.
	after, fams := samples(t, addr)
	moved := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 && !strings.Contains(k, "seconds{") && !strings.HasPrefix(k, "switchboard_cases{") {
			moved[k] = d
		}
	}
	for key, atLeast := range map[string]float64{
		"switchboard_intakes_total{outcome=started}":            1,
		"switchboard_case_transitions_total{transition=opened}": 1,
		"switchboard_pages_total{outcome=paged}":                1,
		"switchboard_pages_total{outcome=acked}":                1,
		"switchboard_pages_sent_total{channel=ntfy}":            1,
		"switchboard_outbox_sent_total{platform=matrix}":        3,
		"switchboard_outbox_sent_total{platform=pager}":         1,
		"switchboard_page_ack_seconds_count{}":                  1,
	} {
		if moved[key] < atLeast {
			t.Errorf("%s moved by %v, want at least %v", key, moved[key], atLeast)
		}
	}
	if after["switchboard_cases{route=staff,state=accepted}"] != 1 {
		t.Errorf("cases{staff, accepted} = %v, want 1", after["switchboard_cases{route=staff,state=accepted}"])
	}
	if lag, ok := after["switchboard_matrix_sync_lag_seconds{}"]; !ok || lag < 0 || lag > 60 {
		t.Errorf("sync lag %v (present %v)", lag, ok)
	}
	// Nothing that names a person, a room or a case is a label.
	for _, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				v := l.GetValue()
				if strings.ContainsAny(v, "@!#") || strings.Contains(v, ref) || strings.Contains(v, "alice") {
					t.Errorf("%s has label %s=%q", f.GetName(), l.GetName(), v)
				}
			}
		}
	}
	keys := make([]string, 0, len(moved))
	for k := range moved {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("moved: %s +%v", k, moved[k])
	}
}
