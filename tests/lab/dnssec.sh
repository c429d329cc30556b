# The lab's DNSSEC side, sourced by lab.sh: a chain of trust inside the lab and
# a validating resolver that follows it.
#
# Knot signs `example.` (the parent, tests/lab/zones/example.zone) and three
# children as it loads them (dnssec-signing, its default policy, keys made per
# lab run). Once they are signed, the parent gets:
#   - signed.example's real DS (from keymgr): a complete chain;
#   - a DS for bogus.example that matches none of its keys: validation fails;
#   - none for island.example: an island of security, insecure to validators.
# Unbound (Debian's package) on 192.0.2.56 validates from one trust anchor,
# example.'s own DS, and reaches every lab zone through stub zones at Knot. It
# answers with AD for signed.example, SERVFAIL for bogus.example, and without
# AD for the rest. Nothing is asked outside the namespace: the root is never
# queried (no anchor, no hints needed for the stub zones).

unbound_addr=192.0.2.56

# dnssec_chain NS: publishes the DS records in the parent once Knot has signed the children.
dnssec_chain() {
  local ns=$1 ds="" _
  for _ in $(seq 1 100); do
    ds=$(keymgr -c "$state/knot.conf" signed.example ds 2>/dev/null | awk '$4 == 13 && $5 == 2' || true)
    [ -n "$ds" ] && break
    sleep 0.1
  done
  [ -n "$ds" ] || die "Knot made no key for signed.example"
  {
    echo "; added by the lab (dnssec.sh) once the children were signed"
    echo "$ds"
    # A DS whose key tag, algorithm and digest type look right and whose digest matches nothing.
    echo "bogus.example. DS $(echo "$ds" | awk '{print $3}') 13 2 $(printf '5%.0s' $(seq 1 64))"
  } >> "$state/zones/example.zone"
  knotc -c "$state/knot.conf" zone-reload example. > /dev/null || die "knotc could not reload example."
  for _ in $(seq 1 100); do
    ip netns exec "$ns" kdig +time=1 +retry=0 +short @$dns_addr signed.example DS 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  die "Knot does not publish signed.example's DS"
}

# start_unbound NS: the validating resolver, anchored at example.'s DS.
start_unbound() {
  local ns=$1 d="$state/unbound" z
  command -v unbound >/dev/null || die "unbound not found: run scripts/setup"
  rm -rf "$d"
  mkdir -p "$d"
  keymgr -c "$state/knot.conf" example. ds | awk '$4 == 13 && $5 == 2' > "$d/anchor"
  [ -s "$d/anchor" ] || die "Knot made no key for example."
  {
    cat <<CONF
server:
    interface: $unbound_addr
    port: 53
    do-ip6: no
    access-control: 0.0.0.0/0 allow
    chroot: ""
    username: ""
    directory: "$d"
    pidfile: "$d/unbound.pid"
    logfile: "$d/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    module-config: "validator iterator"
    trust-anchor-file: "$d/anchor"
    qname-minimisation: no
    do-not-query-localhost: no
    local-zone: "2.0.192.in-addr.arpa." nodefault
    local-zone: "113.0.203.in-addr.arpa." nodefault
    local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." nodefault
remote-control:
    control-enable: no
CONF
    for z in example. example.com. example.net. example.org. 2.0.192.in-addr.arpa. 113.0.203.in-addr.arpa.; do
      printf 'stub-zone:\n    name: "%s"\n    stub-addr: %s\n' "$z" "$dns_addr"
    done
  } > "$d/unbound.conf"
  ip netns exec "$ns" unbound -d -c "$d/unbound.conf" > "$d/stderr" 2>&1 &
  echo $! > "$state/unbound.pid"
  for _ in $(seq 1 100); do
    ip netns exec "$ns" kdig +time=1 +retry=0 +dnssec @$unbound_addr signed.example SOA 2>/dev/null | grep -q 'Flags:.* ad' && return 0
    sleep 0.1
  done
  cat "$d/stderr" "$d/unbound.log" >&2 2>/dev/null || true
  die "unbound does not validate signed.example"
}
