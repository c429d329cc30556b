#!/usr/bin/env bash
# The fleet benchmark: `bounceprobe check --no-smtp` over N synthetic domains
# (gen_zones.py) served by Knot DNS in a private network namespace, against a
# plain c-ares loop over the same lookups (ares_graph) in the same minute.
# Runs alternate (bounceprobe, baseline, bounceprobe, ...) because this machine
# is shared and noisy: the ratios of interleaved runs are the figures that count.
#   bench/fleet/run.sh [BUILD_DIR] [N...]        (default: build 10000)
# Prints per run: wall, domains/s, CPU ms per domain, peak RSS; then the medians
# and the ratios bounceprobe / baseline. Needs root (network namespace).
# BP_BENCH_LATENCY=1: also time single-domain checks through delay_proxy.py
# (25 ms each way, so one lookup costs 50 ms) and print the rounds they took.
# BP_BENCH_PERF=FILE: after the runs, record one more bounceprobe run with
# `perf record -g` into FILE (read it with `perf report -i FILE`); BP_BENCH_PERF_CALLGRAPH=dwarf
# records call graphs through DWARF (the build has no frame pointers).
# BP_BENCH_SYSCALLS=1: also count the system calls of one run of each (strace -c).
# BP_BENCH_VARIANT=BUILD_DIR: also run that build's bounceprobe in every round (a
# compiler flag or code change measured against this one, interleaved), with its ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000)
runs=${BP_BENCH_RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "fleet: needs root (network namespace)" >&2; exit 1; }
command -v knotd >/dev/null || { echo "fleet: knotd not found: run scripts/setup" >&2; exit 1; }
for b in "$build/cli/bounceprobe" "$build/bench/ares_graph"; do
  [ -x "$b" ] || { echo "fleet: $b not built: run scripts/build $build" >&2; exit 1; }
done

state=$(mktemp -d /tmp/bounceprobe-fleet.XXXXXX)
ns="bpfleet-$$"
cleanup() {
  [ -f "$state/knot.pid" ] && kill "$(cat "$state/knot.pid")" 2>/dev/null || true
  sleep 0.2
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$state" "/etc/netns/$ns"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 192.0.2.53/32 dev lo

serve() {  # N: generate the zones and (re)start Knot on them
  local n=$1
  [ -f "$state/knot.pid" ] && { kill "$(cat "$state/knot.pid")" 2>/dev/null || true; sleep 0.5; }
  rm -rf "$state/zones" "$state/db" "$state/run"
  mkdir -p "$state/zones" "$state/db" "$state/run"
  python3 bench/fleet/gen_zones.py "$state/zones" "$n"
  cat > "$state/knot.conf" <<CONF
server:
    rundir: "$state/run"
    listen: 192.0.2.53@53
    udp-workers: 2
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$state/db"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "$state/zones"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
    semantic-checks: off
zone:
$(cat "$state/zones/knot.zones")
CONF
  ip netns exec "$ns" knotd -c "$state/knot.conf" > "$state/knot.log" 2>&1 &
  echo $! > "$state/knot.pid"
  for _ in $(seq 1 100); do
    ip netns exec "$ns" kdig +short +time=1 @192.0.2.53 d0.fleet.example MX 2>/dev/null | grep -q mx1 && return 0
    sleep 0.1
  done
  echo "fleet: Knot did not come up" >&2; tail -5 "$state/knot.log" >&2; exit 1
}

measure() {  # LABEL N CMD...: one run; prints "wall user sys maxrss_kb voluntary_switches involuntary_switches"
  local label=$1 n=$2; shift 2
  /usr/bin/time -o "$state/time.$label" -f "%e %U %S %M %w %c" ip netns exec "$ns" "$@" > "$state/out.$label" 2> "$state/err.$label" || {
    echo "fleet: $label failed:" >&2; tail -3 "$state/err.$label" >&2; }
  tail -1 "$state/time.$label"
}

latency() {  # single-domain checks over a 50 ms round trip: wall / 50 ms = rounds on the critical path
  ip -n "$ns" addr add 192.0.2.60/32 dev lo 2>/dev/null || true
  ip netns exec "$ns" python3 bench/fleet/delay_proxy.py 192.0.2.60 53 192.0.2.53 53 25 > "$state/proxy.log" 2>&1 &
  local proxy=$!
  sleep 1
  # Process start-up, measured without the proxy, is subtracted.
  local t0 t1 base=0
  for d in d1 d2 d3 d4 d5 d6; do
    t0=$(date +%s%N)
    ip netns exec "$ns" "$build/cli/bounceprobe" check --no-smtp --json --resolver 192.0.2.53 --routable 198.18.0.0/15 \
      --routable 2001:db8::/32 "$d.fleet.example" > /dev/null || true
    t1=$(date +%s%N)
    base=$(( base + (t1 - t0) / 6 ))
  done
  for d in d1 d2 d3 d4 d5 d6; do
    t0=$(date +%s%N)
    ip netns exec "$ns" "$build/cli/bounceprobe" check --no-smtp --json --resolver 192.0.2.60 --routable 198.18.0.0/15 \
      --routable 2001:db8::/32 "$d.fleet.example" > /dev/null || true
    t1=$(date +%s%N)
    awk -v d="$d" -v t="$(( t1 - t0 ))" -v b="$base" 'BEGIN {
      printf "  latency %s.fleet.example: %.0f ms at 50 ms RTT (%.0f ms start-up and CPU without delay): %.1f rounds\n", d, t / 1e6, b / 1e6, (t - b) / 5e7 }'
  done
  kill "$proxy" 2>/dev/null || true
}

