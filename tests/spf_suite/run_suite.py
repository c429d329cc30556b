#!/usr/bin/env python3
"""Runs the official RFC 7208 SPF test suite through `bounceprobe spf`.

Each scenario's zone data is served, exactly as written, by tests' own
zone_server on a loopback port; every case runs the real binary against it
and its JSON result is compared with the suite's expected result (and the
explanation, where the suite gives one). Cases listed in known-failures.txt
are reported with their reason; any other failure, or a listed case that now
passes, fails the run.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

import yaml


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zone_json(zonedata):
    out = {}
    for name, records in (zonedata or {}).items():
        rows = []
        for r in records or []:
            if isinstance(r, str):
                rows.append({"type": r})
                continue
            for rtype, data in r.items():
                if rtype in ("TXT", "SPF") and isinstance(data, str):
                    data = [data]
                rows.append({"type": rtype, "data": data})
        out[name] = rows
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--bounceprobe", required=True)
    ap.add_argument("--zone-server", required=True)
    ap.add_argument("--known", default=os.path.join(os.path.dirname(__file__), "known-failures.txt"))
    ap.add_argument("--only", help="run only this case")
    args = ap.parse_args()

    known = {}
    if os.path.exists(args.known):
        for line in open(args.known, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition(" ")
                known[name] = why.strip()

    with open(args.suite, "rb") as f:
        docs = list(yaml.safe_load_all(f.read()))
    passed, failed, known_failed, fixed = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, doc in enumerate(docs):
            zpath = os.path.join(tmp, f"zone{i}.json")
            with open(zpath, "w") as zf:
                json.dump(zone_json(doc.get("zonedata")), zf)
            port = free_port()
            server = subprocess.Popen([args.zone_server, "127.0.0.1", str(port), zpath],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                if server.stdout.readline().strip() != "ready":
                    print(f"zone server did not start for '{doc['description']}'")
                    return 2
                for name, t in doc["tests"].items():
                    if args.only and name != args.only:
                        continue
                    want = t["result"] if isinstance(t["result"], list) else [t["result"]]
                    cmd = [args.bounceprobe, "spf", "--json", "--resolver", f"127.0.0.1:{port}", "--timeout", "300",
                           "--tries", "1", "--ip", t["host"], "--sender", t.get("mailfrom", ""), "--helo", t.get("helo", "")]
                    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
                    try:
                        got = json.loads(p.stdout)
                    except ValueError:
                        got = {"result": f"(exit {p.returncode}: {p.stderr.strip()})", "explanation": ""}
                    ok = got["result"] in want
                    if ok and "explanation" in t and got["result"] == "fail":
                        # The suite's "DEFAULT" is its drivers' default text; ours is an empty
                        # explanation (no exp= text), the default lives in "reason".
                        want_exp = "" if t["explanation"] == "DEFAULT" else t["explanation"]
                        ok = got.get("explanation", "") == want_exp
                    label = f"{name} [{doc['description']}]"
                    if ok:
                        passed.append(name)
                        if name in known:
                            fixed.append(name)
                    elif name in known:
                        known_failed.append((name, known[name]))
                    else:
                        failed.append((label, want, got.get("result"), t.get("explanation"), got.get("explanation"),
                                       got.get("reason")))
            finally:
                server.kill()
                server.wait()

    for label, want, got, want_exp, got_exp, reason in failed:
        print(f"FAIL {label}: want {'|'.join(want)}, got {got}"
              + (f"; explanation want {want_exp!r} got {got_exp!r}" if want_exp is not None else "")
              + (f"; reason: {reason}" if reason else ""))
    for name, why in known_failed:
        print(f"known failure {name}: {why}")
    for name in fixed:
        print(f"FIXED {name} now passes: remove it from known-failures.txt")
    total = len(passed) + len(failed) + len(known_failed)
    print(f"rfc7208 suite: {len(passed)} of {total} cases pass")
    print(f"{len(passed)} passed, {len(failed) + len(known_failed)} failed")
    return 1 if failed or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
