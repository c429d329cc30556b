# The lab's mail side, sourced by lab.sh: a CA made fresh for each lab, the
# certificates it signs (valid, expired, for the wrong name, self-signed), and
# one Postfix instance (Debian's package, unchrooted, its own queue) with one
# smtpd listener per case:
#
#   192.0.2.25   mx1.example.com        the receiver: relay recipient table, access maps, valid TLS
#   192.0.2.26   mx2.example.com        same rules, at most one connection per client
#   2001:db8::26 mx2.example.com        (IPv6)
#   192.0.2.27   mx.expired-tls...      certificate expired
#   192.0.2.28   mx.wrongname-tls...    trusted certificate for another name
#   192.0.2.29   mx.notls...            no STARTTLS
#   192.0.2.30   mx.selfsigned-tls...   self-signed certificate
#   192.0.2.31   mx-backup.example.net  a backup MX that refuses every recipient (the primary accepts backup.example.net's)
#
# Nothing is ever delivered: every transport is "error", and the probe stops
# before DATA; `lab.sh queue` counts what the queue holds (it must be 0).
#
# MTA-STS policy hosts (RFC 8461 section 3.3): `openssl s_server -HTTP`, one
# per response, each serving .well-known/mta-sts.txt (headers included) with a
# certificate from the same lab CA for every mta-sts.*.example.net name:
#
#   192.0.2.61   mta-sts.sts.example.net            a valid policy, CRLF and LF lines mixed
#   192.0.2.62   mta-sts.sts-uncovered.example.net  an mx: list that leaves out mx2.example.com; max_age one hour
#   192.0.2.63   mta-sts.sts-redirect.example.net   301 to itself (a redirect loop)
#   192.0.2.64   mta-sts.sts-huge.example.net       a 10 MB policy
#   192.0.2.65   mta-sts.sts-html.example.net       a valid policy served as text/html
#   192.0.2.66   mta-sts.sts-silent.example.net     (lab.sh: a TCP peer that never starts TLS)

pf_addrs="192.0.2.25 192.0.2.26 192.0.2.27 192.0.2.28 192.0.2.29 192.0.2.30 192.0.2.31"
https_addrs="192.0.2.61 192.0.2.62 192.0.2.63 192.0.2.64 192.0.2.65 192.0.2.66"

