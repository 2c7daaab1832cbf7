#!/bin/sh
# Set up, then run the built-in example: the seed's migration of guest1-rhel6-64
# from host1.example.com to host2.example.com with 12 concurrent migrations,
# judged on two RHEL-style image roots. Prints NOT READY and exits 1.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
log=$(mktemp)
"$top/scripts/setup.sh" >"$log" 2>&1 || { cat "$log" >&2; echo "examples/run.sh: setup failed (above)" >&2; exit 2; }
rm -f "$log"
exec "$top/.venv/bin/preflight" check --live guest1-rhel6-64 qemu+ssh://host2.example.com/system \
    --concurrency 12 \
    --source "$top/examples/host1" --source-libvirt "test://$top/examples/host1.xml" \
    --dest "$top/examples/host2" --dest-libvirt "test://$top/examples/host2.xml" "$@"
