# Every Go command uses the pure-Go Olm implementation (goolm): no libolm, no cgo.
TAGS := goolm
GO   ?= go

.PHONY: build test sandbox demo bench bench-irc check dendrite deps sandbox-deps soak

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
# started by the tests themselves (internal/testenv).
test: deps
	$(GO) test -race -tags $(TAGS) -timeout 30m ./...

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

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet -tags $(TAGS) ./...
