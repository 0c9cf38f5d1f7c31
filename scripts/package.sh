#!/usr/bin/env bash
# Builds the Debian package: a static binary (no cgo; goolm is pure Go) and nfpm
# (pinned in tools/nfpm) with packaging/nfpm.yaml. Prints the .deb's path.
#   scripts/package.sh [OUTDIR]     VERSION=1.2.3 overrides the version.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/dist}
mkdir -p "$out"
cd "$root"

if [[ -z "${VERSION:-}" ]]; then
	# Debian versions start with a digit; ~ sorts a snapshot before the release.
	rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	VERSION="0.1.0~git$(date -u +%Y%m%d%H%M).$rev"
fi
export VERSION
export DIST="$out/build"
mkdir -p "$DIST"

echo "building switchboard $VERSION..." >&2
CGO_ENABLED=0 go build -tags goolm -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "$DIST/switchboard" .

bin="$root/.cache/bin"
sum="$root/tools/nfpm/go.sum"
if [[ ! -x "$bin/nfpm" || "$bin/nfpm" -ot "$sum" ]]; then
	mkdir -p "$bin"
	exec 9>"$root/.cache/nfpm-build.lock"
	flock 9
	if [[ ! -x "$bin/nfpm" || "$bin/nfpm" -ot "$sum" ]]; then
		echo "building nfpm into $bin..." >&2
		(cd "$root/tools/nfpm" && go build -o "$bin/" github.com/goreleaser/nfpm/v2/cmd/nfpm) >&2
		touch "$bin/nfpm"
	fi
	exec 9>&-
fi
deb="$out/switchboard_${VERSION}_amd64.deb"
rm -f "$deb"
# nfpm expands variables in some fields only; the binary's path is put in here.
sed "s|\${DIST}|$DIST|g" packaging/nfpm.yaml >"$DIST/nfpm.yaml"
"$bin/nfpm" package --config "$DIST/nfpm.yaml" --packager deb --target "$deb" >&2
echo "$deb"
