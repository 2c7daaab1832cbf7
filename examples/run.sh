#!/bin/sh
# Run the built-in example: the migration of guest1-rhel6-64 from host1.example.com
# to host2.example.com with 12 concurrent migrations, judged on two RHEL-style
# image roots. Prints NOT READY and exits 1.
#
# The first run sets up (scripts/setup.sh: system packages, then .venv); later runs
# only check: the set-up is redone when scripts/setup.sh or pyproject.toml change
# (their hash is kept in .venv/.preflight-setup-stamp) or .venv/bin/preflight is gone.
# Extra arguments go to `preflight check` (e.g. -v, --format json).
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
stamp="$top/.venv/.preflight-setup-stamp"
want=$(cat "$top/scripts/setup.sh" "$top/pyproject.toml" | cksum)
if [ ! -x "$top/.venv/bin/preflight" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
        echo "examples/run.sh: the first run installs system packages: run it as root (sudo is not installed)" >&2
        exit 2
    fi
    echo "examples/run.sh: setting up (scripts/setup.sh; once) ..." >&2
    log=$(mktemp)
    "$top/scripts/setup.sh" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; echo "examples/run.sh: setup failed (above)" >&2; exit 2; }
    rm -f "$log"
    printf '%s\n' "$want" >"$stamp"
fi
set -- check --live guest1-rhel6-64 qemu+ssh://host2.example.com/system --concurrency 12 \
    --source "$top/examples/host1" --source-libvirt "test://$top/examples/host1.xml" \
    --dest "$top/examples/host2" --dest-libvirt "test://$top/examples/host2.xml" "$@"
# Show the command first, quoted so that it can be copied (with .venv/bin on PATH).
quote() {
    case $1 in
        *[!A-Za-z0-9_.:/=+,@%-]* | '') printf " '%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
        *) printf ' %s' "$1" ;;
    esac
}
{ printf '$ preflight'; for word in "$@"; do quote "$word"; done; printf '\n'; } >&2
exec "$top/.venv/bin/preflight" "$@"
