"""``allscope trust`` measurements that need a model: BCCD, validation sensitivity, OOD fitting."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from allscope.core.classifier import Classifier, prepare_field
from allscope.core.colour.calibration import ColourNormalizer
from allscope.core.frames import Frame
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.model_loading import load_classifier
from allscope.core.model_package import file_sha256, seal_package
from allscope.core.motion import STILL
from allscope.core.ood import (
    FEATURES_FILE,
    FeatureStats,
    OodDetector,
    choose_threshold,
    energy_score,
    fit_feature_stats,
    load_ood,
)
from allscope.core.quality import QualityGate
from allscope.core.results import MaskResult

ALL_LABELS = (1, 2, 3)  # Early Pre-B, Pre-B, Pro-B in the split's label numbering


@dataclass(frozen=True)
class Verdict:
    """One field through normalisation, mask, gate, model and abstention."""

    p_all: float
    assessable: bool
    reasons: tuple[str, ...]
    energy: float
    ood: float | None


def load_model(path: Path | None) -> Classifier:
    """The model to measure; ModelPackageError says what is wrong."""
    return load_classifier(path)


def ood_entry(classifier: Classifier) -> dict | None:
    return json.loads((classifier.package.path / "model.json").read_text(encoding="utf-8")).get(
        "ood"
    )


def validation_fields(
    args: argparse.Namespace, classifier: Classifier, part: str = "val"
) -> list[tuple[Path, int]]:
    """(path, label) of the split's fields; the split is --split or split.json beside the model."""
    candidates = [args.split] if args.split else [classifier.package.path / "split.json"]
    for path in candidates:
        if path and Path(path).is_file():
            splits = json.loads(Path(path).read_text(encoding="utf-8"))["splits"]
            return [(args.data / "all-fields" / s["name"], int(s["label"])) for s in splits[part]]
    raise SystemExit("No split.json found; pass --split FILE (the training run folder has one).")


def verdict(
    image: np.ndarray, classifier: Classifier, mode: str, detector: OodDetector | None
) -> Verdict:
    if mode != "none":
        image = ColourNormalizer(mode=mode)(image)
    mask = lab_kmeans_mask(image)
    assessable, reasons = QualityGate()(Frame(0, 0.0, image, "trust"), mask, STILL)
    prediction = classifier.predict_detailed(prepare_field(image, mask, classifier.spec))
    ood = detector.score(prediction.scores, prediction.outputs) if detector else None
    if ood is not None and detector is not None and detector.outside(ood):
        reasons = (*reasons, "outside the model's experience")
    return Verdict(classifier.p_all(prediction.probabilities), assessable, reasons,
                   energy_score(prediction.scores, classifier.package.temperature), ood)


def rates(verdicts: list[Verdict], threshold: float) -> dict:
    """Fraction flagged as ALL with each safeguard added in turn, and why fields were set aside."""
    n = max(1, len(verdicts))
    plain = sum(v.p_all >= threshold for v in verdicts)
    gated = sum(v.p_all >= threshold and v.assessable for v in verdicts)
    final = sum(v.p_all >= threshold and v.assessable and not v.reasons for v in verdicts)
    reasons: dict[str, int] = {}
    for v in verdicts:
        for r in v.reasons:
            reasons[r] = reasons.get(r, 0) + 1
    return {
        "fields": len(verdicts),
        "flagged_model_only": round(plain / n, 4),
        "flagged_with_gate": round(gated / n, 4),
        "flagged_with_gate_and_abstention": round(final / n, 4),
        "set_aside": reasons,
    }


def read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{path}: unreadable image")
    return image


