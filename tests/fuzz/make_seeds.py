#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

Seeds are small valid inputs (and a few known-hostile ones) from which libFuzzer
mutates; crashes it finds are added next to them by hand as regression inputs.
Run from anywhere: python3 tests/fuzz/make_seeds.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- DNS replies: first byte selects the asked type (see fuzz_dns_wire.cpp).
TYPES = {"a": (0, 1), "aaaa": (1, 28), "mx": (2, 15), "txt": (3, 16), "cname": (4, 5), "ptr": (5, 12), "tlsa": (6, 52), "ns": (7, 2)}


def name(n):
    out = b""
    for label in n.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def reply(qname, qtype, answers, rcode=0, flags=0x8180):
    hdr = struct.pack(">HHHHHH", 0x1234, flags | rcode, 1, len(answers), 0, 0)
    q = name(qname) + struct.pack(">HH", qtype, 1)
    body = b""
    for owner, t, rdata in answers:
        body += owner + struct.pack(">HHIH", t, 1, 300, len(rdata)) + rdata
    return hdr + q + body


PTR_Q = b"\xc0\x0c"  # compression pointer to the question name
sel = lambda t: bytes([TYPES[t][0]])
put("dns_wire", "a", sel("a") + reply("example.com", 1, [(PTR_Q, 1, bytes([192, 0, 2, 25]))]))
put("dns_wire", "aaaa", sel("aaaa") + reply("example.com", 28, [(PTR_Q, 28, bytes(15) + b"\1")]))
put("dns_wire", "mx", sel("mx") + reply("example.com", 15, [(PTR_Q, 15, struct.pack(">H", 10) + b"\3mx1\xc0\x0c"),
                                                         (PTR_Q, 15, struct.pack(">H", 20) + name("mx2.example.net"))]))
put("dns_wire", "null-mx", sel("mx") + reply("example.com", 15, [(PTR_Q, 15, struct.pack(">H", 0) + b"\0")]))
put("dns_wire", "txt", sel("txt") + reply("example.com", 16, [(PTR_Q, 16, b"\x0bv=spf1 -all\x05 more")]))
put("dns_wire", "cname", sel("a") + reply("x.example.com", 1, [(PTR_Q, 5, name("example.com")),
                                                             (name("example.com"), 1, bytes([192, 0, 2, 1]))]))
put("dns_wire", "ptr", sel("ptr") + reply("example.com", 12, [(PTR_Q, 12, name("mail.example.com"))]))
put("dns_wire", "tlsa", sel("tlsa") + reply("example.com", 52, [(PTR_Q, 52, bytes([3, 1, 1]) + bytes(32))]))
put("dns_wire", "nxdomain", sel("a") + reply("example.com", 1, [], rcode=3))
put("dns_wire", "servfail", sel("a") + reply("example.com", 1, [], rcode=2))
put("dns_wire", "loop-pointer", sel("mx") + reply("example.com", 15, [(b"\xc0\x1d", 15, b"\0\1\xc0\x1d")]))
put("dns_wire", "ancount-lies", sel("a") + reply("example.com", 1, [])[:6] + b"\xff\xff" + reply("example.com", 1, [])[8:])

# ---- SPF records (RFC 7208 examples, and the overflow cases).
spf = [
    "v=spf1 +a -mx:mail.example.com/24//64 ~ip4:192.0.2.0/24 ?ip6:2001:db8::/32 include:_spf.example.net -all",
    "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
    "v=spf1 redirect=_spf.example.com exp=explain._spf.%{d}",
    "v=spf1 a:%{d2}.example.com/24 mx/30 ptr:%{ir}.in-addr.arpa ?all",
    "v=spf1 ip4:192.0.2.1/99999999999 -all",
    "v=spf1 ip6:2001:db8::/18446744073709551617 a//4294967296 -all",
    "v=spf1 %{s}%{o}%{h}%{c}%{r}%{t}%{p}%{v}%{i}%_%-%% -all",
    "v=spf1 unknown-mod=x include:%{l}.%{o} -all",
]
for i, s in enumerate(spf):
    put("spf", f"record{i}", s)

# ---- DMARC records.
dmarc = [
    "v=DMARC1; p=reject; rua=mailto:dmarc@example.com,mailto:r@example.net!10m; ruf=mailto:f@example.com; pct=50; adkim=s; aspf=r; fo=0:1:d:s; ri=3600; sp=quarantine; np=reject",
    "v=DMARC1; p=none",
    "v=DMARC1;p=quarantine;pct=101;adkim=x",
    "v=DMARC1; rua=http://example.com/report",
    "V=dmarc1; P=REJECT;;; unknown=1",
]
for i, s in enumerate(dmarc):
    put("dmarc", f"record{i}", s)

# ---- SMTP replies: first byte is the chunk size minus one.
smtp = [
    "220 mx.example.com ESMTP Postfix\r\n",
    "250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
    "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown in local recipient table\r\n",
    "554-5.7.1 first\r\n554-5.7.1 second\r\n554 5.7.1 third\r\n",
    "421 4.7.0 too many connections\n",
    "250-a\r\n251 mismatch\r\n",
]
for i, s in enumerate(smtp):
    put("smtp_reply", f"reply{i}", bytes([7 + i]) + s.encode())

