"""Classification metrics from logits (numpy only): accuracy, per-class, ALL-vs-benign, calibration.

"ALL" is any class other than the benign one; P(ALL) = 1 - P(benign). Sensitivity and
specificity come with 95% Wilson score intervals because test sets here are small.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound near 0 and 1, unlike the normal one)."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(p, 1e-12, 1.0))))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising validation negative log-likelihood (Guo et al. 2017)."""
    result = minimize_scalar(
        lambda log_t: nll(logits, labels, math.exp(log_t)), bounds=(-3, 3), method="bounded"
    )
    return float(math.exp(result.x))


def ece(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence, equal-width bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            total += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(total)


def sensitivity_threshold(
    p_all: np.ndarray, is_all: np.ndarray, target: float = 0.995, cap: float = 0.5
) -> float:
    """The largest threshold (at most ``cap``) whose ALL sensitivity on these fields is ≥
    ``target``."""
    scores = np.sort(p_all[is_all])
    allowed_misses = int(math.floor((1 - target) * len(scores) + 1e-9))
    return float(min(cap, scores[allowed_misses])) if len(scores) else cap


def binary_report(p_all: np.ndarray, is_all: np.ndarray, threshold: float) -> dict:
    """ALL-vs-benign sensitivity and specificity (with Wilson CIs) when P(ALL) ≥ threshold flags."""
    flagged = p_all >= threshold
    tp, n_pos = int((flagged & is_all).sum()), int(is_all.sum())
    tn, n_neg = int((~flagged & ~is_all).sum()), int((~is_all).sum())
    return {
        "threshold": float(threshold),
        "sensitivity": tp / n_pos if n_pos else float("nan"), "sensitivity_ci95": wilson(tp, n_pos),
        "specificity": tn / n_neg if n_neg else float("nan"), "specificity_ci95": wilson(tn, n_neg),
        "true_positive": tp, "all_fields": n_pos, "true_negative": tn, "benign_fields": n_neg,
    }


def classification_report(logits: np.ndarray, labels: np.ndarray, classes: list[str], benign: int,
                          temperature: float, threshold: float) -> dict:
    """Everything the model card reports about one split."""
    probabilities = softmax(logits, temperature)
    predicted = probabilities.argmax(axis=1)
    k = len(classes)
    confusion = np.zeros((k, k), int)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {
        cls: {
            "precision": _ratio(confusion[i, i], confusion[:, i].sum()),
            "recall": _ratio(confusion[i, i], confusion[i].sum()),
            "support": int(confusion[i].sum()),
        }
        for i, cls in enumerate(classes)
    }
    correct = int((predicted == labels).sum())
    return {
        "n": int(len(labels)),
        "accuracy": correct / max(1, len(labels)),
        "accuracy_ci95": wilson(correct, len(labels)),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "confusion_axes": "rows true, columns predicted",
        "all_vs_benign": binary_report(1 - probabilities[:, benign], labels != benign, threshold),
        "ece": ece(probabilities, labels),
        "ece_uncalibrated": ece(softmax(logits), labels),
        "nll": nll(logits, labels, temperature),
    }


def _ratio(a: int, b: int) -> float:
    return float(a) / float(b) if b else float("nan")
