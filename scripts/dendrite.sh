#!/usr/bin/env bash
# Builds the pinned Dendrite homeserver and its tools (tools/dendrite) into
# .cache/bin (or $SWITCHBOARD_DENDRITE_BIN, as for internal/testenv) for the tests
# and the sandbox, and prints that directory.
# Idempotent: the first build takes minutes, later runs return at once unless
# tools/dendrite/go.sum changed. Progress goes to stderr, the path to stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="${SWITCHBOARD_DENDRITE_BIN:-$root/.cache/bin}"
sum="$root/tools/dendrite/go.sum"
tools=(dendrite generate-config generate-keys create-account)

fresh() {
	local t
	for t in "${tools[@]}"; do
		[[ -x "$bin/$t" && ! "$bin/$t" -ot "$sum" ]] || return 1
	done
}

if ! fresh; then
	mkdir -p "$bin"
	bin=$(cd "$bin" && pwd) # go build -o wants it absolute
	# Serialise concurrent callers (a developer's shell and a test run) so the
	# build happens once; the second caller then finds the binaries fresh.
	exec 9>"$bin/../dendrite-build.lock"
	flock 9
	if ! fresh; then
		echo "building Dendrite into $bin (takes a few minutes the first time)..." >&2
		pkgs=()
		for t in "${tools[@]}"; do pkgs+=("github.com/matrix-org/dendrite/cmd/$t"); done
		(cd "$root/tools/dendrite" && go build -o "$bin/" "${pkgs[@]}") >&2
		# go build leaves an up-to-date binary untouched; mark them as checked.
		for t in "${tools[@]}"; do touch "$bin/$t"; done
	fi
	exec 9>&-
fi
echo "$bin"
