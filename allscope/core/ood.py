"""Out-of-distribution abstention: fields unlike anything the model was trained on.

A classifier answers every field, even a smear from another laboratory, a stain it never saw
or a field of debris; its confidence then means little. A cheap score says how unlike the
training data a field is; above the threshold the field is "outside the model's experience":
it is counted, shown and listed, never flagged.

Scores (higher = stranger):

- ``energy``: the free energy of the logits, -T·log Σ exp(s/T), with the package's fitted
  temperature (Liu et al. 2020); needs nothing but the logits;
- ``feature``: the Mahalanobis distance of the pooled features (the IR's "features" output)
  to the nearest class mean under a shared within-class covariance (Lee et al. 2018), modelled
  as probabilistic PCA (top axes whitened, one variance for the rest) to stay small.

The choice and the threshold live in model.json under "ood" (``allscope trust ood --write``);
the feature statistics in ``ood_features.npz`` beside the IR, hashed in that entry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from allscope.core.model_package import ModelPackage, ModelPackageError, file_sha256
from allscope.core.results import FieldResult

OUTSIDE = "outside the model's experience"
KINDS = ("energy", "feature")
FEATURES_FILE = "ood_features.npz"


def energy_score(scores: np.ndarray, temperature: float = 1.0) -> float:
    """-T·logsumexp(scores / T): low for confident in-distribution logits, high otherwise."""
    z = np.asarray(scores, np.float64).ravel() / temperature
    top = z.max()
    return float(-temperature * (top + np.log(np.exp(z - top).sum())))


@dataclass(frozen=True)
class FeatureStats:
    """A probabilistic-PCA model of the training features: class centres, a shared whitened
    within-class covariance in its top principal axes, and one variance for the rest."""

    components: np.ndarray  # (k, C) principal axes of the within-class residuals
    scale: np.ndarray  # (k,) 1 / std along each axis
    centres: np.ndarray  # (classes, C) class means
    residual_var: np.ndarray  # (1,) mean variance per dimension outside the k axes

    def distance(self, features: np.ndarray) -> float:
        """Mahalanobis distance to the nearest class centre (PPCA covariance)."""
        offsets = np.asarray(features, np.float64).ravel()[None, :] - self.centres
        inside = offsets @ self.components.T
        outside = (offsets**2).sum(1) - (inside**2).sum(1)
        d2 = ((inside * self.scale) ** 2).sum(1) + np.maximum(outside, 0.0) / float(
            self.residual_var[0]
        )
        return float(np.sqrt(d2.min()))

    def save(self, path: str | Path) -> Path:
        with open(path, "wb") as handle:
            np.savez(
                handle,
                **{
                    f.name: getattr(self, f.name).astype(np.float32)
                    for f in dataclasses.fields(self)
                },
            )
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> FeatureStats:
        with np.load(path) as data:
            return cls(**{f.name: data[f.name].astype(np.float64) for f in dataclasses.fields(cls)})


def fit_feature_stats(
    features: np.ndarray, labels: np.ndarray, components: int = 32
) -> FeatureStats:
    """Statistics of training features (N, C) with their class labels (N,)."""
    x = np.asarray(features, np.float64).reshape(len(features), -1)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    centres = np.stack([x[labels == c].mean(0) for c in classes])
    residual = x - centres[np.searchsorted(classes, labels)]
    _, _, axes = np.linalg.svd(residual, full_matrices=False)
    k = min(components, axes.shape[0], x.shape[1] - 1)
    axes = axes[:k]
    inside = residual @ axes.T
    scale = 1.0 / np.maximum(inside.std(0), 1e-6)
    outside = ((residual**2).sum(1) - (inside**2).sum(1)).mean() / (x.shape[1] - k)
    return FeatureStats(axes, scale, centres, np.array([max(outside, 1e-12)]))


@dataclass(frozen=True)
class OodDetector:
    """A score and its threshold: ``score(scores, outputs)`` > ``threshold`` means outside."""

    kind: str
    threshold: float
    temperature: float = 1.0
    stats: FeatureStats | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"OOD kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "feature" and self.stats is None:
            raise ValueError("a feature OOD detector needs feature statistics")

    def score(self, scores: np.ndarray, outputs: dict[str, np.ndarray] | None = None) -> float:
        """The field's score from a Prediction's raw ``scores`` and extra ``outputs``."""
        if self.kind == "energy":
            return energy_score(scores, self.temperature)
        features = (outputs or {}).get("features")
        if features is None:
            raise ValueError("the model has no 'features' output; augment the package "
                             "(allscope.training.cam_outputs) or use the energy score")
        if self.stats is None:
            raise ValueError("the feature-distance detector has no fitted statistics")
        return self.stats.distance(features)

    def outside(self, score: float) -> bool:
        return score > self.threshold

    def meta(self, stats_sha256: str | None = None) -> dict[str, Any]:
        """The model.json "ood" entry."""
        entry = {
            "kind": self.kind,
            "threshold": float(self.threshold),
            "temperature": float(self.temperature),
        }
        if self.kind == "feature":
            entry |= {"file": FEATURES_FILE, "sha256": stats_sha256}
        return entry


def load_ood(package: ModelPackage) -> OodDetector | None:
    """The package's detector from model.json's (validated) "ood" entry; None when it has none."""
    meta = package.ood
    if not meta:
        return None
    stats = None
    if meta["kind"] == "feature":
        path = package.path / (meta.get("file") or FEATURES_FILE)
        if not path.is_file() or file_sha256(path) != meta.get("sha256"):
            raise ModelPackageError(
                f"{path}: missing or its SHA-256 does not match model.json; reinstall the model."
            )
        try:
            stats = FeatureStats.load(path)
        except Exception as exc:  # a damaged archive raises zipfile, pickle, key or value errors
            raise ModelPackageError(
                f"{path}: the OOD statistics cannot be read ({type(exc).__name__}: {exc}); "
                "reinstall the model."
            ) from exc
    temperature = meta.get("temperature") or package.temperature
    try:
        return OodDetector(meta["kind"], float(meta["threshold"]), float(temperature), stats)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelPackageError(f"{package.path / 'model.json'}: bad 'ood' entry ({exc}).") from exc


def choose_threshold(in_distribution: np.ndarray, rejected: float) -> float:
    """The threshold that leaves the fraction ``rejected`` of in-distribution scores above it."""
    if not 0.0 <= rejected < 1.0:
        raise ValueError(f"rejected must be within [0, 1), got {rejected}")
    return float(np.quantile(np.asarray(in_distribution, np.float64), 1.0 - rejected))


def abstain(result: FieldResult, score: float, detector: OodDetector) -> FieldResult:
    """``result`` with its OOD score; beyond the threshold it is no longer assessable (never
    flagged) and says why. Its probabilities are kept for the record."""
    if not detector.outside(score):
        return dataclasses.replace(result, ood_score=score)
    return dataclasses.replace(
        result, ood_score=score, assessable=False, reasons=(*result.reasons, OUTSIDE)
    )
