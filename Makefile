# Every Go command uses the pure-Go Olm implementation (goolm): no libolm, no cgo.
TAGS := goolm
GO   ?= go

.PHONY: build test fuzz sandbox demo bench bench-irc bench-scale check dendrite deps sandbox-deps soak simulate mutate promcheck

build:
	$(GO) build -tags $(TAGS) -o switchboard .

# The homeserver for tests and the sandbox, built once from the pinned tools module.
dendrite:
	@scripts/dendrite.sh >/dev/null

# What the tests need (scripts/deps.sh): Debian's packages, installed when run as root
# (otherwise it stops and prints the one apt-get line to run), the pinned Dendrite and
# Mailpit, and Element's crypto (matrix-js-sdk) for TestElementInterop when Node is here.
deps:
	@scripts/deps.sh test

# What the sandbox needs: the same packages and Dendrite.
sandbox-deps:
	@scripts/deps.sh sandbox

# The whole suite against real servers: a throwaway PostgreSQL cluster and Dendrite
# started by the tests themselves (internal/testenv). It runs every fuzz target on its
# seeds too (f.Add and <package>/testdata/fuzz/<target>, where each input a fuzzer
# found stays as a regression), as plain go test does.
test: deps promcheck
	$(GO) test -race -tags $(TAGS) -timeout 30m ./...

# Every fuzz target of the parsers of outside input, one after the other, each for
# FUZZTIME (FUZZFLAGS=-parallel=1 to keep a shared machine usable). A failing input
# is written to the package's testdata/fuzz: commit it with the fix.
FUZZTIME ?= 30s
fuzz:
	@set -e; for f in $$(git ls-files '*_test.go' | xargs grep -l '^func Fuzz'); do \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "==> $$(dirname $$f) $$t"; \
			$(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./$$(dirname $$f); \
		done; \
	done

# The shipped alert rules and Grafana dashboard, parsed by Prometheus's own code
# (tools/promcheck, a module of its own); metrics' TestShippedRulesAndDashboard
# checks the metric names they use.
promcheck:
	cd tools/promcheck && $(GO) run . ../../packaging/prometheus/switchboard-rules.yml ../../packaging/grafana/switchboard-dashboard.json

# The lifecycle invariants over random scenarios for as long as asked (SOAK=1h); a
# failure prints its seed, which SWITCHBOARD_SEED=N replays.
soak:
	SWITCHBOARD_SOAK=$${SOAK:-10m} $(GO) test -tags $(TAGS) -timeout 0 -count=1 -v -run TestLifecycleInvariants ./store/

# A local PostgreSQL, Dendrite, IRC network and the bot, with a staff member, a
# volunteer, a trainee and their rooms seeded; prints how to log in and what to type.
sandbox: sandbox-deps
	$(GO) run -tags $(TAGS) ./cmd/sandbox

# The whole journey played and printed: both sides of every room (docs/demo.md).
demo: sandbox-deps
	$(GO) run -tags $(TAGS) ./cmd/sandbox -demo

# Latency and memory figures against the echo-bot floor (see docs/benchmarks.md).
bench: dendrite
	$(GO) run -tags $(TAGS) ./cmd/loadtest

# IRC: private message → first reply, against a bare irc-go echo bot (docs/benchmarks.md).
bench-irc: dendrite
	$(GO) run -tags $(TAGS) ./cmd/irclatency

# The core and the store at scale: 2,000 volunteers, 100,000 closed cases and 100, 1,000
# and 10,000 open ones in a throwaway PostgreSQL; routing, !queue, !coverage, !stats,
# memory and the database's size per closed case (docs/benchmarks.md, "Scale").
bench-scale:
	$(GO) run -tags $(TAGS) ./cmd/benchscale

# The real core over a simulated week on a throwaway PostgreSQL (docs/simulation.md):
# the report on stdout, with JSON and a PNG in sim-out/. SCENARIO=sim/scenarios/flood.yaml
# for another scenario; SCENARIO=sim/scenarios/seed-21.yaml SIMFLAGS="--volunteers 14:49:7" for a sweep.
simulate:
	@mkdir -p sim-out
	$(GO) run -tags $(TAGS) . simulate --scenario $${SCENARIO:-sim/scenarios/wikimedia-week.yaml} \
		--json sim-out/report.json --png sim-out/report.png $(SIMFLAGS)

# Mutation testing of the core (bot/ and store/) against its unit and PostgreSQL tests,
# with Gremlins pinned in tools/gremlins. Takes hours; not part of CI. See docs/testing.md.
# Flags for `gremlins unleash`: make mutate MUTATE_FLAGS=--dry-run
# Some files only: MUTATE_FILES="bot/routing.go store/routing.go" make mutate
mutate:
	@scripts/mutate.sh $(MUTATE_FLAGS)

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet -tags $(TAGS) ./...
