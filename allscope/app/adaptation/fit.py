"""The site decision: an L2-regularised logistic regression on cell features, and its honest
local figures (cross-validated AUC, sensitivity and specificity, each with a 95% interval).

Fitting uses Newton's method (iteratively reweighted least squares) in numpy. Features are
standardised first; when there are more features than cells the fit runs in the span of the
cells' features (an exact reduction for an L2 penalty: the optimum lies in that span), so a
1280-dimensional fit on 40 cells takes milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from allscope.core.cells.tally import Z95, wilson_interval

L2 = 20.0  # penalty on the standardised weights (scikit-learn C = 0.05): strong, because
# a site labels tens of cells while the features number over a thousand


@dataclass(frozen=True)
class Logistic:
    """p = sigmoid(((f - mean) / scale) @ w + b): the same form as ``SiteHead``."""

    w: np.ndarray
    b: float
    mean: np.ndarray
    scale: np.ndarray

    def p(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.w + self.b
        out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
        return out


def fit_logistic(
    features: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50
) -> Logistic:
    """Fit on ``features`` (N, F) and 0/1 labels ``y``; the bias is not penalised."""
    x = np.asarray(features, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    xs = (x - mean) / scale
    basis = None
    if xs.shape[1] > xs.shape[0]:  # fit in the span of the cells: w = basis @ c
        _, _, vt = np.linalg.svd(xs, full_matrices=False)
        basis = vt.T
        xs = xs @ basis
    c, b = _newton(xs, np.asarray(y, np.float64), l2, iterations)
    w = basis @ c if basis is not None else c
    return Logistic(w, float(b), mean, scale)


def _newton(x: np.ndarray, y: np.ndarray, l2: float, iterations: int) -> tuple[np.ndarray, float]:
    n, f = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(f + 1)
    penalty = np.full(f + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -60.0, 60.0)))
        gradient = design.T @ (p - y) + penalty * theta
        weights = np.maximum(p * (1 - p), 1e-10)
        hessian = design.T @ (design * weights[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def stratified_folds(y: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """A fold number (0..k-1) per sample, each class spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), np.int64)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        folds[members] = np.arange(len(members)) % k
    return folds


def out_of_fold(features: np.ndarray, y: np.ndarray, k: int = 5, seed: int = 0) -> np.ndarray:
    """P(blast) of every cell from a model fitted without its fold (stratified k-fold)."""
    folds = stratified_folds(y, k, seed)
    p = np.empty(len(y))
    for fold in range(k):
        held = folds == fold
        p[held] = fit_logistic(features[~held], y[~held]).p(features[held])
    return p


@dataclass(frozen=True)
class Figures:
    """Discrimination and the operating point on one set of cells (blast = 1)."""

    auc: float
    auc_ci95: tuple[float, float]
    threshold: float
    sensitivity: float
    sensitivity_ci95: tuple[float, float]
    specificity: float
    specificity_ci95: tuple[float, float]
    blasts: int
    others: int

    def to_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a blast > score of another cell), ties count half."""
    pos, neg = p[y == 1], p[y == 0]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def hanley_mcneil(area: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """95% interval of an AUC by Hanley and McNeil's (1982) standard error, clipped to 0..1."""
    q1, q2 = area / (2 - area), 2 * area * area / (1 + area)
    var = (
        area * (1 - area) + (n_pos - 1) * (q1 - area * area) + (n_neg - 1) * (q2 - area * area)
    ) / (n_pos * n_neg)
    half = Z95 * math.sqrt(max(var, 0.0))
    return max(0.0, area - half), min(1.0, area + half)


def figures(p: np.ndarray, y: np.ndarray, threshold: float) -> Figures:
    called = p >= threshold
    tp, blasts = int((called & (y == 1)).sum()), int((y == 1).sum())
    tn, others = int((~called & (y == 0)).sum()), int((y == 0).sum())
    area = auc(p, y)
    return Figures(
        area,
        hanley_mcneil(area, blasts, others),
        float(threshold),
        tp / blasts,
        wilson_interval(tp, blasts),
        tn / others,
        wilson_interval(tn, others),
        blasts,
        others,
    )


def sensitive_threshold(p: np.ndarray, y: np.ndarray, sensitivity: float) -> float:
    """The highest threshold that still calls at least ``sensitivity`` of the blasts."""
    blasts = np.sort(p[y == 1])
    missed = int(math.floor((1.0 - sensitivity) * len(blasts) + 1e-9))
    return float(blasts[min(missed, len(blasts) - 1)])
