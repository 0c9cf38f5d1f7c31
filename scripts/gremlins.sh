#!/usr/bin/env bash
# Builds the pinned Gremlins mutation tester (tools/gremlins) into .cache/bin for
# `make mutate`, and prints that directory. Idempotent: later runs return at once
# unless tools/gremlins/go.sum changed. Progress goes to stderr, the path to stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.cache/bin"
sum="$root/tools/gremlins/go.sum"

fresh() { [[ -x "$bin/gremlins" && ! "$bin/gremlins" -ot "$sum" ]]; }

if ! fresh; then
	mkdir -p "$bin"
	# Serialise concurrent callers (two shells, two worktrees sharing .cache) so
	# the build happens once; the second caller then finds the binary fresh.
	exec 9>"$root/.cache/gremlins-build.lock"
	flock 9
	if ! fresh; then
		echo "building Gremlins into $bin..." >&2
		(cd "$root/tools/gremlins" && go build -o "$bin/" github.com/go-gremlins/gremlins/cmd/gremlins) >&2
		# go build leaves an up-to-date binary untouched; mark it as checked.
		touch "$bin/gremlins"
	fi
	exec 9>&-
fi
echo "$bin"
