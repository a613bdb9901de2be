#!/usr/bin/env python3
"""Validates OCSF JSON lines against the Detection Finding schema checked in with the tests.

tests/data/ocsf/detection_finding-1.1.0-cloud.schema.json is the JSON Schema of OCSF 1.1.0's
Detection Finding class (2004) with the cloud profile, generated from the OCSF 1.1.0 schema
export by the `ocsf-json-schema` package (see tests/data/ocsf/README.md).

Run: python tests/ocsf_check.py [--self-test] FILE...   (`-` reads standard input)
Every line must validate; exits non-zero and prints each error otherwise. With --self-test it
then breaks the first line in several ways and fails unless the schema rejects each one.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator

SCHEMA = Path(__file__).parent / "data/ocsf/detection_finding-1.1.0-cloud.schema.json"


def breakages(line: dict) -> list[tuple[str, dict]]:
    """Copies of a valid finding, each wrong in one way the schema must catch."""
    out = []
    for name, change in [
        ("no class_uid", lambda d: d.pop("class_uid")),
        ("no finding_info.uid", lambda d: d["finding_info"].pop("uid")),
        ("unknown severity_id", lambda d: d.update(severity_id=42)),
        ("type_uid of another class", lambda d: d.update(type_uid=200101)),
        ("time as text", lambda d: d.update(time="2026-11-28T10:20:00Z")),
        ("attribute not in the class", lambda d: d.update(alert_id="x")),
        ("no cloud provider", lambda d: d["cloud"].pop("provider")),
        ("no metadata.product", lambda d: d["metadata"].pop("product")),
    ]:
        broken = copy.deepcopy(line)
        change(broken)
        out.append((name, broken))
    return out


def main(argv: list[str]) -> int:
    self_test = "--self-test" in argv
    files = [a for a in argv if a != "--self-test"] or ["-"]
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    passed = failed = 0
    first = None
    for name in files:
        text = sys.stdin.read() if name == "-" else Path(name).read_text()
        for n, raw in enumerate(text.splitlines(), 1):
            line = json.loads(raw)
            first = first or line
            errors = list(validator.iter_errors(line))
            for e in errors:
                path = "/".join(str(p) for p in e.absolute_path)
                print(f"{name}:{n}: {path}: {e.message[:300]}")
            passed, failed = passed + (not errors), failed + bool(errors)
    if first is None:
        print("no OCSF lines to check")
        return 1
    if self_test:
        for what, broken in breakages(first):
            if validator.is_valid(broken):
                print(f"self-test: the schema accepted a finding with {what}")
                failed += 1
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
