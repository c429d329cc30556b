# The lab's content scanners, sourced by lab.sh: SpamAssassin's spamd and
# ClamAV's clamd from Debian's packages, for predict --spamd and --clamd.
#
#   192.0.2.57:783            spamd, with the rules Debian ships (no network tests: --local)
#   192.0.2.58:3310           clamd, and its Unix socket STATE/clamd/clamd.sock
#
# clamd needs a signature database and the lab has no internet to fetch
# ClamAV's: it loads one signature of its own, for the EICAR test file (an
# .ndb body signature, "Lab.Eicar-Test-Signature"), which is enough to tell an
# infected message from a clean one through the real daemon and protocol.

spamd_addr=192.0.2.57
clamd_addr=192.0.2.58

start_scanners() {
  local ns=$1 d="$state/clamd" s="$state/spamd" hex
  command -v spamd >/dev/null || die "spamd not found: run scripts/setup"
  command -v clamd >/dev/null || die "clamd not found: run scripts/setup"
  rm -rf "$d" "$s"
  mkdir -p "$d/db" "$s"
  # The EICAR string, assembled here so that this file is not itself a test file.
  hex=$(printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' | od -An -tx1 | tr -d ' \n')
  echo "Lab.Eicar-Test-Signature:0:*:$hex" > "$d/db/lab.ndb"
  cat > "$d/clamd.conf" <<CONF
DatabaseDirectory $d/db
LocalSocket $d/clamd.sock
TCPSocket 3310
TCPAddr $clamd_addr
Foreground yes
LogFile $d/clamd.log
PidFile $d/clamd.pid
StreamMaxLength 25M
CONF
  ip netns exec "$ns" clamd -c "$d/clamd.conf" > "$d/stderr" 2>&1 &
  echo $! > "$state/clamd.pid"
  ip netns exec "$ns" spamd --listen="$spamd_addr:783" --allowed-ips=0.0.0.0/0 --max-children=2 --username=nobody \
    --nouser-config --local --syslog="$s/spamd.log" --pidfile="$s/spamd.pid" > "$s/stderr" 2>&1 &
  echo $! > "$state/spamd.pid"
  local _
  for _ in $(seq 1 200); do
    if [ -S "$d/clamd.sock" ] &&
       ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$spamd_addr/783 && printf 'PING SPAMC/1.5\r\n\r\n' >&3 && head -c 20 <&3" 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  cat "$d/stderr" "$s/stderr" >&2 2>/dev/null || true
  die "spamd or clamd did not come up"
}
