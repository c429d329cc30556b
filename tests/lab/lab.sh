#!/usr/bin/env bash
# The bounceprobe lab: a network namespace with its own loopback addresses and
# a real authoritative DNS server (Knot DNS) serving tests/lab/zones, plus a
# mute DNS peer that never answers. No traffic leaves the namespace.
#
#   lab.sh start STATE_DIR [MUTE_SERVER [SMTP_PEER [ZONE_SERVER]]]  create the namespace, start the servers, wait for them
#   lab.sh exec  STATE_DIR CMD...                 run CMD inside the namespace
#   lab.sh queue STATE_DIR                        print how many messages Postfix's queue holds (must be 0)
#   lab.sh stop  STATE_DIR                        stop what start started, remove the namespace
#
# Addresses (on the namespace's lo):
#   192.0.2.53     Knot DNS (also in the namespace's resolv.conf)
#   192.0.2.52     the same Knot: example.com's second name server
#   192.0.2.51     an out-of-date copy of serial.example (tests/support/zone_server.cpp, serial-old.json)
#   192.0.2.54     rbldnsd serving blocklist zones named like the real lists (tests/lab/rbldnsd)
#   192.0.2.56     a validating unbound (see dnssec.sh)
#   192.0.2.57-58  spamd and clamd (see scanners.sh)
#   192.0.2.91-98  hostile DNS peers (tests/support/mute_server.cpp): .98 mute, .95 garbage,
#                  .94 another question's answer, .93 truncated replies, .92 forwards to Knot
#                  and loses every second query, .91 claims authority for every name;
#                  .97 nothing at all
#   192.0.2.25-31  Postfix, and [2001:db8::26] (see mail.sh)
#   192.0.2.40-45  odd SMTP peers (tests/support/smtp_peer.cpp)
#   192.0.2.61-66  MTA-STS policy hosts over HTTPS (see mail.sh)
#   198.51.100.77  a client address on the lab Postfix's client blocklist; 198.51.100.78 another
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=mail.sh
. "$here/mail.sh"
# shellcheck source=dnssec.sh
. "$here/dnssec.sh"
# shellcheck source=scanners.sh
. "$here/scanners.sh"
cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: lab.sh start|exec|stop STATE_DIR [...]" >&2; exit 2; }

dns_addr=192.0.2.53
rbl_addr=192.0.2.54
mute_addr=192.0.2.98

die() { echo "lab: $*" >&2; exit 1; }

