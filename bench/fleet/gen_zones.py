#!/usr/bin/env python3
"""Writes the synthetic zone set of the fleet benchmark into DIR.

  gen_zones.py DIR N

fleet.example holds N domains d<i>.fleet.example, each with the shapes a
hosting provider's customers have: one or two MX hosts (the first with A and
AAAA records, the second IPv6 only), an SPF record that includes or redirects into shared provider
policies (two levels deep), and a DMARC record. Five blocklist zones (four of addresses, one of domains) carry
their RFC 5782 test entries (127.0.0.2 listed, everything else NXDOMAIN).
Also writes DIR/domains.txt (one domain per line) and DIR/knot.zones (the
zone list for knot.conf).
"""
import os
import sys

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
providers = 8
lines = [
    "$ORIGIN fleet.example.",
    "$TTL 3600",
    "@ SOA ns.fleet.example. hostmaster.fleet.example. 1 3600 600 86400 300",
    "@ NS ns",
    "ns A 192.0.2.53",
]
for p in range(providers):
    lines.append(f'_spf.prov{p} TXT "v=spf1 ip4:198.51.{p}.0/24 include:_spf2.prov{p}.fleet.example -all"')
    lines.append(f'_spf2.prov{p} TXT "v=spf1 ip4:203.0.{p}.0/24 ip6:2001:db8:{p}::/48 -all"')
for i in range(n):
    d = f"d{i}"
    lines.append(f"{d} MX 10 mx1.{d}")
    lines.append(f"mx1.{d} A 198.{18 + ((i >> 16) & 1)}.{(i >> 8) & 255}.{i & 255}")
    lines.append(f"mx1.{d} AAAA 2001:db8:ffff::{i >> 16:x}:{i & 0xffff:x}")
    if i % 2 == 0:
        lines.append(f"{d} MX 20 mx2.{d}")
        lines.append(f"mx2.{d} AAAA 2001:db8:fffe::{i >> 16:x}:{i & 0xffff:x}")
    p = i % providers
    if i % 3 == 0:
        lines.append(f'{d} TXT "v=spf1 redirect=_spf.prov{p}.fleet.example"')
    else:
        lines.append(f'{d} TXT "v=spf1 mx include:_spf.prov{p}.fleet.example ~all"')
    lines.append(f'_dmarc.{d} TXT "v=DMARC1; p=reject; rua=mailto:dmarc@{d}.fleet.example"')
with open(os.path.join(out, "fleet.example.zone"), "w") as f:
    f.write("\n".join(lines) + "\n")

blocklists = ["zen.spamhaus.org", "bl.spamcop.net", "bl.score.senderscore.com", "sa-ip4tset.blagr.emailsrvr.com",
              "dbl.spamhaus.org"]
for z in blocklists:
    with open(os.path.join(out, f"{z}.zone"), "w") as f:
        f.write(f"$ORIGIN {z}.\n$TTL 300\n@ SOA ns.{z}. hostmaster.{z}. 1 3600 600 86400 300\n@ NS ns.fleet.example.\n")
        if z.startswith("dbl."):
            f.write('test A 127.0.1.2\n')
        else:
            f.write("2.0.0.127 A 127.0.0.2\n")
with open(os.path.join(out, "domains.txt"), "w") as f:
    for i in range(n):
        f.write(f"d{i}.fleet.example\n")
with open(os.path.join(out, "knot.zones"), "w") as f:
    for z in ["fleet.example"] + blocklists:
        f.write(f"  - domain: {z}\n")