def bccd(args: argparse.Namespace) -> dict:
    """BCCD (normal smears, foreign camera): WBC-box recall of the mask before and after
    normalisation, and the fraction of fields flagged as ALL as each safeguard is added."""
    from allscope.evaluation.bccd import bccd_mask_recall

    root = args.data / "bccd"
    report: dict = {"data": f"{root} (all fields)", "mode": args.mode}
    report["recall_raw"] = bccd_mask_recall(root)
    modes = ("white", "reinhard") if args.recall_only else (args.mode,)
    for mode in (m for m in modes if m != "none"):
        report[f"recall_normalised_{mode}"] = bccd_mask_recall(
            root, partial(_normalised_mask, ColourNormalizer(mode=mode)))
    if args.recall_only:
        report["demo_recall"] = {mode: demo_recall(mode) for mode in ("none", "white", "reinhard")}
        return report
    classifier = load_model(args.model)
    detector = load_ood(classifier.package)
    report["model"] = classifier.package.describe()
    report["ood"] = ood_entry(classifier) or "none in model.json (abstention off)"
    threshold = classifier.package.threshold
    paths = sorted((root / "JPEGImages").glob("*.jpg"))
    for mode in dict.fromkeys(("none", args.mode)):
        verdicts = [verdict(read(p), classifier, mode, detector) for p in paths]
        report[f"flag_rates_normalise_{mode}"] = rates(verdicts, threshold)
    return report


def demo_recall(mode: str, fields: int = 12) -> dict:
    """White cells of the demo slide (960×540, 3 per field) whose box holds a mask component."""
    from allscope.core.sources.demo.slide import render_field
    from allscope.evaluation.bccd import score_field

    found = total = outside = 0
    for seed in range(fields):
        image, _, cells = render_field(960, 540, seed=seed, n_wbc=3)
        image = image if mode == "none" else ColourNormalizer(mode=mode)(image)
        boxes = tuple((x, y, x + w - 1, y + h - 1) for x, y, w, h in (c.bbox for c in cells))
        hit, miss = score_field(lab_kmeans_mask(image), boxes)
        found, total, outside = found + hit, total + len(boxes), outside + miss
    return {"fields": fields, "wbc": total, "found": found, "components_outside": outside}


def sensitivity(args: argparse.Namespace) -> dict:
    """ALL sensitivity and specificity on the validation blocks, model alone vs with gate,
    calibration and abstention; the loss is in percentage points."""
    classifier = load_model(args.model)
    detector = load_ood(classifier.package)
    fields = validation_fields(args, classifier)
    threshold = classifier.package.threshold
    report: dict = {
        "data": "validation blocks of split.json",
        "fields": len(fields),
        "mode": args.mode,
        "model": classifier.package.describe(),
        "threshold": threshold,
        "ood": ood_entry(classifier) or "none",
    }
    baseline = None
    for mode in dict.fromkeys(("none", args.mode)):
        verdicts = [verdict(read(p), classifier, mode, detector) for p, _ in fields]
        malignant = [
            v for v, (_, label) in zip(verdicts, fields, strict=True) if label in ALL_LABELS
        ]
        benign = [
            v for v, (_, label) in zip(verdicts, fields, strict=True) if label not in ALL_LABELS
        ]
        plain = float(np.mean([v.p_all >= threshold for v in malignant]))
        guarded = float(
            np.mean([v.p_all >= threshold and v.assessable and not v.reasons for v in malignant])
        )
        baseline = plain if baseline is None else baseline
        report[f"normalise_{mode}"] = {
            "all_fields": len(malignant),
            "benign_fields": len(benign),
            "sensitivity_model_only": round(plain, 4),
            "sensitivity_guarded": round(guarded, 4),
            "loss_pt_vs_plain_model": round(100 * (baseline - guarded), 2),
            "specificity_model_only": round(
                float(np.mean([v.p_all < threshold for v in benign])), 4
            ),
            "specificity_guarded": round(
                float(
                    np.mean(
                        [
                            not (v.p_all >= threshold and v.assessable and not v.reasons)
                            for v in benign
                        ]
                    )
                ),
                4,
            ),
            "set_aside": rates(verdicts, threshold)["set_aside"],
        }
    report["note"] = (
        "guarded = gate and abstention on (and normalisation in its mode); the loss is "
        "against the model alone on unnormalised fields"
    )
    return report


