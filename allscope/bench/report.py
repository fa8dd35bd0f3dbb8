"""Benchmark: time to save fields and to export a session's PDF report.

    python -m allscope.bench.report --fields 200 --runs 3

Builds a throw-away store of the benchmarks' synthetic fields (noisy, so PNGs are realistic
in size), then prints the median ``add_field`` time and the median PDF export time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from allscope.bench.synthetic import synthetic_field
from allscope.bench.timing import time_ms
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.results import FieldResult
from allscope.core.store import SessionInfo, SessionStore

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def field_and_mask(width: int, height: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The benchmarks' synthetic field and its WBC mask, as a flag would store them."""
    image = synthetic_field(width, height, seed=seed)
    return image, lab_kmeans_mask(image).mask


def build_store(
    root: Path, fields: int, height: int, width: int
) -> tuple[SessionStore, int, list[float]]:
    """A store with one ended session of ``fields`` flagged fields; the ms each add_field took."""
    store = SessionStore(root)
    sid = store.create_session(
        SessionInfo(patient_id="bench", slide_id="bench", lab_name="Benchmark", threshold=0.7)
    )
    numbers = iter(range(fields))

    def add_next() -> None:
        i = next(numbers)
        image, mask = field_and_mask(width, height, seed=i)
        result = FieldResult(
            frame_id=i, timestamp=float(i), source="bench", name=f"field {i}", wbc_count=3,
            mask_coverage=float(mask.mean() / 255), assessable=True, classes=CLASSES,
            probabilities=(0.1, 0.2, 0.6, 0.1), label="Pre-B", p_all=0.9, flagged=True,
        )
        store.add_field(sid, "flag", image, mask, result)
        store.record_result(sid, result)

    times = time_ms(add_next, fields, warm_up=False)
    store.end_session(sid)
    return store, sid, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m allscope.bench.report", description=(__doc__ or "").splitlines()[0]
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
        target = Path(tmp) / "report.pdf"
        export = partial(write_pdf, store, sid, target, overwrite=True)
        exports = [ms / 1e3 for ms in time_ms(export, args.runs, warm_up=False)]
        size_mb = target.stat().st_size / 1e6
        store.close()
    print(
        f"add_field ({width}x{height}): median {statistics.median(add_times):.1f} ms over "
        f"{len(add_times)}"
    )
    print(
        f"PDF export of {args.fields} fields: median {statistics.median(exports):.2f} s over "
        f"{args.runs} runs ({', '.join(f'{t:.2f}' for t in exports)} s), {size_mb:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
