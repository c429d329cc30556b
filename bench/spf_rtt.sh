#!/usr/bin/env bash
# Prints how many DNS round trips `bounceprobe spf` needs for a record with
# three independent includes, against a zone server that delays every answer
# by DELAY ms on loopback. Sequential fetching would need 1 + 3 rounds (plus
# one per include's own lookups); fetching the includes in parallel needs 2.
#   bench/spf_rtt.sh [BUILD_DIR] [DELAY_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
delay=${2:-100}
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat > "$tmp/zone.json" <<JSON
{
  "example.com": [ {"type": "TXT", "data": ["v=spf1 include:a.example.net include:b.example.net include:c.example.net -all"]} ],
  "a.example.net": [ {"type": "TXT", "data": ["v=spf1 ip4:198.51.100.0/24 -all"]} ],
  "b.example.net": [ {"type": "TXT", "data": ["v=spf1 ip4:198.51.101.0/24 -all"]} ],
  "c.example.net": [ {"type": "TXT", "data": ["v=spf1 ip4:203.0.113.0/24 -all"]} ]
}
JSON
port=$(( 20000 + RANDOM % 20000 ))
"$build/tests/zone_server" 127.0.0.1 "$port" "$tmp/zone.json" "$delay" > "$tmp/server.out" &
server=$!
for _ in $(seq 1 50); do grep -q ready "$tmp/server.out" 2>/dev/null && break; sleep 0.05; done
run() {
  "$build/cli/bounceprobe" spf --json --resolver "127.0.0.1:$port" --ip 203.0.113.9 --sender alice@example.com
}
out=$(run || true)
ms=$(echo "$out" | grep -o '"elapsed_ms": [0-9]*' | grep -o '[0-9]*$')
result=$(echo "$out" | grep -o '"result": "[a-z]*"' | head -1)
lookups=$(echo "$out" | grep -o '"lookups": [0-9]*' | grep -o '[0-9]*$')
echo "spf with 3 independent includes, ${delay} ms per DNS answer: ${result#\"result\": }, ${lookups} DNS-querying terms"
awk -v ms="$ms" -v d="$delay" 'BEGIN { printf "wall time %d ms = %.1f round trips (sequential fetching would take 4)\n", ms, ms / d }'
