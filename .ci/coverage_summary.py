"""Line and branch coverage of allscope/ per package, from the .coverage file pytest-cov wrote.

    python .ci/coverage_summary.py [--json build/ci/coverage.json]

Prints one row per package (allscope/core/, allscope/app/, ...) and the total: statements
covered / statements, branches covered / branches. Subprocesses (the CLI run as a command) are
not measured, so the figure is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

FIELDS = ("num_statements", "covered_lines", "num_branches", "covered_branches")


def package_of(path: str) -> str:
    parts = Path(path).parts
    start = parts.index("allscope")
    rest = parts[start + 1 :]
    return f"allscope/{rest[0]}/" if len(rest) > 1 else "allscope/ (top level)"


def per_package(report: dict) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for path, data in report["files"].items():
        for key in FIELDS:
            totals[package_of(path)][key] += data["summary"][key]
            totals["total"][key] += data["summary"][key]
    return dict(totals)


def figure(done: int, total: int) -> str:
    """``93.1% (540/580)``, or a dash when there is nothing to cover."""
    return f"{100 * done / total:5.1f}% ({done}/{total})" if total else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="build/ci/coverage.json")
    args = parser.parse_args(argv)
    subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", args.json], check=True)
    rows = per_package(json.loads(Path(args.json).read_text(encoding="utf-8")))
    print(f"{'package':28} {'lines':>22} {'branches':>22}")
    for name in sorted(rows, key=lambda n: (n == "total", n)):
        r = rows[name]
        lines = figure(r["covered_lines"], r["num_statements"])
        branches = figure(r["covered_branches"], r["num_branches"])
        print(f"{name:28} {lines:>22} {branches:>22}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
