// Command promcheck checks Switchboard's shipped Prometheus rules and Grafana
// dashboard with Prometheus's own code, as promtool would: the rule file through
// rulefmt (YAML shape, durations, templates and every expression), and each
// dashboard query through the PromQL parser. It is a module of its own so that
// Prometheus's dependencies stay out of the bot's go.mod; make test runs it.
//
//	go run . RULES.yml DASHBOARD.json
package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: promcheck RULES.yml DASHBOARD.json")
		os.Exit(2)
	}
	bad := 0
	pp := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile(os.Args[1], false, model.UTF8Validation, pp, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "rules:", err)
		bad++
	}
	rules := 0
	if groups != nil {
		for _, g := range groups.Groups {
			rules += len(g.Rules)
		}
	}
	raw, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
	queries := 0
	for _, p := range dash.Panels {
		for _, t := range p.Targets {
			queries++
			if _, err := pp.ParseExpr(t.Expr); err != nil {
				fmt.Fprintf(os.Stderr, "dashboard panel %q: %s: %v\n", p.Title, t.Expr, err)
				bad++
			}
		}
	}
	if bad > 0 || rules == 0 || queries == 0 {
		fmt.Fprintf(os.Stderr, "promcheck: %d problems (%d rules, %d queries)\n", bad, rules, queries)
		os.Exit(1)
	}
	fmt.Printf("promcheck: %d rules and %d dashboard queries parse\n", rules, queries)
}
