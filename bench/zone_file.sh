#!/usr/bin/env bash
# Time and peak memory of --zone-file on a generated zone of N records (default 1,000,000):
#   bench/zone_file.sh [BUILD] [N]
# The check itself asks no server for the zone's names (they come from the file); the
# resolver given is the machine's loopback, which answers nothing and is not needed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-1000000}
dir=$(mktemp -d /tmp/bounceprobe-zone.XXXXXX)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/big.zone" "$n" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("$ORIGIN big.example.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.53\n")
    f.write("@ MX 10 mx1\nmx1 A 192.0.2.25\n@ TXT \"v=spf1 mx -all\"\n_dmarc TXT \"v=DMARC1; p=reject\"\n")
    for i in range(n - 9):
        f.write(f"h{i} A 198.51.{(i >> 8) & 255}.{i & 255}\n" if i % 3 else f"t{i} TXT \"record {i}\" \"second string\"\n")
PY
size=$(du -m "$dir/big.zone" | cut -f1)
/usr/bin/time -f "%e %M" -o "$dir/time" "$build/cli/bounceprobe" check --no-smtp --resolver 127.0.0.1:9 --timeout 200 --tries 1 \
  --allow-unchecked --zone-file "$dir/big.zone" big.example > /dev/null 2> "$dir/err" || true
read -r wall rss < <(tail -1 "$dir/time")
echo "zone file: $n records, $size MB: check took $wall s, peak RSS $((rss / 1024)) MB"