# ---- MTA-STS policy responses: first byte is the chunk size minus one.
https = [
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 68\r\n\r\n"
    "version: STSv1\r\nmode: enforce\r\nmx: *.example.com\r\nmax_age: 604800\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nversion: STSv1\nm\r\n1b\r\node: testing\nmax_age: 864\r\n0\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 301 Moved\r\nLocation: https://a/\r\n\r\n",
    "HTTP/1.0 200 OK\n\nversion: STSv1\nmode: none\nmax_age: 1\nmx: mx.example.net\nextension: x\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n" + "x" * 2000,
]
for i, s in enumerate(https):
    put("https_policy", f"response{i}", bytes([3 + 11 * i]) + s.encode())

# ---- Content scanners' replies and endpoints.
scanner = [
    "SPAMD/1.1 0 EX_OK\r\nContent-length: 40\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE,MISSING_DATE,NO_RECEIVED",
    "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n",
    "stream: Win.Test.EICAR_HDB-1 FOUND\0",
    "INSTREAM size limit exceeded. ERROR\n",
    "[2001:db8::1]:3310",
]
for i, s in enumerate(scanner):
    put("scanner_reply", f"reply{i}", s)

# ---- Bounce texts: a spread of the corpus (every 12th text).
with open(os.path.join(ROOT, "tests", "corpus", "bounces.jsonl"), encoding="utf-8") as f:
    rows = [json.loads(line) for line in f if line.strip()]
for i, row in enumerate(rows[::12]):
    put("explain", f"text{i:03d}", row["text"])

# ---- Bounce messages.
msgs = {
    "dsn": "From: MAILER-DAEMON@mx.example\nSubject: Returned mail\nMIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\n\n--x\n"
    "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe, it failed.\n--x\n"
    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
    "Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1 (bad mailbox)\nRemote-MTA: dns; mx.example.com\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>:\n   Recipient address rejected: User unknown\n\n"
    "Final-Recipient: RFC822; <carol@example.net>\nAction: Delayed\nStatus: 4.4.1\n\n--x\n"
    "Content-Type: text/rfc822-headers\n\nReturn-Path: <alice@sender.example>\nFrom: Alice <alice@sender.example>\n\n--x--\n",
    "plain-base64": "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
    "NTUwIDUuMS4xIFVzZXIgdW5rbm93bgo=\n",
    "iso2022jp": b"Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\nContent-Type: text/plain; charset=ISO-2022-JP\n\n"
    b"\x1b$B%F%9%H\x1b(B 550 5.1.1 User unknown\n",
    "arf": "Content-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\nabuse\n--b\n"
    "Content-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\n\n--b--\n",
    "nested": "Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
    "Content-Type: message/rfc822\n\nSubject: inner\n\n550 5.7.1 rejected\n--b--\n--a--\n",
    "plain": "just a pasted line: 550 5.1.1 User unknown",
}
for k, v in msgs.items():
    put("bounce_message", k, v)

# ---- Names and addresses.
names = ["example.com", "Mail.Example.COM.", ".", "", "xn--bcher-kva.example", "bücher.example", "a..b", "-a.example",
         "192.0.2.1", "[2001:db8::1]", "::ffff:192.0.2.1", "192.0.2.0/24", "2001:db8::/129", "bob@example.com",
         "\"quoted local\"@example.com", "<bob@[192.0.2.1]>", "a" * 64 + ".example", "x@.", "a\0b.example"]
for i, s in enumerate(names):
    put("names", f"name{i:02d}", s)

# ---- Config files: first byte selects catalog (0), profile (1), reasons (2), lists (3).
cfg = {
    "catalog": (0, "[[entry]]\nid='x'\nreason='policy'\nseed=false\npattern='(?i)rejected'\nstage='rcpt'\nclass='permanent'\ncode=550\ncode_alt=[554]\n"),
    "catalog-bad-int": (0, "[[entry]]\nid='x'\nreason='policy'\nseed=false\npattern='a'\nstage='rcpt'\nclass='permanent'\ncode=4294967846\n"),
    "profile": (1, "name='p'\n[[check]]\nrestriction='reject_unknown_sender_domain'\nentry='recipient-unknown'\n"),
    "reasons": (2, "[[reason]]\nid='policy'\ntitle='t'\nexplanation='e'\nfix='f'\n[[status]]\ncode='X.7.1'\nreason='policy'\n[[reply]]\ncode=550\nreason='policy'\n[[phrase]]\nreason='policy'\npatterns=['denied']\n"),
    "lists": (3, "[[list]]\nid='z'\nname='Z'\nzone='zen.example'\nkind='ip'\ncodes=[{code='127.0.0.2', sublist='SBL', meaning='m'}]\n"),
}
for k, (b, v) in cfg.items():
    put("config", k, bytes([b]) + v.encode())
