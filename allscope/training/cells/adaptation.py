"""A sanity estimate of site adaptation: a logistic decision on the package's features fitted
on 20 cells per class of a "new laboratory", scored on that laboratory's other cells.

No second laboratory with blasts is available, so the new laboratory is simulated: the B-ALL
cells under the three fixed camera/stain shifts (``views.shifted_view``). 20 blasts and 20
benign lymphoid cells are drawn from the validation blocks, the decision is scored on the
test blocks; repeated over seeded draws. This shows the mechanism works; it is not a measure
of a real foreign laboratory.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from allscope.training.cells.evaluate import auc


def fit_site_decision(features: np.ndarray, is_blast: np.ndarray, c: float = 0.05):
    """Standardise, then an L2 logistic regression: (scaler, model)."""
    scaler = StandardScaler().fit(features)
    model = LogisticRegression(C=c, max_iter=2000).fit(scaler.transform(features), is_blast)
    return scaler, model


def adaptation_estimate(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    base_test_p: np.ndarray,
    per_class: int = 20,
    repeats: int = 20,
    seed: int = 0,
) -> dict:
    """AUC on the test cells after fitting on ``per_class`` cells of each class, per draw."""
    rng = np.random.default_rng(seed)
    per_class = min(per_class, int(train_y.sum()), int((~train_y).sum()))
    scores = []
    for _ in range(repeats):
        pick = np.concatenate(
            [
                rng.choice(np.flatnonzero(train_y == v), per_class, replace=False)
                for v in (True, False)
            ]
        )
        scaler, model = fit_site_decision(train_x[pick].astype(np.float64), train_y[pick])
        p = model.predict_proba(scaler.transform(test_x.astype(np.float64)))[:, 1]
        scores.append(auc(p, test_y))
    return {
        "auc_median": float(np.median(scores)),
        "auc_min": float(np.min(scores)),
        "auc_max": float(np.max(scores)),
        "repeats": repeats,
        "per_class": per_class,
        "base_auc_same_cells": auc(base_test_p, test_y),
    }
