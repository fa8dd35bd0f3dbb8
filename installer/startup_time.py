"""Measure start-up: process start to the first frame on screen, and ``--self-test`` wall time.

The app's ``--quit-after`` line reports ``seconds``, the time since its first frame was shown;
the moment the line arrives, less those seconds, is when the first frame was shown. Runs are
repeated: the first may be cold (``--drop-caches``, root only, flushes the page cache first),
the later ones are warm. Prints one JSON object. Examples, from the project root::

    python installer/startup_time.py dist/allscope/allscope --runs 3
    python installer/startup_time.py dist/allscope/allscope --drop-caches --runs 3
    python installer/startup_time.py ".venv/bin/python -m allscope" --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def drop_page_cache() -> None:
    """Flush dirty pages and drop the page cache, so the next start reads every file from disk."""
    subprocess.run(["sync"], check=True)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as exc:
        raise SystemExit(
            f"cannot drop the page cache ({exc}): run as root or leave out --drop-caches"
        ) from exc


def first_frame_s(command: list[str], quit_after: float, env: dict[str, str]) -> tuple[float, dict]:
    """Seconds from process start to the first frame shown, and the run's performance figures."""
    with tempfile.TemporaryDirectory(prefix="allscope-startup-") as settings:
        argv = [*command, "--demo", "--quit-after", str(quit_after), "--settings-dir", settings]
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                arrived = time.perf_counter()
                metrics = json.loads(line)
                break
        else:
            raise SystemExit(
                f"{shlex.join(argv)} exited with {proc.wait()} before printing its figures"
            )
        proc.wait()
    if metrics["seconds"] <= 0:
        raise SystemExit(f"{shlex.join(argv)} showed no frame in {quit_after} s")
    return arrived - start - metrics["seconds"], metrics


def self_test_s(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of ``--self-test``; exits with its message when it fails."""
    start = time.perf_counter()
    done = subprocess.run([*command, "--self-test"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"--self-test failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command",
        help='the app to start, e.g. dist/allscope/allscope or ".venv/bin/python -m allscope"',
    )
    parser.add_argument("--runs", type=int, default=3, help="starts of each kind (default 3)")
    parser.add_argument(
        "--quit-after", type=float, default=4.0, help="seconds each GUI run lasts (default 4)"
    )
    parser.add_argument(
        "--drop-caches", action="store_true", help="make each kind's first run cold (root only)"
    )
    args = parser.parse_args()
    command = shlex.split(args.command)
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    results: dict[str, object] = {"command": args.command, "cold_first_run": args.drop_caches}
    if args.drop_caches:
        drop_page_cache()
    frames = [first_frame_s(command, args.quit_after, env)[0] for _ in range(args.runs)]
    if args.drop_caches:
        drop_page_cache()
    tests = [self_test_s(command, env) for _ in range(args.runs)]
    results |= {
        "first_frame_s": [round(s, 2) for s in frames],
        "self_test_s": [round(s, 2) for s in tests],
        "first_frame_warm_median_s": round(statistics.median(frames[1:] or frames), 2),
        "self_test_warm_median_s": round(statistics.median(tests[1:] or tests), 2),
    }
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