# dkim_keys DIR: makes DIR/rsa.pem and DIR/ed25519.key (the raw seed, base64, as
# dkimpy reads it) and prints their key records for example.com (selectors
# rsa2026 and ed2026), the RSA key split into TXT strings of 250 octets.
dkim_keys() {
  local dir=$1
  mkdir -p "$dir"
  openssl genrsa -out "$dir/rsa.pem" 2048 2>/dev/null
  openssl genpkey -algorithm ed25519 -out "$dir/ed25519.pem" 2>/dev/null
  openssl pkey -in "$dir/ed25519.pem" -outform DER 2>/dev/null | tail -c 32 | base64 -w0 > "$dir/ed25519.key"
  local rsa ed
  rsa=$(openssl rsa -in "$dir/rsa.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
  ed=$(openssl pkey -in "$dir/ed25519.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)
  printf 'rsa2026._domainkey TXT "v=DKIM1; k=rsa; p="'
  local i=0
  while [ $i -lt ${#rsa} ]; do printf ' "%s"' "${rsa:$i:250}"; i=$((i + 250)); done
  printf '\n'
  printf 'ed2026._domainkey TXT "v=DKIM1; k=ed25519; p=%s"\n' "$ed"
  chmod 644 "$dir"/*
}

start() {
  local mute_bin=${1:-} peer_bin=${2:-} zone_bin=${3:-}
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces); run the tests as root"
  command -v knotd >/dev/null || die "knotd not found: run scripts/setup"
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  if [ -f "$state/netns" ]; then stop_lab || true; fi
  mkdir -p "$state/run" "$state/db" "$state/zones"
  local ns="bplab-$$-$RANDOM"
  echo "$ns" > "$state/netns"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  for a in $dns_addr 192.0.2.52 192.0.2.51 $rbl_addr $mute_addr 192.0.2.91 192.0.2.92 192.0.2.93 192.0.2.94 192.0.2.95 192.0.2.97 $pf_addrs $https_addrs $unbound_addr $spamd_addr $clamd_addr \
           192.0.2.40 192.0.2.41 192.0.2.42 192.0.2.43 192.0.2.44 192.0.2.45 198.51.100.77 198.51.100.78; do
    ip -n "$ns" addr add "$a/32" dev lo
  done
  ip -n "$ns" addr add 2001:db8::26/128 dev lo nodad
  mkdir -p "/etc/netns/$ns"
  echo "nameserver $dns_addr" > "/etc/netns/$ns/resolv.conf"

  cp "$here"/zones/*.zone "$state/zones/"
  "$here/hostile_zone.sh" > "$state/zones/hostile.example.zone"
  # Postfix's certificates are made per lab; their TLSA records join the zones.
  rm -rf "$state/postfix"
  mkdir -p "$state/postfix"
  make_certs "$state/postfix/tls"
  tlsa_records "$state/postfix/tls" | grep 'example\.com\. ' >> "$state/zones/example.com.zone"
  tlsa_records "$state/postfix/tls" | grep 'example\.net\. ' >> "$state/zones/example.net.zone"
  tlsa_records "$state/postfix/tls" | grep 'signed\.example\. ' >> "$state/zones/signed.example.zone"
  # DKIM keys are made per lab too (RSA 2048 and Ed25519); the tests sign with them.
  dkim_keys "$state/dkim" >> "$state/zones/example.com.zone"
  # Keys too short to trust, at dkimkeys.example.net (the zone file has the revoked, testing and broken ones).
  for bits in 512 1024; do
    openssl genrsa -out "$state/dkim/rsa$bits.pem" $bits 2>/dev/null
    printf 'k%s._domainkey.dkimkeys TXT "v=DKIM1; k=rsa; p=%s"\n' "$bits" \
      "$(openssl rsa -in "$state/dkim/rsa$bits.pem" -pubout -outform DER 2>/dev/null | base64 -w0)"
  done >> "$state/zones/example.net.zone"
  # A 4 kB key record (16 strings of 250 octets, too long for UDP) whose p= is random bytes, not a key.
  printf 'huge._domainkey.dkimkeys TXT "v=DKIM1; k=rsa; p=" %s\n' \
    "$(head -c 3000 /dev/urandom | base64 -w0 | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')" >> "$state/zones/example.net.zone"
  cat > "$state/knot.conf" <<CONF
server:
    rundir: "$state/run"
    listen: [ $dns_addr@53, 192.0.2.52@53 ]
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
database:
    storage: "$state/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$state/zones"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
    zonefile-load: whole
    semantic-checks: off
zone:
  - domain: example.com
  - domain: example.net
  - domain: example.org
  - domain: broken.example
  - domain: hostile.example
  - domain: deleg.example
  - domain: serial.example
  - domain: example.
    dnssec-signing: on
  - domain: signed.example
    dnssec-signing: on
  - domain: island.example
    dnssec-signing: on
  - domain: bogus.example
    dnssec-signing: on
  - domain: 113.0.203.in-addr.arpa
  - domain: 2.0.192.in-addr.arpa
CONF
  ip netns exec "$ns" knotd -c "$state/knot.conf" > "$state/knot.log" 2>&1 &
  echo $! > "$state/knot.pid"
  if command -v rbldnsd >/dev/null; then
    mkdir -p "$state/rbl"
    cp "$here"/rbldnsd/*.txt "$state/rbl/"
    chmod 755 "$state" "$state/rbl"
    chmod 644 "$state"/rbl/*.txt
    ip netns exec "$ns" rbldnsd -q -b $rbl_addr/53 -w "$state/rbl" -p "$state/rbldnsd.pid" \
      zen.spamhaus.org:ip4set:zen.txt zen.spamhaus.org:ip6trie:zen6.txt dbl.spamhaus.org:dnset:dbl.txt \
      bl.spamcop.net:ip4set:spamcop.txt bl.score.senderscore.com:ip4set:senderscore.txt \
      sa-ip4tset.blagr.emailsrvr.com:ip4set:aggregate.txt > "$state/rbldnsd.log" 2>&1
  fi
  if [ -n "$mute_bin" ]; then
    ip netns exec "$ns" "$mute_bin" $mute_addr 53 > "$state/mute.log" 2>&1 &
    echo $! > "$state/mute.pid"
    local i=0
    for pair in 192.0.2.95:garbage 192.0.2.94:mismatch 192.0.2.93:truncated 192.0.2.92:lossy:$dns_addr 192.0.2.91:everything; do
      ip netns exec "$ns" "$mute_bin" "${pair%%:*}" 53 "${pair#*:}" > /dev/null 2>&1 &
      echo $! > "$state/hostile$i.pid"
      i=$((i + 1))
    done
  fi
  if [ -n "$peer_bin" ]; then
    local j=0
    for pair in 192.0.2.40:nobanner 192.0.2.41:slowbanner 192.0.2.42:longline 192.0.2.43:endless \
                192.0.2.44:midclose 192.0.2.45:tlsgarbage; do
      ip netns exec "$ns" "$peer_bin" "${pair%%:*}" 25 "${pair##*:}" > /dev/null 2>&1 &
      echo $! > "$state/peer$j.pid"
      j=$((j + 1))
    done
    # An MTA-STS policy host that takes the connection and never answers the TLS handshake.
    ip netns exec "$ns" "$peer_bin" 192.0.2.66 443 nobanner > /dev/null 2>&1 &
    echo $! > "$state/peer$j.pid"
  fi
  if [ -n "$zone_bin" ]; then
    ip netns exec "$ns" "$zone_bin" 192.0.2.51 53 "$here/serial-old.json" > /dev/null 2>&1 &
    echo $! > "$state/zoneold.pid"
  fi
  start_postfix "$ns"
  start_https "$ns"
  start_scanners "$ns"
  wait_smtp "$ns"
  # Wait for the server to answer before the first test query.
  for _ in $(seq 1 100); do
    local soa
    soa=$(ip netns exec "$ns" kdig +time=1 +retry=0 +short @$dns_addr example.com SOA 2>/dev/null || true)
    local rbl=127.0.0.2
    command -v rbldnsd >/dev/null && rbl=$(ip netns exec "$ns" kdig +time=1 +retry=0 +short @$rbl_addr 2.0.0.127.zen.spamhaus.org A 2>/dev/null || true)
    if [[ "$soa" == *hostmaster* && "$rbl" == 127.0.0.2 ]]; then
      dnssec_chain "$ns"
      start_unbound "$ns"
      echo "lab: up in namespace $ns (Knot DNS at $dns_addr, validating unbound at $unbound_addr)"
      return 0
    fi
    sleep 0.1
  done
  cat "$state/knot.log" >&2
  die "Knot DNS did not answer"
}

stop_lab() {
  [ -f "$state/netns" ] || return 0
  local ns
  ns=$(cat "$state/netns")
  stop_postfix
  for p in knot unbound spamd clamd mute zoneold rbldnsd hostile0 hostile1 hostile2 hostile3 hostile4 peer0 peer1 peer2 peer3 peer4 peer5 peer6 \
           https0 https1 https2 https3 https4; do
    if [ -f "$state/$p.pid" ]; then
      kill "$(cat "$state/$p.pid")" 2>/dev/null || true
      rm -f "$state/$p.pid"
    fi
  done
  sleep 0.2
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "/etc/netns/$ns"
  rm -f "$state/netns"
}

case "$cmd" in
  start) start "${3:-}" "${4:-}" "${5:-}" ;;
  stop) stop_lab; echo "lab: stopped" ;;
  queue)
    n=$(queue_count)
    echo "lab: $n message(s) in Postfix's queue"
    [ "$n" = 0 ]
    ;;
  exec)
    shift 2
    [ -f "$state/netns" ] || die "no lab running in $state (run: lab.sh start $state)"
    exec ip netns exec "$(cat "$state/netns")" "$@"
    ;;
  *) die "unknown command '$cmd'" ;;
esac
