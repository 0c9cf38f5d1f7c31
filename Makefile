# Every Go command uses the pure-Go Olm implementation (goolm): no libolm, no cgo.
TAGS := goolm
GO   ?= go

.PHONY: build test sandbox demo bench bench-irc check dendrite interop soak promcheck

build:
	$(GO) build -tags $(TAGS) -o switchboard .

# The homeserver for tests and the sandbox, built once from the pinned tools module.
dendrite:
	@scripts/dendrite.sh >/dev/null

# Element's crypto (matrix-js-sdk) for TestElementInterop, when Node is present.
interop:
	@if command -v node >/dev/null; then cd interop/element && \
		{ [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }; fi

# The whole suite against real servers: a throwaway PostgreSQL cluster and Dendrite
# started by the tests themselves (internal/testenv).
test: dendrite interop promcheck
	$(GO) test -race -tags $(TAGS) -timeout 30m ./...

# The shipped alert rules and Grafana dashboard, parsed by Prometheus's own code
# (tools/promcheck, a module of its own); metrics' TestShippedRulesAndDashboard
# checks the metric names they use.
promcheck:
	cd tools/promcheck && $(GO) run . ../../packaging/prometheus/switchboard-rules.yml ../../packaging/grafana/switchboard-dashboard.json

# The lifecycle invariants over random scenarios for as long as asked (SOAK=1h); a
# failure prints its seed, which SWITCHBOARD_SEED=N replays.
soak:
	SWITCHBOARD_SOAK=$${SOAK:-10m} $(GO) test -tags $(TAGS) -timeout 0 -count=1 -v -run TestLifecycleInvariants ./store/

# A local PostgreSQL, Dendrite and the bot, with demo accounts; prints how to log in.
sandbox: dendrite
	$(GO) run -tags $(TAGS) ./cmd/sandbox

# The sandbox plus a scripted requester walking through a whole intake.
demo: dendrite
	$(GO) run -tags $(TAGS) ./cmd/sandbox -demo

# Latency and memory figures against the echo-bot floor (see docs/benchmarks.md).
bench: dendrite
	$(GO) run -tags $(TAGS) ./cmd/loadtest

# IRC: private message → first reply, against a bare irc-go echo bot (docs/benchmarks.md).
bench-irc: dendrite
	$(GO) run -tags $(TAGS) ./cmd/irclatency

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet -tags $(TAGS) ./...
