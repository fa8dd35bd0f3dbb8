"""Cell-level figures, each naming its split, with 95% intervals.

Proportions carry Wilson intervals (``training.metrics.wilson``); the AUC of P(blast) carries a
bootstrap interval that resamples whole fields (cells of one field are not independent).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

from allscope.training.metrics import wilson


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc_ci(
    scores: np.ndarray, positive: np.ndarray, groups: np.ndarray, reps: int = 300, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of the AUC, resampling ``groups`` (fields) with replacement."""
    rng = np.random.default_rng(seed)
    unique = np.unique(groups)
    members = {g: np.flatnonzero(groups == g) for g in unique}
    values = []
    for _ in range(reps):
        pick = np.concatenate([members[g] for g in rng.choice(unique, len(unique))])
        value = auc(scores[pick], positive[pick])
        if not math.isnan(value):
            values.append(value)
    if not values:
        return (float("nan"), float("nan"))
    return (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))


def rate(hits: np.ndarray, what: str, split: str) -> dict:
    """A proportion with its Wilson interval, named by what it counts and its split."""
    k, n = int(hits.sum()), int(hits.size)
    return {
        "metric": what,
        "split": split,
        "value": k / n if n else float("nan"),
        "count": f"{k}/{n}",
        "ci95": list(wilson(k, n)),
    }


def sensitivity_threshold(p_blast: np.ndarray, target: float, cap: float = 0.5) -> float:
    """The largest threshold (at most ``cap``) calling at least ``target`` of these blasts."""
    scores = np.sort(p_blast)
    misses = int(math.floor((1 - target) * len(scores) + 1e-9))
    return float(min(cap, scores[misses])) if len(scores) else cap


def auc_figure(
    p_blast: np.ndarray, positive: np.ndarray, groups: np.ndarray, what: str, split: str
) -> dict:
    return {
        "metric": what,
        "split": split,
        "value": auc(p_blast, positive),
        "ci95": list(auc_ci(p_blast, positive, groups)),
        "count": f"{int(positive.sum())} blasts, {int((~positive).sum())} others",
    }