for n in "${sizes[@]}"; do
  serve "$n"
  [ "${BP_BENCH_LATENCY:-0}" = 1 ] && latency
  domains="$state/zones/domains.txt"
  # --no-dkim, --no-delegation, --no-dnssec: the plain loop asks no DKIM keys, name
  # servers or DNSSEC records either, so both answer the same questions.
  bp_cmd=("$build/cli/bounceprobe" check --no-smtp --no-dkim --no-delegation --no-dnssec --format jsonl -q --input "$domains" --resolver 192.0.2.53
          --routable 198.18.0.0/15 --routable 2001:db8::/32)
  # Window 10: about 190 questions in flight on its one socket; past ~250 Knot drops answers.
  base_cmd=("$build/bench/ares_graph" 192.0.2.53 "$domains" 10)
  variant="${BP_BENCH_VARIANT:-}"
  var_cmd=("$variant/cli/bounceprobe" "${bp_cmd[@]:1}")
  : > "$state/var.txt"
  echo "fleet: $n domains, $runs interleaved runs each"
  : > "$state/bp.txt"; : > "$state/base.txt"
  for r in $(seq 1 "$runs"); do
    bp=$(measure bp "$n" "${bp_cmd[@]}")
    base=$(measure base "$n" "${base_cmd[@]}")
    if [ -n "$variant" ]; then
      var=$(measure var "$n" "${var_cmd[@]}")
      cut -d' ' -f1-4 <<< "$var" >> "$state/var.txt"
      read -r vw vu vs vm _ <<< "$var"
      awk -v n="$n" -v w="$vw" -v u="$vu" -v s="$vs" -v m="$vm" -v r="$r" -v v="$variant" 'BEGIN {
        printf "  run %d  variant %s: %6.2f s %7.0f domains/s %6.3f ms CPU/domain %6.1f MB peak\n", r, v, w, n / w, (u + s) * 1000 / n, m / 1024 }'
    fi
    cut -d' ' -f1-4 <<< "$bp" >> "$state/bp.txt"; cut -d' ' -f1-4 <<< "$base" >> "$state/base.txt"
    lines=$(wc -l < "$state/out.bp")
    bytes=$(wc -c < "$state/out.bp")
    timeouts=$(grep -c '"timeout' "$state/out.bp" || true)
    read -r w u s m vcs ics <<< "$bp"
    read -r bw bu bs bm bvcs bics <<< "$base"
    awk -v n="$n" -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v bw="$bw" -v bu="$bu" -v bs="$bs" -v bm="$bm" -v r="$r" \
        -v lines="$lines" -v bytes="$bytes" -v to="$timeouts" \
        -v vcs="$vcs" -v ics="$ics" -v bvcs="$bvcs" -v bics="$bics" 'BEGIN {
      printf "  run %d  bounceprobe: %6.2f s %7.0f domains/s %6.3f ms CPU/domain %6.1f MB peak (%d lines of %.1f kB, %d with a timeout)\n",
             r, w, n / w, (u + s) * 1000 / n, m / 1024, lines, bytes / lines / 1000, to
      printf "%33s context switches per domain: %.2f waiting, %.2f preempted\n", "", vcs / n, ics / n
      printf "         c-ares loop: %6.2f s %7.0f domains/s %6.3f ms CPU/domain %6.1f MB peak\n", bw, n / bw, (bu + bs) * 1000 / n, bm / 1024
      printf "%33s context switches per domain: %.2f waiting, %.2f preempted\n", "", bvcs / n, bics / n }'
  done
  paste "$state/bp.txt" "$state/base.txt" | awk -v n="$n" '
    { w[NR] = $1; c[NR] = $2 + $3; m[NR] = $4; bw[NR] = $5; bc[NR] = $6 + $7; rw[NR] = $1 / $5; rc[NR] = ($2 + $3) / ($6 + $7) }
    function median(a, k,   i, j, t, b) { for (i = 1; i <= k; i++) b[i] = a[i]; for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t } return b[int((k + 1) / 2)] }
    END {
      printf "  median  bounceprobe %.0f domains/s, %.3f ms CPU/domain, %.1f MB peak RSS; c-ares loop %.0f domains/s, %.3f ms CPU/domain\n",
             n / median(w, NR), median(c, NR) * 1000 / n, median(m, NR) / 1024, n / median(bw, NR), median(bc, NR) * 1000 / n
      printf "  ratio bounceprobe / c-ares loop (median of interleaved pairs): wall %.2f, CPU %.2f\n", median(rw, NR), median(rc, NR) }'
  if [ -n "$variant" ]; then
    paste "$state/bp.txt" "$state/var.txt" | awk -v n="$n" '
      { rc[NR] = ($6 + $7) / ($2 + $3); rw[NR] = $5 / $1 }
      function median(a, k,   i, j, t, b) { for (i = 1; i <= k; i++) b[i] = a[i]; for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t } return b[int((k + 1) / 2)] }
      END { printf "  ratio variant / bounceprobe (median of interleaved pairs): wall %.3f, CPU %.3f\n", median(rw, NR), median(rc, NR) }'
  fi
  if [ "${BP_BENCH_SYSCALLS:-0}" = 1 ]; then  # the system calls each makes, counted once (strace -c)
    for c in bp base; do
      if [ $c = bp ]; then cmd=("${bp_cmd[@]}"); else cmd=("${base_cmd[@]}"); fi
      ip netns exec "$ns" strace -c -f -o "$state/strace.$c" "${cmd[@]}" > /dev/null 2>&1 || true
      echo "  system calls, $c:"; awk 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ && $4 > 1000 { printf "    %-16s %8d (%.1f per domain)\n", $NF, $4, $4 / n }' n="$n" "$state/strace.$c"
    done
  fi
  if [ -n "${BP_BENCH_PERF:-}" ]; then
    ip netns exec "$ns" perf record -q ${BP_BENCH_PERF_CALLGRAPH:+--call-graph $BP_BENCH_PERF_CALLGRAPH} -g -o "$BP_BENCH_PERF" "${bp_cmd[@]}" > /dev/null 2>&1 || true
    echo "  profile of one bounceprobe run: $BP_BENCH_PERF"
  fi
done
