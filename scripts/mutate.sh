#!/usr/bin/env bash
# Mutation testing of the core, bot/ and store/, with Gremlins (`make mutate`; see
# docs/testing.md). Every mutant faces the tests of both packages that execute its
# line: the bot's unit tests and the store tests, which drive the core over a real
# PostgreSQL and are what exercise most of bot/. Takes hours; not part of CI.
#
# Extra arguments go to `gremlins unleash`, e.g. `--dry-run`, `--invert-logical`,
# or `-E '^bot/'` to leave files out. MUTATE_FILES="bot/relay.go store/routing.go"
# mutates only those files (still against every test that reaches them): the
# whole core takes hours, a few files minutes. The JSON report and the log go
# to $MUTATE_OUT (default .cache/mutate).
#
# Mapping which tests reach which lines runs every test of the core alone, in a
# process of its own: minutes. MUTATE_MAP=file keeps the map in that file and the
# next run maps only the tests the file does not name yet (tests just added).
# Reuse it only while the core's code and its existing tests are unchanged.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$("$root/scripts/gremlins.sh")
out=${MUTATE_OUT:-$root/.cache/mutate}
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-mutate-XXXXXX")
trap '[[ -n ${MUTATE_KEEP:-} ]] || rm -rf "$tmp"' EXIT
snap=$tmp/src
map=${MUTATE_MAP:-$tmp/tests.map}
mkdir "$snap"

# Gremlins mutates a copy of the tree it is given, and scans and copies all of it,
# so it gets a snapshot of the tracked and new files: not .git, not .cache's
# binaries, and not edits made while it runs.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$root" && tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null) |
	tar -xf - -C "$snap"

dirs=(bot store)
coverpkg=$(printf 'switchboard/%s,' "${dirs[@]}")
coverpkg=${coverpkg%,}

dry=
for a in "$@"; do [[ $a == -d || $a == --dry-run ]] && dry=1; done

# Which top-level tests execute which lines, one test at a time, for the go
# wrapper (scripts/mutate-go/go) to give each mutant only the tests that reach it.
# Lines of the map: file first-line last-line package test. A dry run runs no
# mutant, so it needs no map.
touch "$map"
[[ -n $dry ]] || echo "mapping which tests reach which lines..." >&2
for d in "${dirs[@]}"; do
	[[ -n $dry ]] && break
	(cd "$snap" && go test -c -tags goolm -cover -coverpkg "$coverpkg" -o "$tmp/$d.test" "./$d/")
	for t in $(cd "$snap/$d" && "$tmp/$d.test" -test.list '^(Test|Example|Fuzz)' 2>/dev/null | grep -E '^(Test|Example|Fuzz)'); do
		grep -q " $d $t\$" "$map" && continue # mapped by an earlier run (MUTATE_MAP)
		if ! (cd "$snap/$d" && "$tmp/$d.test" -test.run "^$t\$" -test.count=1 \
			-test.coverprofile "$tmp/cover.out" >"$tmp/test.log" 2>&1); then
			cat "$tmp/test.log" >&2
			echo "$d: $t fails on the unmutated tree; fix that first" >&2
			exit 1
		fi
		awk -v d="$d" -v t="$t" 'NR > 1 && $NF > 0 {
			split($1, a, ":"); split(a[2], r, ","); split(r[1], s, "."); split(r[2], e, ".")
			f = a[1]; sub(/^switchboard\//, "", f)
			print f, s[1], e[1], d, t
		}' "$tmp/cover.out" >>"$map"
	done
done
sort -u -o "$map" "$map"

# Only the core's files are mutated: everything at the top level but the core's
# directories is excluded (Gremlins splits flag values on commas, so no commas).
others=$(cd "$snap" && find . -mindepth 1 -maxdepth 1 -type d $(printf '! -name %s ' "${dirs[@]}") -printf '%P|')
exclude=(-E '^[^/]+$' -E "^(${others%|})/")
if [[ -n ${MUTATE_FILES:-} ]]; then
	read -ra keep <<<"$MUTATE_FILES"
	for f in "${keep[@]}"; do
		[[ -f $snap/$f ]] || { echo "MUTATE_FILES: no such file: $f" >&2; exit 1; }
	done
	for f in $(cd "$snap" && for d in "${dirs[@]}"; do ls "$d"/*.go; done | grep -v '_test\.go$'); do
		[[ " ${keep[*]} " == *" $f "* ]] || exclude+=(-E "^${f//./\\.}\$")
	done
fi

export SWITCHBOARD_GO SWITCHBOARD_MUTATE_DIRS="${dirs[*]}" SWITCHBOARD_MUTATE_SRC="$snap" SWITCHBOARD_MUTATE_MAP="$map"
export SWITCHBOARD_MUTATE_LAST=TestLifecycleInvariants
SWITCHBOARD_GO=$(command -v go)
export PATH="$root/scripts/mutate-go:$PATH"

echo "mutating bot/ and store/ in $snap; report: $out/$stamp.json" >&2
# --integration: each mutant faces the tests of every core package, not only its
# own package's, and --coverpkg counts bot/ lines that only store's tests reach as
# covered. One worker: two PostgreSQL suites at once on a shared 2-core machine
# would make the timings, and so the timeouts, meaningless. The timeout is twice
# the coverage run of both whole packages, while a mutant runs only the tests that
# reach it: generous on a loaded machine, and a mutant that hangs costs minutes.
"$bin/gremlins" unleash "$snap" \
	--integration \
	--tags goolm \
	--coverpkg "$coverpkg" \
	--workers 1 \
	--timeout-coefficient 2 \
	"${exclude[@]}" \
	--output "$out/$stamp.json" \
	"$@" 2>&1 | tee "$out/$stamp.log"
