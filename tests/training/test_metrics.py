"""Metrics used in the model card: Wilson intervals, threshold rule, temperature, report."""

from __future__ import annotations

import numpy as np
import pytest

from allscope.training.metrics import (
    classification_report,
    fit_temperature,
    sensitivity_threshold,
    wilson,
)


def test_wilson_interval_matches_the_textbook_value():
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    lo, hi = wilson(50, 100)
    assert (lo, hi) == pytest.approx((0.4038, 0.5962), abs=1e-3)


def test_threshold_is_the_largest_keeping_the_sensitivity_target():
    p_all = np.array([0.05, 0.2, 0.3, 0.9, 0.95] + [0.99] * 395)
    is_all = np.array([False] + [True] * 399)
    threshold = sensitivity_threshold(p_all, is_all, target=0.995)  # 399 ALL fields: 1 miss allowed
    assert threshold == pytest.approx(0.3)
    assert (p_all[is_all] >= threshold).mean() >= 0.995


def test_threshold_never_exceeds_the_cap():
    p_all = np.full(100, 0.99)
    assert sensitivity_threshold(p_all, np.ones(100, bool), cap=0.5) == 0.5


def test_fitted_temperature_undoes_overconfident_logits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 4000)
    true_logits = rng.normal(0, 1, (4000, 4))
    true_logits[np.arange(4000), labels] += 1.5
    samples = np.array([rng.choice(4, p=np.exp(z) / np.exp(z).sum()) for z in true_logits])
    assert fit_temperature(3.0 * true_logits, samples) == pytest.approx(3.0, rel=0.1)


def test_report_counts_confusion_and_all_vs_benign():
    logits = np.array([[5, 0, 0, 0], [0, 5, 0, 0], [5, 0, 0, 0], [0, 0, 0, 5]], float)
    labels = np.array([0, 1, 2, 3])
    report = classification_report(
        logits, labels, ["Benign", "Early Pre-B", "Pre-B", "Pro-B"], 0, 1.0, 0.5
    )
    assert report["accuracy"] == 0.75
    assert report["confusion"][2] == [1, 0, 0, 0]
    assert report["all_vs_benign"]["sensitivity"] == pytest.approx(2 / 3)
    assert report["all_vs_benign"]["specificity"] == 1.0