make_certs() {
  local d=$1
  mkdir -p "$d"
  local key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  openssl req -x509 $key -keyout "$d/ca.key" -out "$d/ca.pem" -days 30 -subj "/CN=bounceprobe lab CA" 2>/dev/null
  cert() {  # name, CN, SANs, [startdate enddate]
    openssl req $key -keyout "$d/$1.key" -out "$d/$1.csr" -subj "/CN=$2" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" > "$d/$1.ext"
    if [ $# -gt 3 ]; then
      # openssl x509 cannot back-date; a minimal `openssl ca` can.
      mkdir -p "$d/ca.db"
      : > "$d/ca.db/index.txt"
      echo 01 > "$d/ca.db/serial"
      cat > "$d/ca.cnf" <<CNF
[ca]
default_ca = lab
[lab]
database = $d/ca.db/index.txt
new_certs_dir = $d/ca.db
serial = $d/ca.db/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
CNF
      openssl ca -batch -notext -config "$d/ca.cnf" -cert "$d/ca.pem" -keyfile "$d/ca.key" \
        -startdate "$4" -enddate "$5" -extfile "$d/$1.ext" -in "$d/$1.csr" -out "$d/$1.pem" 2>/dev/null
    else
      openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
        -extfile "$d/$1.ext" -out "$d/$1.pem" 2>/dev/null
    fi
  }
  cert mx "mx1.example.com" "DNS:mx1.example.com,DNS:mx2.example.com,DNS:mail.signed.example"
  local sts="" h
  for h in sts sts-uncovered sts-redirect sts-huge sts-html sts-silent; do sts="$sts${sts:+,}DNS:mta-sts.$h.example.net"; done
  cert sts "mta-sts.sts.example.net" "$sts"
  cert expired "mx.expired-tls.example.net" "DNS:mx.expired-tls.example.net" 20200101000000Z 20200201000000Z
  openssl req -x509 $key -keyout "$d/self.key" -out "$d/self.pem" -days 30 -subj "/CN=mx.selfsigned-tls.example.net" \
    -addext "subjectAltName=DNS:mx.selfsigned-tls.example.net" 2>/dev/null
  chmod 644 "$d"/*.pem
  chmod 600 "$d"/*.key
}

# DANE (RFC 7672): TLSA 3 1 1 records for mx1 and for mail.signed.example (the
# same Postfix listener, in the signed zone) that match its key, and one for
# the wrong-name host that matches nothing.
tlsa_records() {
  local d=$1 digest
  digest=$(openssl x509 -in "$d/mx.pem" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex | sed 's/.*= //')
  echo "_25._tcp.mx1.example.com. 300 IN TLSA 3 1 1 $digest"
  echo "_25._tcp.mail.signed.example. 300 IN TLSA 3 1 1 $digest"
  echo "_25._tcp.mx.wrongname-tls.example.net. 300 IN TLSA 3 1 1 $(printf '0%.0s' $(seq 1 64))"
}

start_postfix() {
  local ns=$1
  command -v postfix >/dev/null || die "postfix not found: run scripts/setup"
  local pf="$state/postfix" etc="$state/postfix/etc"
  rm -rf "$etc" "$pf/spool" "$pf/data"
  mkdir -p "$etc" "$pf/spool" "$pf/data"
  chown postfix "$pf/data"
  chmod 755 "$state" "$pf"
  local tls="$pf/tls"

  cat > "$etc/relay_recipients" <<'MAP'
postmaster@example.com OK
postmaster@backup.example.net OK
postmaster@sts.example.net OK
postmaster@signed.example OK
user@example.com       OK
victim@example.com     OK
MAP
  cat > "$etc/client_access" <<'MAP'
198.51.100.77 REJECT The sender's mail server is blocked
MAP
  cat > "$etc/sender_access" <<'MAP'
blocked.example.org REJECT Blocked by this domain
MAP
  cat > "$etc/recipient_access" <<'MAP'
victim@example.com victim_senders
MAP
  cat > "$etc/victim_senders" <<'MAP'
annoying@example.org REJECT Blocked by this recipient
MAP
  cat > "$etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = $pf
maillog_file = $pf/maillog
myhostname = mx1.example.com
mydomain = example.com
myorigin = \$myhostname
mydestination =
inet_interfaces = all
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP
relay_domains = example.com, backup.example.net, sts.example.net, signed.example
relay_recipient_maps = texthash:$etc/relay_recipients
relay_domains_reject_code = 550
smtpd_relay_before_recipient_restrictions = yes
smtpd_relay_restrictions = reject_unauth_destination
smtpd_client_restrictions = check_client_access texthash:$etc/client_access
smtpd_recipient_restrictions = check_sender_access texthash:$etc/sender_access, check_recipient_access texthash:$etc/recipient_access
smtpd_restriction_classes = victim_senders
victim_senders = check_sender_access texthash:$etc/victim_senders
smtpd_tls_security_level = may
smtpd_tls_cert_file = $tls/mx.pem
smtpd_tls_key_file = $tls/mx.key
# Were a message ever queued it would wait for a host where nothing listens,
# and "lab.sh queue" would count it.
relay_transport = smtp:[192.0.2.97]:25
default_transport = smtp:[192.0.2.97]:25
alias_maps =
alias_database =
biff = no
CONF
  local s="inet  n       -       n       -       -       smtpd"
  cat > "$etc/master.cf" <<CONF
192.0.2.25:smtp $s
192.0.2.26:smtp $s -o myhostname=mx2.example.com -o smtpd_client_connection_count_limit=1 -o smtpd_client_event_limit_exceptions=
[2001:db8::26]:smtp $s -o myhostname=mx2.example.com
192.0.2.27:smtp $s -o myhostname=mx.expired-tls.example.net -o smtpd_tls_cert_file=$tls/expired.pem -o smtpd_tls_key_file=$tls/expired.key
192.0.2.28:smtp $s -o myhostname=mx.wrongname-tls.example.net
192.0.2.29:smtp $s -o myhostname=mx.notls.example.net -o smtpd_tls_security_level=none
192.0.2.30:smtp $s -o myhostname=mx.selfsigned-tls.example.net -o smtpd_tls_cert_file=$tls/self.pem -o smtpd_tls_key_file=$tls/self.key
192.0.2.31:smtp $s -o myhostname=mx-backup.example.net -o smtpd_relay_restrictions=reject
cleanup   unix  n       -       n       -       0       cleanup
smtp      unix  -       -       n       -       -       smtp
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF
  ip netns exec "$ns" postfix -c "$etc" check > "$pf/check.log" 2>&1 || { cat "$pf/check.log" >&2; die "postfix check failed"; }
  ip netns exec "$ns" postfix -c "$etc" start > "$pf/start.log" 2>&1 || { cat "$pf/start.log" "$pf/maillog" >&2 2>/dev/null; die "postfix did not start"; }
}

stop_postfix() {
  local etc="$state/postfix/etc"
  [ -f "$etc/main.cf" ] || return 0
  local ns
  ns=$(cat "$state/netns" 2>/dev/null || true)
  if [ -n "$ns" ]; then
    ip netns exec "$ns" postfix -c "$etc" stop > /dev/null 2>&1 || true
  fi
  local pid
  pid=$(head -1 "$state/postfix/spool/pid/master.pid" 2>/dev/null | tr -d ' ' || true)
  if [ -n "$pid" ]; then
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

# Messages anywhere in the queue: the lab must never hold one.
queue_count() {
  local spool="$state/postfix/spool" n=0 d
  for d in maildrop incoming active deferred hold corrupt; do
    [ -d "$spool/$d" ] && n=$((n + $(find "$spool/$d" -type f | wc -l)))
  done
  echo "$n"
}

# start_https NS: the MTA-STS policy hosts listed at the top.
start_https() {
  local ns=$1 d="$state/https" a i=0
  local plain='HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n'
  rm -rf "$d"
  for a in 61 62 63 64 65; do mkdir -p "$d/$a/.well-known"; done
  printf "${plain}version: STSv1\r\nmode: enforce\nmx: *.example.com\r\nmax_age: 604800\n" > "$d/61/.well-known/mta-sts.txt"
  printf "${plain}version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx.expired-tls.example.net\nmax_age: 3600\n" \
    > "$d/62/.well-known/mta-sts.txt"
  printf 'HTTP/1.1 301 Moved Permanently\r\nLocation: https://mta-sts.sts-redirect.example.net/.well-known/mta-sts.txt\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
    > "$d/63/.well-known/mta-sts.txt"
  { printf "${plain}version: STSv1\nmode: enforce\nmax_age: 604800\n"; head -c 10000000 /dev/zero | tr '\0' 'x'; } \
    > "$d/64/.well-known/mta-sts.txt"
  printf 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nversion: STSv1\nmode: testing\nmx: mx1.example.com\nmax_age: 86400\n' \
    > "$d/65/.well-known/mta-sts.txt"
  for a in 61 62 63 64 65; do
    (cd "$d/$a" && exec ip netns exec "$ns" openssl s_server -accept "192.0.2.$a:443" -cert "$state/postfix/tls/sts.pem" \
      -key "$state/postfix/tls/sts.key" -HTTP -quiet < /dev/null > "$d/$a.log" 2>&1) &
    echo $! > "$state/https$i.pid"
    i=$((i + 1))
  done
  for a in 61 62 63 64 65; do
    for _ in $(seq 1 100); do
      ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/192.0.2.$a/443" 2>/dev/null && continue 2
      sleep 0.1
    done
    die "openssl s_server does not listen on 192.0.2.$a:443"
  done
}

wait_smtp() {
  local ns=$1 a
  for a in $pf_addrs; do
    for _ in $(seq 1 100); do
      if ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$a/25 && head -c 4 <&3 | grep -q 220" 2>/dev/null; then continue 2; fi
      sleep 0.1
    done
    cat "$state/postfix/maillog" >&2 2>/dev/null || true
    die "Postfix does not answer on $a:25"
  done
}
