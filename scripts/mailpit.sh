#!/usr/bin/env bash
# Builds the pinned Mailpit SMTP server (tools/mailpit) into .cache/bin (or
# $SWITCHBOARD_MAILPIT_BIN, as for internal/testenv) for the pager's tests, and prints that directory. Idempotent: later runs return at once
# unless tools/mailpit/go.sum changed. Progress goes to stderr, the path to stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${SWITCHBOARD_MAILPIT_BIN:-$root/.cache/bin}"
sum="$root/tools/mailpit/go.sum"

fresh() { [[ -x "$bin/mailpit" && ! "$bin/mailpit" -ot "$sum" ]]; }

if ! fresh; then
	mkdir -p "$bin"
	bin=$(cd "$bin" && pwd) # go build -o wants it absolute
	# Serialise concurrent callers (a developer's shell and a test run) so the
	# build happens once; the second caller then finds the binary fresh.
	exec 9>"$bin/../mailpit-build.lock"
	flock 9
	if ! fresh; then
		echo "building Mailpit into $bin..." >&2
		(cd "$root/tools/mailpit" && go build -o "$bin/" github.com/axllent/mailpit) >&2
		# go build leaves an up-to-date binary untouched; mark it as checked.
		touch "$bin/mailpit"
	fi
	exec 9>&-
fi
echo "$bin"
