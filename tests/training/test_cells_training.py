"""Training pieces of the cell model: metrics, loss weights, head fitting, site estimate."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from sklearn.metrics import roc_auc_score

from allscope.training.cells.adaptation import adaptation_estimate
from allscope.training.cells.evaluate import auc, auc_ci, rate, sensitivity_threshold
from allscope.training.cells.head import HeadConfig, fit_head, head_logits, row_weights
from allscope.training.cells.sources import BLAST, NON_BLAST, OTHER, hashed_split


def test_auc_equals_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 10, 300) / 10.0  # many ties
    positive = rng.random(300) < 0.3 + 0.4 * scores
    assert auc(scores, positive) == pytest.approx(roc_auc_score(positive, scores), abs=1e-12)


def test_auc_interval_holds_the_estimate_and_narrows_with_more_fields():
    rng = np.random.default_rng(1)

    def data(fields):
        groups = np.repeat(np.arange(fields), 10)
        positive = rng.random(groups.size) < 0.5
        return rng.normal(positive * 1.0, 1.0), positive, groups

    small, large = auc_ci(*data(20)), auc_ci(*data(400))
    assert large[1] - large[0] < small[1] - small[0]
    scores, positive, groups = data(100)
    low, high = auc_ci(scores, positive, groups)
    assert low <= auc(scores, positive) <= high


def test_threshold_keeps_the_target_sensitivity():
    p = np.linspace(0.01, 0.99, 100)
    threshold = sensitivity_threshold(p, 0.98)
    assert (p >= threshold).mean() >= 0.98 and (p >= threshold + 0.011).mean() < 0.98
    assert sensitivity_threshold(np.full(10, 0.9), 0.98) == 0.5  # capped


def test_rate_reports_count_and_wilson_interval():
    figure = rate(np.array([True] * 19 + [False]), "x", "split")
    assert figure["count"] == "19/20" and figure["value"] == 0.95
    assert figure["ci95"][0] < 0.95 < figure["ci95"][1] <= 1.0


def test_every_class_weighs_the_same_in_total():
    labels = np.array([BLAST] * 90 + [OTHER] * 9 + [NON_BLAST])
    weights = row_weights(labels)
    totals = [weights[labels == g].sum() for g in (BLAST, OTHER, NON_BLAST)]
    assert totals == pytest.approx([totals[0]] * 3)


def test_head_learns_separable_classes_and_the_not_blast_term():
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 3, (3, 16))
    labels = np.repeat([BLAST, 1, NON_BLAST], 200)
    features = centres[np.repeat([0, 1, 2], 200)] + rng.normal(0, 1, (600, 16))
    head = fit_head(
        features.astype(np.float32), labels, HeadConfig(epochs=30, batch=64, components=16)
    )
    logits = head_logits(head, features.astype(np.float32))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert (logits[labels == BLAST].argmax(1) == BLAST).mean() > 0.95
    assert (logits[labels == 1].argmax(1) == 1).mean() > 0.95
    assert p[labels == NON_BLAST, BLAST].mean() < 0.1  # unknown type, but not a blast


def test_site_estimate_recovers_a_site_specific_decision():
    rng = np.random.default_rng(3)

    def cells(n):
        y = rng.random(n) < 0.5
        x = rng.normal(0, 1, (n, 40))
        x[:, 7] += 3.0 * y  # the site's blasts differ along one feature only
        return x, y

    (train_x, train_y), (test_x, test_y) = cells(200), cells(400)
    figure = adaptation_estimate(train_x, train_y, test_x, test_y, rng.random(400), repeats=5)
    assert figure["auc_median"] > 0.8 and abs(figure["base_auc_same_cells"] - 0.5) < 0.1


def test_hashed_split_is_stable_and_near_70_15_15():
    names = [f"lymphocyte/LY_{i}.jpg" for i in range(4000)]
    parts = [hashed_split(n) for n in names]
    assert parts == [hashed_split(n) for n in names]
    assert abs(parts.count("train") / 4000 - 0.70) < 0.03
