#!/usr/bin/env bash
# Prints the wall time of `bounceprobe check` on the lab's domains: the whole
# process (start-up, every lookup, rendering) as a user sees it, over N runs.
#   bench/check_lab.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-50}
[ "$(id -u)" = 0 ] || { echo "check_lab: needs root (lab namespace)" >&2; exit 1; }
state=$(mktemp -d /tmp/bounceprobe-bench.XXXXXX)
trap './tests/lab/lab.sh stop "$state" >/dev/null; rm -rf "$state"' EXIT
./tests/lab/lab.sh start "$state" "$build/tests/mute_server" "$build/tests/smtp_peer" >/dev/null

domains=(example.com nullmx.example.net implicit.example.net nomail.example.net doesnotexist.example.net
         cname-mx.example.net literal-mx.example.net dangling-mx.example.net private-mx.example.net
         cgnat-mx.example.net mixed-mx.example.net mail.broken.example)
lab=(--routable 192.0.2.0/24 --routable 203.0.113.0/24 --routable 2001:db8::/32 --dnsbl-resolver 192.0.2.54
     --ca-file "$state/postfix/tls/ca.pem" --helo client.example.org)
run() { ./tests/lab/lab.sh exec "$state" "$build/cli/bounceprobe" check "$@" "${lab[@]}" --json >/dev/null || true; }

measure() {
  local label=$1; shift
  local times=()
  for _ in $(seq 1 "$runs"); do
    local t0 t1
    t0=$(date +%s%N); run "$@"; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v n="$runs" '
    { v[NR] = $1 } END { printf "%-34s runs=%d  min=%.1f ms  median=%.1f ms  max=%.1f ms\n", label, n, v[1]/1000, v[int((n+1)/2)]/1000, v[n]/1000 }'
}

echo "lab check (whole process incl. ip netns exec), wall time:"
measure "check example.com, DNS only" example.com --no-smtp
measure "check ${#domains[@]} lab domains, DNS only" "${domains[@]}" --no-smtp
# With the SMTP dialogue (STARTTLS, certificate and DANE checks, MAIL, RCPT x2, RSET, QUIT).
smtp_domains=(example.com expired-tls.example.net wrongname-tls.example.net notls.example.net selfsigned-tls.example.net
              smtp-fallback.example.net)
measure "check example.com, with SMTP" example.com
measure "check ${#domains[@]} lab domains, with SMTP" "${domains[@]}"
measure "check ${#smtp_domains[@]} Postfix domains, with SMTP" "${smtp_domains[@]}"
