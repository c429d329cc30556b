#!/usr/bin/env bash
# Prints the wall time of `bounceprobe dnsbl` for N IPs on the four IP zones of
# the default lists (Spamhaus ZEN, SpamCop, Senderscore, the provider's
# aggregate), against rbldnsd in the lab.
#   bench/dnsbl_lab.sh [BUILD_DIR] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-1000}
[ "$(id -u)" = 0 ] || { echo "dnsbl_lab: needs root (lab namespace)" >&2; exit 1; }
state=$(mktemp -d /tmp/bounceprobe-bench.XXXXXX)
trap './tests/lab/lab.sh stop "$state" >/dev/null; rm -rf "$state"' EXIT
./tests/lab/lab.sh start "$state" "$build/tests/mute_server" >/dev/null
ips=()
for i in $(seq 0 $((n - 1))); do ips+=("203.0.$(( 113 + i / 250 % 100 )).$(( i % 250 + 1 ))"); done
for run in 1 2 3; do
  t0=$(date +%s%N)
  out=$(./tests/lab/lab.sh exec "$state" "$build/cli/bounceprobe" dnsbl --json --dnsbl-resolver 192.0.2.54 "${ips[@]}" || true)
  t1=$(date +%s%N)
  listed=$(echo "$out" | grep -c '"state": "listed"' || true)
  queries=$(echo "$out" | grep -o '"sent": [0-9]*' | grep -o '[0-9]*$')
  echo "run $run: $n IPs x 4 zones: $(( (t1 - t0) / 1000000 )) ms wall, $queries DNS queries, $listed listings"
done
