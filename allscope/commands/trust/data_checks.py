"""The measurements behind ``allscope trust``; each returns a JSON-ready report naming its data."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from allscope.core.colour.target import COLOUR_TARGET_PATH, target_from_fields
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.motion import MotionDetector
from allscope.core.quality import QualityGate, QualitySettings

PERCENTILES = (0.5, 1, 5, 50, 95, 99.5)
CLASS_FOLDERS = ("Benign", "Early", "Pre", "Pro")


def images(folder: Path, every: int = 1) -> Iterator[tuple[Path, np.ndarray]]:
    for path in sorted(folder.glob("*.jpg"))[::every]:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            yield path, image


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    return {f"p{p:g}": round(float(np.percentile(values, p)), 4) for p in PERCENTILES} | {
        "n": len(values)
    }


def colour_target(args: argparse.Namespace) -> dict:
    root = args.data / "all-fields"
    groups = {name: [image for _, image in images(root / name)] for name in CLASS_FOLDERS}
    target = target_from_fields(
        groups,
        "B-ALL training fields (all-fields, 4 classes weighted equally, scale-bar corner excluded)",
    )
    out = args.out or COLOUR_TARGET_PATH
    import json
    out.write_text(json.dumps(target.to_dict(), indent=2) + "\n", encoding="utf-8")
    return {"written": str(out), **target.to_dict()}


def gate_measures(pairs) -> dict:
    """Percentiles of every quality measure over (image, mask) pairs, each judged on its own."""
    values: dict[str, list[float]] = {
        k: [] for k in ("sharpness", "highlights", "shadows", "background")
    }
    failures: dict[str, int] = {}
    count = 0
    for image, mask in pairs:
        gate = QualityGate()
        measures = gate.measure(image, mask)
        for key in values:
            value = getattr(measures, key)
            if value is not None:
                values[key].append(value)
        for reason in gate.judge(measures)[1]:
            failures[reason] = failures.get(reason, 0) + 1
        count += 1
    return {"fields": count, "rejected_by_default_gate": failures,
            **{key: percentiles(v) for key, v in values.items()}}


def demo_pairs(blur: float, count: int = 20):
    from allscope.core.sources.demo.slide import render_field
    for seed in range(count):
        image, _, _ = render_field(960, 540, seed=seed, n_wbc=3, blur=blur)
        yield image, lab_kmeans_mask(image)


def calibrate_gate(args: argparse.Namespace) -> dict:
    """Quality measures on each data set; the focus threshold is suggested just under the
    0.5th percentile of the training fields so that the gate costs the model almost nothing."""
    every = args.every
    report = {"defaults": QualitySettings().to_dict()}
    for name in CLASS_FOLDERS:
        folder = args.data / "all-fields" / name
        report[f"all-fields/{name}"] = gate_measures(
            (im, lab_kmeans_mask(im)) for _, im in images(folder, every)
        )
    report["bccd"] = gate_measures(
        (im, lab_kmeans_mask(im)) for _, im in images(args.data / "bccd" / "JPEGImages", every)
    )
    for blur in (0.0, 2.0, 4.0, 8.0):
        report[f"demo 960x540 blur {blur:g}px"] = gate_measures(demo_pairs(blur))
    training = [report[f"all-fields/{n}"]["sharpness"]["p0.5"] for n in CLASS_FOLDERS]
    report["suggested"] = {
        "min_sharpness": float(np.floor(min(training) * 100) / 100),
        "note": "floor of the lowest per-class 0.5th percentile of all-fields sharpness",
    }
    return report


def cost(args: argparse.Namespace) -> dict:
    """Added ms per 1920×1080 frame: gate and normaliser timed side by side in this process."""
    from allscope.core.colour.calibration import ColourNormalizer
    from allscope.core.sources.demo.slide import render_field

    cv2.setNumThreads(args.threads)
    frames = [render_field(1920, 1080, seed=s, n_wbc=4)[0] for s in range(4)]
    masks = [lab_kmeans_mask(f) for f in frames]
    gate, motion = QualityGate(), MotionDetector()
    normalisers = {m: ColourNormalizer(mode=m) for m in ("white", "reinhard")}
    samples: dict[str, list[float]] = {"gate": [], **{f"normalise_{m}": [] for m in normalisers}}
    for i in range(args.repeats):
        frame, mask = frames[i % 4], masks[i % 4]
        for mode, normaliser in normalisers.items():
            t0 = time.perf_counter()
            normaliser(frame)
            samples[f"normalise_{mode}"].append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        gate.judge(gate.measure(frame, mask, motion(frame)))  # the gate with its motion measure
        samples["gate"].append((time.perf_counter() - t0) * 1e3)
    cv2.setNumThreads(-1)
    for mode in normalisers:
        samples[f"gate+normalise_{mode}"] = list(
            np.add(samples["gate"], samples[f"normalise_{mode}"])
        )
    stats = {
        k: {
            "median_ms": round(float(np.median(v)), 3),
            "p95_ms": round(float(np.percentile(v, 95)), 3),
            "min_ms": round(float(np.min(v)), 3),
        }
        for k, v in samples.items()
    }
    return {
        "frame": "1920x1080 demo slide",
        "opencv_threads": args.threads,
        "repeats": args.repeats,
        "note": "normaliser refits every 15 frames (included); min is the uncontended cost",
        **stats,
    }
