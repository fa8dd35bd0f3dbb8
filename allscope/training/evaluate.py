"""Evaluation of a checkpoint or an exported package on the held-out blocks, plus robustness.

Fields go through the live application's preparation (core mask when the model expects masked
fields, centre square, resize), then a *scorer* turns prepared uint8 BGR fields into logits.
Temperature and the flag threshold are fitted on validation only; test is reported, never tuned on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from allscope.training.augment import blank_corner, camera_shift
from allscope.training.data import BENIGN_CLASS, CLASSES, FieldStore, read_split
from allscope.training.metrics import (
    binary_report,
    classification_report,
    fit_temperature,
    sensitivity_threshold,
    softmax,
)

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, H, W, 3) uint8 BGR → (N, classes) logits
SENSITIVITY_TARGET = 0.995
THRESHOLD_RULE = (
    "largest P(ALL) threshold, capped at 0.5, that keeps ALL sensitivity ≥ 99.5% on the "
    "validation blocks (temperature-scaled probabilities)"
)


def prepare(frame_bgr: np.ndarray, masked: bool, size: int = 224) -> np.ndarray:
    """What the live app feeds the model: masked field if asked, centre square, resized."""
    if masked:
        from allscope.core.mask.lab_kmeans import lab_kmeans_mask

        frame_bgr = lab_kmeans_mask(frame_bgr).masked
    h, w = frame_bgr.shape[:2]
    side = min(h, w)
    square = frame_bgr[
        (h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side
    ]
    if square.shape[:2] == (size, size):
        return np.ascontiguousarray(square)
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)


def torch_scorer(
    checkpoint: str | Path, device: str = "cpu", batch: int = 64
) -> tuple[Scorer, dict]:
    """A scorer for a training checkpoint, and the checkpoint's config."""
    import torch

    from allscope.training.train import load_checkpoint, to_tensor

    model, ckpt = load_checkpoint(checkpoint, device)

    def score(images: np.ndarray) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, len(images), batch):
                out.append(model(to_tensor(images[i : i + batch]).to(device)).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(CLASSES)))

    return score, ckpt["config"]


def package_scorer(
    path: str | Path, inference_precision: str | None = None
) -> tuple[Scorer, Any]:
    """A scorer for an exported model package (through the core's OpenVINO classifier)."""
    from allscope.core.classifier import Classifier

    classifier = Classifier(path, mode="throughput", inference_precision=inference_precision)

    def score(images: np.ndarray) -> np.ndarray:
        return (
            np.stack([classifier.predict_detailed(im).scores for im in images])
            if len(images)
            else np.zeros((0, 4))
        )

    return score, classifier.package