def _normalised_mask(normalizer: ColourNormalizer, image: np.ndarray) -> MaskResult:
    return lab_kmeans_mask(normalizer(image))


def _features(path: Path, classifier: Classifier, mode: str) -> np.ndarray:
    """Pooled features of one field; the IR must have a "features" output."""
    features = embed(path, classifier, mode)[1]
    if features is None:
        raise ValueError(f"{classifier.package.path}: the model has no 'features' output")
    return features


def embed(path: Path, classifier: Classifier, mode: str) -> tuple[float, np.ndarray | None]:
    """(energy, pooled features or None) of one field as the live app would see it."""
    image = read(path)
    if mode != "none":
        image = ColourNormalizer(mode=mode)(image)
    mask = lab_kmeans_mask(image) if classifier.spec.masked else None
    prediction = classifier.predict_detailed(prepare_field(image, mask, classifier.spec))
    features = prediction.outputs.get("features")
    return energy_score(prediction.scores, classifier.package.temperature), \
        None if features is None else np.asarray(features, np.float64).ravel()


def fit_ood(args: argparse.Namespace) -> dict:
    """Thresholds leaving ``--target-rate`` of validation fields outside, for the energy score
    and (when the IR has a "features" output) the feature distance fitted on the training
    blocks; reports BCCD fields beyond each. --write stores the better one in model.json."""
    classifier = load_model(args.model)
    sets = {"val": [p for p, _ in validation_fields(args, classifier)],
            "bccd": sorted((args.data / "bccd" / "JPEGImages").glob("*.jpg"))}
    embedded = {
        name: [embed(p, classifier, args.mode) for p in paths] for name, paths in sets.items()
    }
    candidates: dict[str, tuple[dict[str, np.ndarray], FeatureStats | None]] = {
        "energy": ({k: np.array([e for e, _ in v]) for k, v in embedded.items()}, None)
    }
    if embedded["val"][0][1] is not None:
        train = validation_fields(args, classifier, "train")
        features = np.stack([_features(p, classifier, args.mode) for p, _ in train])
        stats = fit_feature_stats(features, np.array([label for _, label in train]))
        candidates["feature"] = (
            {
                k: np.array([stats.distance(f) for _, f in v if f is not None])
                for k, v in embedded.items()
            },
            stats,
        )
    report: dict = {
        "mode": args.mode,
        "target_rate": args.target_rate,
        "val_fields": len(sets["val"]),
        "bccd_fields": len(sets["bccd"]),
    }
    for kind, (scores, _) in candidates.items():
        threshold = choose_threshold(scores["val"], args.target_rate)
        report[kind] = {
            "threshold": round(threshold, 4),
            "val_outside": round(float(np.mean(scores["val"] > threshold)), 4),
            "bccd_outside": round(float(np.mean(scores["bccd"] > threshold)), 4),
            **{
                f"{k}_p5_p50_p95": [round(float(np.percentile(v, q)), 3) for q in (5, 50, 95)]
                for k, v in scores.items()
            },
        }
    best = max(candidates, key=lambda k: report[k]["bccd_outside"])
    report["chosen"] = best
    if args.write:
        report["written"] = str(
            write_ood(classifier, best, report[best], candidates[best][1], args.target_rate)
        )
    return report


def write_ood(classifier: Classifier, kind: str, figures: dict, stats, rate: float) -> Path:
    """Store the detector in the package: model.json "ood" (and ood_features.npz)."""
    path = classifier.package.path
    digest = file_sha256(stats.save(path / FEATURES_FILE)) if stats is not None else None
    detector = OodDetector(kind, figures["threshold"], classifier.package.temperature, stats)
    meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    meta["ood"] = detector.meta(digest) | {
        "chosen_on": f"validation blocks ({rate:.1%} outside) and BCCD "
        "({figures['bccd_outside']:.1%} outside)"
    }
    (path / "model.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    seal_package(path)
    return path / "model.json"
