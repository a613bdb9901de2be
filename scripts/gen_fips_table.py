#!/usr/bin/env python3
"""Generates src/detectors/fips_hosts.txt, the FIPS endpoint table of the fips-endpoint detector.

Reads the reference data kept beside the repository (../shared/reference by default):
  fips-endpoints.json                    AWS SDK endpoint tables (botocore endpoints.json)
  ruleset-nonfips-named-fips-hosts.json  GovCloud hosts the endpoint rule sets return with FIPS on

Writes only what the detector cannot derive by construction (`{service}-fips` / `fips.{service}`
names are FIPS by construction):
  suffix DNS         DNS suffix of an AWS partition (plain and dual-stack)
  fips HOST          a FIPS endpoint whose name carries no "fips" marker (e.g. GovCloud sts)
  std HOST           a standard host whose FIPS endpoint is the default form (first label + "-fips")
  std HOST FIPSHOST  a standard host and its FIPS endpoint, any other form

Usage: python3 scripts/gen_fips_table.py [REFERENCE_DIR] [OUTPUT]
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
OUTPUT = ROOT / "src" / "detectors" / "fips_hosts.txt"


def malformed_hosts(data):
    """Hosts the reference itself flags as defects of the source (dataIssues)."""
    return {m for issue in data.get("dataIssues", []) for m in re.findall(r'"([^"]+)"', issue)}


def has_marker(host):
    """The naming forms the detector treats as FIPS by construction."""
    return re.search(r"(^|[.-])fips([.-]|$)", host) is not None


def main():
    ref = Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUTPUT
    endpoints = json.loads((ref / "fips-endpoints.json").read_text())
    ruleset = json.loads((ref / "ruleset-nonfips-named-fips-hosts.json").read_text())
    bad = malformed_hosts(endpoints)

    fips = set()
    for part in endpoints["partitions"].values():
        for eps in part.get("services", {}).values():
            for entry in eps.values():
                fips.update(h for h in entry.get("fips", []) if h not in bad)
    fips.update(h["host"] for h in ruleset["hosts"] if h["host"] not in bad)

    std = {}
    for part in endpoints["partitions"].values():
        for eps in part.get("services", {}).values():
            for entry in eps.values():
                host, variants = entry.get("hostname"), entry.get("fips") or []
                plain = [v for v in variants if v not in bad]
                if not host or host in fips or not plain or "pseudoRegionFor" in entry:
                    continue
                std.setdefault(host, plain[0])

    lines = [
        "# FIPS endpoint table of the fips-endpoint detector. Generated, do not edit:",
        "#   python3 scripts/gen_fips_table.py",
        f"# from {endpoints['source']}",
        f"# and {ruleset['source']}.",
        "# suffix DNS: DNS suffix of an AWS partition.",
        "# fips HOST: FIPS endpoint without a \"fips\" marker in its name.",
        "# std HOST [FIPSHOST]: standard host and its FIPS endpoint (absent: first label + \"-fips\").",
    ]
    suffixes = set()
    for part in endpoints["partitions"].values():
        suffixes.update(s for s in (part.get("dnsSuffix"), part.get("dualstackDnsSuffix")) if s)
    lines += [f"suffix {s}" for s in sorted(suffixes)]
    lines += [f"fips {h}" for h in sorted(h for h in fips if not has_marker(h))]
    for host in sorted(std):
        first, rest = host.split(".", 1)
        target = std[host]
        if target == f"{first}-fips.{rest}":
            lines.append(f"std {host}")
        else:
            lines.append(f"std {host} {target}")
    out.write_text("\n".join(lines) + "\n")
    print(f"{out.name}: {len(lines)} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
