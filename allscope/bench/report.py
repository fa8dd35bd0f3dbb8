"""Benchmark: time to save fields and to export a session's PDF report.

    python -m allscope.bench.report --fields 200 --runs 3

Builds a throw-away store of synthetic camera-sized fields (noisy, so PNGs are realistic in
size), then prints the median ``add_field`` time and the median PDF export time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from allscope.core.results import FieldResult
from allscope.core.store import SessionInfo, SessionStore

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def synthetic_field(
    rng: np.random.Generator, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    image = np.full((height, width, 3), (205, 185, 230), np.uint8)
    image = (image + rng.normal(0, 6, image.shape)).clip(0, 255).astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    yy, xx = np.ogrid[:height, :width]
    for _ in range(3):
        cy, cx, r = (
            rng.integers(60, height - 60),
            rng.integers(60, width - 60),
            rng.integers(25, 55),
        )
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        image[inside] = (150, 50, 120)
        mask[inside] = 255
    return image, mask


def build_store(
    root: Path, fields: int, height: int, width: int
) -> tuple[SessionStore, int, list[float]]:
    rng = np.random.default_rng(0)
    store = SessionStore(root)
    sid = store.create_session(
        SessionInfo(patient_id="bench", slide_id="bench", lab_name="Benchmark", threshold=0.7)
    )
    times = []
    for i in range(fields):
        image, mask = synthetic_field(rng, height, width)
        result = FieldResult(
            frame_id=i,
            timestamp=float(i),
            source="bench",
            name=f"field {i}",
            wbc_count=3,
            mask_coverage=float(mask.mean() / 255),
            assessable=True,
            classes=CLASSES,
            probabilities=(0.1, 0.2, 0.6, 0.1),
            label="Pre-B",
            p_all=0.9,
            flagged=True,
        )
        start = time.perf_counter()
        store.add_field(sid, "flag", image, mask, result)
        times.append(time.perf_counter() - start)
        store.record_result(sid, result)
    store.end_session(sid)
    return store, sid, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m allscope.bench.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--fields", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="1280x960", help="field size WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    from allscope.report.pdf import write_pdf
    from allscope.report.qt_app import ensure_gui_app

    ensure_gui_app()
    with tempfile.TemporaryDirectory() as tmp:
        store, sid, add_times = build_store(Path(tmp) / "store", args.fields, height, width)
        exports = []
        for _ in range(args.runs):
            start = time.perf_counter()
            path = write_pdf(store, sid, Path(tmp) / "report.pdf", overwrite=True)
            exports.append(time.perf_counter() - start)
        size_mb = path.stat().st_size / 1e6
        store.close()
    print(
        f"add_field ({width}x{height}): median {statistics.median(add_times) * 1e3:.1f} ms over "
        f"{len(add_times)}"
    )
    print(
        f"PDF export of {args.fields} fields: median {statistics.median(exports):.2f} s over "
        f"{args.runs} runs "
        f"({', '.join(f'{t:.2f}' for t in exports)} s), {size_mb:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