def bccd_frames(directory: str | Path) -> list[np.ndarray]:
    files = sorted(Path(directory).glob("*.jpg"))
    if not files:
        raise FileNotFoundError(f"{directory}: no BCCD .jpg fields found.")
    frames = []
    for f in files:
        image = cv2.imread(str(f), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{f}: not a readable image; remove or replace it.")
        frames.append(image)
    return frames


def evaluate(score: Scorer, store: FieldStore, split_path: str | Path, masked: bool,
             bccd_dir: str | Path | None = None, temperature: float | None = None,
             threshold: float | None = None, size: int = 224) -> dict:
    """The full report. ``temperature``/``threshold`` default to values fitted on validation."""
    split = read_split(split_path)
    benign = CLASSES.index(BENIGN_CLASS)
    raw = {part: store.read_many(split[part]) for part in ("val", "test")}
    labels = {part: np.array([s.label for s in split[part]]) for part in ("val", "test")}
    logits = {part: score(np.stack([prepare(f, masked, size) for f in raw[part]])) for part in raw}
    fitted_t = fit_temperature(logits["val"], labels["val"])
    temperature = fitted_t if temperature is None else temperature
    p_val = 1 - softmax(logits["val"], temperature)[:, benign]
    chosen = sensitivity_threshold(p_val, labels["val"] != benign, SENSITIVITY_TARGET)
    threshold = chosen if threshold is None else threshold
    report: dict[str, Any] = {
        "temperature": temperature,
        "temperature_fitted_on_val": fitted_t,
        "threshold": threshold,
        "threshold_chosen_on_val": chosen,
        "threshold_rule": THRESHOLD_RULE,
        "masked_input": masked,
    }
    for part in ("val", "test"):
        report[part] = classification_report(
            logits[part], labels[part], list(CLASSES), benign, temperature, threshold
        )
    report["robustness"] = robustness(
        score, raw["test"], labels["test"], masked, temperature, threshold,
        report["test"]["accuracy"], "test", size,
    )
    if bccd_dir is not None:
        report["robustness"]["bccd"] = bccd_flag_rate(
            score, bccd_dir, masked, temperature, threshold, size
        )
    return report


def robustness(
    score: Scorer, fields: np.ndarray, labels: np.ndarray, masked: bool, temperature: float,
    threshold: float, plain: float, part: str, size: int = 224,
) -> dict:
    """Accuracy with the scale-bar corner blanked and under three camera/stain shifts."""
    benign = CLASSES.index(BENIGN_CLASS)
    out = {}
    variants: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "corner_blanked": blank_corner,
        **{f"camera_shift_{v}": partial(camera_shift, variant=v) for v in range(3)},
    }
    for name, perturb in variants.items():
        logits = score(np.stack([prepare(perturb(f), masked, size) for f in fields]))
        accuracy = float((logits.argmax(1) == labels).mean())
        binary = binary_report(
            1 - softmax(logits, temperature)[:, benign], labels != benign, threshold
        )
        out[name] = {"split": part, "accuracy": accuracy, "delta_pt": 100 * (accuracy - plain),
                     "sensitivity": binary["sensitivity"], "specificity": binary["specificity"]}
    shifts = [out[f"camera_shift_{v}"]["accuracy"] for v in range(3)]
    out["camera_shift_mean"] = {
        "split": part,
        "accuracy": float(np.mean(shifts)),
        "delta_pt": 100 * (np.mean(shifts) - plain),
    }
    return out


def bccd_flag_rate(
    score: Scorer, directory: str | Path, masked: bool, temperature: float, threshold: float,
    size: int = 224,
) -> dict:
    """Share of BCCD fields (normal blood, another lab and camera) flagged as ALL."""
    frames = bccd_frames(directory)
    logits = score(np.stack([prepare(f, masked, size) for f in frames]))
    p_all = 1 - softmax(logits, temperature)[:, CLASSES.index(BENIGN_CLASS)]
    flagged = int((p_all >= threshold).sum())
    from allscope.training.metrics import wilson

    return {
        "split": "BCCD JPEGImages (all fields, external)",
        "n": len(frames),
        "flagged": flagged,
        "flagged_rate": flagged / len(frames),
        "flagged_rate_ci95": wilson(flagged, len(frames)),
        "predicted_benign_rate": float((logits.argmax(1) == CLASSES.index(BENIGN_CLASS)).mean()),
    }


def latency_ms(
    package_dir: str | Path, repeats: int = 300, inference_precision: str | None = None
) -> float:
    """Median milliseconds of one synchronous batch-1 inference of a package (a 224×224 field)."""
    from allscope.core.classifier import Classifier

    classifier = Classifier(package_dir, mode="latency", inference_precision=inference_precision)
    spec = classifier.spec
    field = np.random.default_rng(0).integers(0, 255, (spec.height, spec.width, 3), dtype=np.uint8)
    for _ in range(20):
        classifier.predict(field)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        classifier.predict(field)
        times.append(1000 * (time.perf_counter() - started))
    return float(np.median(times))


def write_report(report: dict, json_path: str | Path | None, md_path: str | Path | None) -> None:
    from allscope.training.markdown import markdown

    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if md_path:
        Path(md_path).write_text(markdown(report) + "\n", encoding="utf-8")
