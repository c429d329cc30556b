#!/usr/bin/env bash
# Batch explain throughput: the bounce corpus (tests/corpus/bounces.jsonl),
# one text per line, repeated to N lines, through `explain --input - --format jsonl`.
# Prints texts/s and peak RSS, and the cost of starting the process once (one line).
#   bench/explain_batch.sh [BINARY] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/cli/bounceprobe}
n=${2:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$n" > "$work/batch.txt" <<'PY'
import json, sys
rows = [json.loads(l)["text"].replace("\n", " ") for l in open("tests/corpus/bounces.jsonl")]
n = int(sys.argv[1])
for i in range(n):
    print(rows[i % len(rows)])
PY
head -1 "$work/batch.txt" > "$work/one.txt"
run() { /usr/bin/time -f '%e %M' -o "$work/t" "$bin" explain --input "$1" --format jsonl > "$work/out.jsonl"; cat "$work/t"; }
read -r one_s one_kb < <(run "$work/one.txt")
best=""
for _ in 1 2 3; do
  read -r s kb < <(run "$work/batch.txt")
  if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$s; best_kb=$kb; fi
done
lines=$(wc -l < "$work/out.jsonl")
[ "$lines" = "$n" ] || { echo "explain_batch: $lines answers for $n lines" >&2; exit 1; }
awk -v n="$n" -v s="$best" -v kb="$best_kb" -v o="$one_s" 'BEGIN {
  printf "explain --input: %d texts in %.2f s (best of 3) = %.0f texts/s, peak RSS %.1f MB; one text: %.3f s\n", n, s, n / s, kb / 1024, o }'
