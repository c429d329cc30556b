#!/usr/bin/env bash
# hostile_zone.sh > hostile.example.zone: a zone built to make a checker do
# unbounded work if it trusts counts from the network (docs/limits.md):
#   manymx     2,900 MX records in one answer (over TCP), targets that do not exist
#   wide       500 MX hosts, each with 20 addresses (200 distinct among the first ten)
#   manyterms  an SPF record of 1,000 a: and 1,000 mx: terms
#   manyrua    a DMARC record with 2,500 external rua destinations
#   overflow*  SPF prefix lengths past 2^32 and 2^64
# Generated at lab start, not committed: it is about 150 kB.
set -euo pipefail
cat <<'HEAD'
$ORIGIN hostile.example.
$TTL 300
@          SOA   ns.hostile.example. hostmaster.hostile.example. 1 3600 600 86400 300
@          NS    ns
ns         A     192.0.2.53
HEAD
for i in $(seq 1 2900); do printf 'manymx MX %d h%d.manymx\n' $((i % 100)) "$i"; done
for i in $(seq 1 500); do printf 'wide MX 10 h%d.wide\n' "$i"; done
for i in $(seq 100 119); do printf '*.wide A 192.0.2.%d\n' "$i"; done
# The ten most preferred hosts have 20 addresses of their own: 200 distinct ones.
for i in $(seq 1 10); do
  for k in $(seq 0 19); do printf 'h%d.wide A 198.51.100.%d\n' "$i" $((i * 20 + k)); done
done
# TXT character-strings hold at most 255 octets: one quoted string per 10 terms.
printf 'manyterms TXT "v=spf1"'
for i in $(seq 1 200); do
  printf ' "'
  for j in $(seq 1 5); do printf ' a:%d.t.hostile.example' $(((i - 1) * 5 + j)); done
  for j in $(seq 1 5); do printf ' mx:%d.t.hostile.example' $(((i - 1) * 5 + j)); done
  printf '"'
done
printf ' " -all"\n'
printf 'manyterms MX 10 mx1.example.com.\n'
printf '_dmarc.manyrua TXT "v=DMARC1; p=reject; rua="'
for i in $(seq 1 250); do
  printf ' "'
  for j in $(seq 1 10); do
    n=$(((i - 1) * 10 + j))
    printf 'mailto:r@d%d.example%s' "$n" "$([ "$n" -lt 2500 ] && echo ,)"
  done
  printf '"'
done
printf '\n'
printf 'manyrua MX 10 mx1.example.com.\n'
# Prefix lengths too large for an int: once read as /0, "authorized" every address.
cat <<'TAIL'
overflow4  TXT "v=spf1 ip4:192.0.2.1/99999999999 -all"
overflow4  MX  10 mx1.example.com.
overflowa  TXT "v=spf1 a/4294967296 -all"
overflowa  A   192.0.2.1
overflow6  TXT "v=spf1 ip6:2001:db8::/18446744073709551617 -all"
; Terminal control sequences (ESC [31m, BEL, ESC [2J) and bytes that are not UTF-8 in records
ctrl         MX  10 mx1.example.com.
ctrl         TXT "v=spf1 \027[31mred\007 ip4:192.0.2.1 \255\254 -all"
_dmarc.ctrl  TXT "v=DMARC1; p=\027[2Jnone; rua=mailto:\200@example.com"
TAIL
# A NUL byte and 4 kB of text in one record (16 strings of 250 bytes: TCP for the reply).
printf 'ctrl TXT "v=spf1 nul\\000byte\\027]0;title\\007"'
for _ in $(seq 1 16); do printf ' "%s"' "$(printf 'x%.0s' $(seq 1 250))"; done
printf '\n'

