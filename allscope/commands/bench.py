"""``allscope bench``: per-stage timings at three frame sizes and a live-pipeline run.

Everything is timed in this one process, side by side, and reported as medians and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import cv2

from allscope.bench.cells import (
    analyze_rates,
    cell_stage_timings,
    model_sizes,
    side_by_side,
    varying_fields,
)
from allscope.bench.timing import summary, time_ms
from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier, prepare_field
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.model_loading import (
    has_cell_package,
    has_model_package,
    load_cell_classifier,
    load_classifier,
)
from allscope.core.model_package import InputSpec, write_package
from allscope.paths import shared_weights_dir

SIZES = ((224, 224), (640, 480), (1920, 1080))
SHARED_WEIGHTS = shared_weights_dir()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document instead of a table"
    )
    parser.add_argument(
        "--model", type=Path, help="model package to time (default: the shipped one)"
    )
    parser.add_argument("--repeats", type=int, default=50, help="repeats per stage and size")
    parser.add_argument(
        "--live-frames", type=int, default=10000, help="frames for the live run (0 skips it)"
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the slow reference mask pipeline"
    )
    parser.add_argument(
        "--cell-model", type=Path, help="cell package to time (default: models/cells, else a "
        "tiny stand-in)"
    )
    parser.add_argument("--no-cells", action="store_true", help="skip the cell stages")
    parser.add_argument(
        "--analyze", type=Path, metavar="DIR",
        help="also time batch analysis of DIR, fields per second with and without cells",
    )


def bench_model(path: Path | None) -> tuple[Classifier, str]:
    """The package to time: given, shipped, or the ImageNet MobileNetV2 from ../shared as a
    stand-in."""
    if path is not None or has_model_package():
        classifier = load_classifier(path)
        return classifier, classifier.package.describe()
    tflite = SHARED_WEIGHTS / "tf2_mobilenet_v2_1.0_224_ptq.tflite"
    if not tflite.is_file():
        from allscope.testing import write_tiny_package
        package = write_tiny_package(tempfile.mkdtemp(prefix="allscope-bench-"))
        stand_in = "tiny test model (no trained model and no ../shared weights)"
        return load_classifier(package.path), stand_in
    import openvino as ov

    meta = {
        "name": "mobilenetv2-imagenet",
        "version": "tflite",
        "architecture": "MobileNetV2 (ImageNet, int8 TFLite)",
        "classes": [f"class {i}" for i in range(1001)],
        "benign_class": "class 0",
        "input": InputSpec(color_order="RGB", layout="NHWC", std=(1.0, 1.0, 1.0)),
        "output": "probabilities",
    }
    package = write_package(
        tempfile.mkdtemp(prefix="allscope-bench-"), ov.Core().read_model(str(tflite)), meta
    )
    return load_classifier(package.path), (
        "ImageNet MobileNetV2 int8 TFLite (timing stand-in; no trained model)"
    )


def stage_timings(classifier: Classifier, repeats: int, reference: bool) -> dict:
    from allscope.core.sources.demo.slide import render_field

    out: dict = {"decode": {}, "mask": {}, "preprocess": {}, "infer": {}, "total": {}}
    if reference:
        out["reference_mask"] = {}
    for width, height in SIZES:
        key = f"{width}x{height}"
        bgr = render_field(width, height, seed=7, n_wbc=max(1, width * height // 200_000))[0]
        jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])[1]
        decode = time_ms(partial(cv2.imdecode, jpeg, cv2.IMREAD_COLOR), repeats)
        mask = time_ms(partial(lab_kmeans_mask, bgr), repeats)
        result = lab_kmeans_mask(bgr)
        pre = time_ms(partial(prepare_field, bgr, result, classifier.spec), repeats)
        tensor = prepare_field(bgr, result, classifier.spec)
        infer = time_ms(partial(classifier.predict, tensor), repeats)
        total = [sum(parts) for parts in zip(decode, mask, pre, infer, strict=False)]
        for name, samples in (
            ("decode", decode), ("mask", mask), ("preprocess", pre), ("infer", infer),
            ("total", total),
        ):
            out[name][key] = summary(samples)
        if reference:
            from threadpoolctl import threadpool_limits

            from allscope.evaluation.reference_mask import reference_mask
            ref_repeats = max(3, repeats // 10) if width > 1000 else max(5, repeats // 5)
            with threadpool_limits(
                1
            ):  # one core, like the mask above; scikit-learn's default single start
                out["reference_mask"][key] = summary(
                    time_ms(partial(reference_mask, bgr, n_init=1), ref_repeats)
                )
            out["reference_mask"][key]["ratio"] = round(
                out["reference_mask"][key]["median_ms"] / max(out["mask"][key]["median_ms"], 1e-6),
                1,
            )
    return out


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_cell_model(path: Path | None) -> tuple[CellClassifier, str]:
    """The cell package to time: given, shipped, or a tiny stand-in (said so)."""
    if path is not None or has_cell_package():
        cells = load_cell_classifier(path)
        return cells, cells.package.describe()
    from allscope.testing import write_tiny_cells_package

    package = write_tiny_cells_package(tempfile.mkdtemp(prefix="allscope-bench-cells-"))
    return load_cell_classifier(package.path), "tiny test cell model (no models/cells)"


def live_run(classifier: Classifier, frames: int, warmup: int = 150,
             cells: CellClassifier | None = None) -> dict:
    """The live pipeline on a paced 1920×1080 30 fps synthetic slide for ``frames`` frames.

    RSS is taken after ``warmup`` frames (slide canvas rendered, inference requests allocated)
    and again after the ``frames`` that follow; rates count those frames only.
    """
    from allscope.core.pipeline import Pipeline
    from allscope.core.sources.demo.source import DemoSlideSource

    source = DemoSlideSource(width=1920, height=1080, fps=30, seed=0)
    pipeline = Pipeline(source, classifier, cell_classifier=cells)
    pipeline.start()
    wait_for_captured(pipeline, warmup)
    base = pipeline.stats()
    rss_start = rss_mb()
    started = time.monotonic()
    wait_for_captured(pipeline, warmup + frames)
    elapsed = time.monotonic() - started
    st = pipeline.stats()
    rss_end = rss_mb()
    pipeline.stop()
    return {
        "frames": st.captured - base.captured,
        "seconds": round(elapsed, 1),
        "fps": round((st.processed - base.processed) / elapsed, 2),
        "capture_fps": round((st.captured - base.captured) / elapsed, 2),
        "classified_per_s": round((st.classified - base.classified) / elapsed, 2),
        "latency_p50_ms": round(st.latency_p50_ms, 1),
        "latency_p95_ms": round(st.latency_p95_ms, 1),
        "dropped": st.dropped - base.dropped,
        "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1),
        "cells_judged_per_s": round((st.cells_judged - base.cells_judged) / elapsed, 1),
        "cells_per_classified_field": round(
            (st.cells_judged - base.cells_judged) / max(st.classified - base.classified, 1), 2
        ),
    }


def wait_for_captured(pipeline, count: int) -> None:
    while pipeline.stats().captured < count and pipeline.running:
        time.sleep(0.05)


def run(args: argparse.Namespace) -> int:
    classifier, described = bench_model(args.model)
    reference = not args.no_reference
    if reference:
        try:
            import scipy  # noqa: F401 - only checks that the test extra is installed
            import skimage  # noqa: F401
            import sklearn  # noqa: F401
        except ImportError:
            print(
                "reference mask pipeline skipped: install the test extra (pip install -e "
                "'.[test]')",
                file=sys.stderr,
            )
            reference = False
    cv2.setNumThreads(1)
    document = {
        "model": described,
        "cpu": cpu_name(),
        **stage_timings(classifier, args.repeats, reference),
    }
    cells = None
    if not args.no_cells:
        cells, cells_described = bench_cell_model(args.cell_model)
        document["cell_model"] = cells_described
        document["cells"] = cell_stage_timings(cells, args.repeats)
        document["cells_side_by_side"] = side_by_side(document)
        document["cell_model_sizes"] = model_sizes(cells, args.repeats)
        document["cell_batches_varying"] = varying_fields(cells, args.repeats)
    cv2.setNumThreads(-1)
    if args.live_frames:
        document["live"] = live_run(load_classifier(classifier.package.path), args.live_frames)
        if cells is not None:  # the same run with every cell of each classified field judged
            document["live_cells"] = live_run(
                load_classifier(classifier.package.path), args.live_frames, cells=cells
            )
    if args.analyze and cells is not None:
        batch = load_classifier(classifier.package.path, mode="throughput")
        document["analyze"] = analyze_rates(args.analyze, batch, cells)
    if args.json:
        print(json.dumps(document))
    else:
        print_table(document)
    return 0


def cpu_name() -> str:
    import openvino as ov
    return ov.Core().get_property("CPU", "FULL_DEVICE_NAME")


def print_table(document: dict) -> None:
    print(f"model: {document['model']}\ncpu: {document['cpu']}")
    stages = [
        s
        for s in ("decode", "mask", "reference_mask", "preprocess", "infer", "total")
        if s in document
    ]
    print(f"{'stage':<16}" + "".join(f"{f'{w}x{h}':>22}" for w, h in SIZES))
    for stage in stages:
        cells = [document[stage][f"{w}x{h}"] for w, h in SIZES]
        print(
            f"{stage:<16}"
            + "".join(f"{c['median_ms']:>10.2f} (p95 {c['p95_ms']:>6.2f})" for c in cells)
        )
    for size, entry in document.get("cells", {}).items():
        parts = ", ".join(f"{k} {entry[k]['per_field']['median_ms']:.2f} ms/field "
                          f"({entry[k]['per_cell_median_ms']:.3f} ms/cell)"
                          for k in ("detect", "crop", "classify", "total"))
        print(f"cells {size} ({entry['cells']} cells): {parts}")
    for key in ("cells_side_by_side", "cell_model_sizes", "cell_batches_varying"):
        if key in document:
            print(f"{key}:", json.dumps(document[key]))
    for key in ("live", "live_cells", "analyze"):
        if key in document:
            print(f"{key}:", json.dumps(document[key]))
