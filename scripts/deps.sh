#!/usr/bin/env bash
# What `make test` and `make sandbox` need, installed or built when missing, so that
# either is the only command a fresh Debian machine needs:
#   1. Debian packages. As root they are installed with apt-get; otherwise the
#      script stops at once and prints the one apt-get line to run.
#   2. The pinned Dendrite (scripts/dendrite.sh), and for the tests Mailpit
#      (scripts/mailpit.sh) and Element's crypto for TestElementInterop (npm ci).
# Usage: scripts/deps.sh test|sandbox. Later runs take a second: each step checks
# first and does nothing when all is there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-test}
case $what in
test | sandbox) ;;
*)
	echo "usage: $0 test|sandbox" >&2
	exit 2
	;;
esac

command -v go >/dev/null || {
	echo "deps: Go is not on PATH; install Go 1.26 from https://go.dev/dl/ (Debian's golang is too old)" >&2
	exit 1
}

missing=()
if ! command -v initdb >/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	missing+=(postgresql)
fi
command -v make >/dev/null || missing+=(make)
# Dendrite's SQLite driver needs cgo.
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
command -v flock >/dev/null || missing+=(util-linux)
# Builds and tests use goolm; libolm's headers let a plain `go vet ./...` or `go build`
# without the tag compile too, so a newcomer's first command does not fail.
[[ -f /usr/include/olm/olm.h ]] || missing+=(libolm-dev)
# The IRC network of the IRC tests and the sandbox: InspIRCd linked to Atheme services.
command -v inspircd >/dev/null || [[ -x /usr/sbin/inspircd ]] || missing+=(inspircd)
command -v atheme-services >/dev/null || [[ -x /usr/sbin/atheme-services ]] || missing+=(atheme-services)
# TestDebianPackage verifies the packaged unit with systemd-analyze (the package is
# installed with dpkg and its binary run with setpriv, both always present).
[[ $what != test ]] || command -v systemd-analyze >/dev/null || missing+=(systemd)
if ((${#missing[@]})); then
	if ((EUID != 0)); then
		echo "deps: missing Debian packages; run this, then the same make command again:" >&2
		echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

scripts/dendrite.sh >/dev/null
[[ $what == test ]] || exit 0

# The SMTP server of the pager tests.
scripts/mailpit.sh >/dev/null

# TestElementInterop drives matrix-js-sdk's Rust crypto (Element's) from Node 20.
# Debian's own nodejs is 18, which matrix-js-sdk 37 does not support, so Node is not
# installed here; without it that one test is skipped loudly (and fails in CI).
# npm ci runs again when package-lock.json changed: a stamp keeps its hash, since a
# fresh checkout's file times say nothing. A linked node_modules belongs to another
# checkout (a git worktree sharing it) and is left alone.
modules=interop/element/node_modules
if command -v node >/dev/null; then
	want=$(sha256sum interop/element/package-lock.json | cut -d' ' -f1)
	if [[ ! -L $modules && $(cat "$modules/.switchboard-lock" 2>/dev/null) != "$want" ]]; then
		echo "deps: installing Element's crypto for TestElementInterop (npm ci)" >&2
		(cd interop/element && npm ci --no-audit --no-fund --loglevel=error) >&2
		echo "$want" >"$modules/.switchboard-lock"
	fi
elif [[ -n ${CI:-} ]]; then
	echo "deps: node >= 20 is required for TestElementInterop" >&2
	exit 1
else
	echo "deps: node not found, so TestElementInterop will be skipped; install Node.js 20 or newer" >&2
fi
