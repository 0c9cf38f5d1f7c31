#!/usr/bin/env bash
# Shows that `make test` installs what it misses on a fresh machine: it removes
# Debian's inspircd and atheme-services (the IRC network every IRC test starts),
# checks that as a non-root user the first step of `make test` stops at once with
# the one apt-get line to run, then runs that step (`make deps`) as root and checks
# that both packages are back. With --full it runs the whole `make test` instead of
# `make deps`. Run as root on Debian. The packages are put back however it ends.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
full=false
[[ ${1:-} == --full ]] && full=true
((EUID == 0)) || {
	echo "run as root: it removes and reinstalls Debian packages" >&2
	exit 2
}
pkgs=(inspircd atheme-services)

installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
runnable() { [[ -x /usr/sbin/inspircd && -x /usr/bin/atheme-services ]] || command -v inspircd atheme-services >/dev/null; }
restore() {
	local p missing=()
	for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
	if ((${#missing[@]})); then
		echo "==> putting back ${missing[*]}" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	fi
}
trap restore EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

echo "==> apt-get remove ${pkgs[*]}"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "${pkgs[@]}" >/dev/null
for p in "${pkgs[@]}"; do
	! installed "$p" || fail "$p is still installed"
done
! command -v inspircd >/dev/null && [[ ! -e /usr/sbin/inspircd ]] || fail "inspircd is still there"
echo "    removed: inspircd and atheme-services are gone"

echo "==> make deps as a user who is not root (nobody)"
start=$EPOCHSECONDS
if out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH="$PATH" HOME=/tmp make --no-print-directory deps 2>&1); then
	fail "it went on without the packages: $out"
fi
sed 's/^/    | /' <<<"$out"
grep -q "sudo apt-get install --no-install-recommends inspircd atheme-services" <<<"$out" ||
	fail "no apt-get line naming both packages"
((EPOCHSECONDS - start <= 10)) || fail "it took $((EPOCHSECONDS - start)) s to stop"
! installed inspircd || fail "a non-root run installed something"
echo "    stopped at once with the apt-get line"

target=deps
$full && target=test
echo "==> make $target as root"
start=${EPOCHREALTIME/[.,]/}
make --no-print-directory "$target"
us=$((${EPOCHREALTIME/[.,]/} - start))
for p in "${pkgs[@]}"; do
	installed "$p" || fail "$p was not installed"
done
runnable || fail "inspircd or atheme-services is installed but not runnable"
printf '    make %s took %d.%01d s; installed again: %s\n' "$target" $((us / 1000000)) $((us % 1000000 / 100000)) \
	"$(dpkg-query -W -f='${Package} ${Version}  ' "${pkgs[@]}")"
echo "OK"
