"""Print every skipped test with its reason; fail if a skip is not on the allowed list.

    python .ci/skip_audit.py REPORT.xml [REPORT.xml ...] --allow 'ID_GLOB|REASON_GLOB|why' ...

Reads pytest's JUnit XML reports. A skip is allowed only when both its test id (file::name)
and its reason match one entry of ``--allow``; any other skip means a declared part of the
product went untested, and the audit exits 1. A strict ``xfail`` is not a skip: the test ran
and failed as its marker says (a known gap, stated in the test); JUnit files it under
``skipped`` with type ``pytest.xfail``, and it is listed apart.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
import xml.etree.ElementTree as ET


def skipped_tests(report: str, xfail: bool = False) -> list[tuple[str, str]]:
    """(test id, reason) of every skipped test case in one JUnit XML report (``xfail``: of
    every expected failure instead)."""
    found = []
    for case in ET.parse(report).getroot().iter("testcase"):
        skip = case.find("skipped")
        if skip is None or (skip.get("type") == "pytest.xfail") != xfail:
            continue
        path = case.get("classname", "").replace(".", "/")
        test_id = f"{path}.py::{case.get('name', '')}"
        found.append((test_id, (skip.get("message") or skip.text or "").strip()))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+")
    parser.add_argument("--allow", action="append", default=[], help="ID_GLOB|REASON_GLOB|why")
    args = parser.parse_args(argv)
    allowed = [entry.split("|", 2) for entry in args.allow]
    skips = [skip for report in args.reports for skip in skipped_tests(report)]
    gaps = [gap for report in args.reports for gap in skipped_tests(report, xfail=True)]
    print(f"expected failures (known gaps; these tests ran): {len(gaps)}")
    for test_id, reason in gaps:
        print(f"  {test_id}: {reason}")
    unexpected = []
    print(f"skipped tests: {len(skips)}")
    for test_id, reason in skips:
        ok = any(fnmatch.fnmatch(test_id, i) and fnmatch.fnmatch(reason, r) for i, r, _ in allowed)
        print(f"  {'allowed' if ok else 'NOT ALLOWED'}: {test_id}: {reason}")
        if not ok:
            unexpected.append(test_id)
    if unexpected:
        print(f"{len(unexpected)} skip(s) not allowed by .ci/run: fix the set-up or the test.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
