"""The shipped default model: loads, verifies, runs, and holds its model card's figures: test-block
accuracy, ALL sensitivity and specificity, and the BCCD flag rates, measured again with the
shipped OpenVINO runtime on ../shared."""

from __future__ import annotations

import re

import numpy as np
import pytest
from card_figures import Recorded, recorded

from allscope.core.model_package import DEFAULT_MODEL_DIR, load_package
from allscope.paths import shared_data_dir

SHARED_FIELDS = shared_data_dir() / "all-fields"
BCCD = shared_data_dir() / "bccd" / "JPEGImages"
needs_fields = pytest.mark.skipif(
    not SHARED_FIELDS.is_dir(), reason=f"{SHARED_FIELDS} absent: the B-ALL fields live beside "
    "the project (../shared), not in it")
needs_bccd = pytest.mark.skipif(
    not BCCD.is_dir(), reason=f"{BCCD} absent: BCCD lives beside the project (../shared)")


@pytest.fixture(scope="module")
def package():
    return load_package(DEFAULT_MODEL_DIR, verify=True)  # raises on any SHA-256 mismatch


def _metric(package, name: str, split: str) -> float:
    for entry in package.summary["metrics"]:
        if entry["metric"] == name and entry["split"].startswith(split):
            return float(entry["value"])
    raise AssertionError(f"model.json summary lacks {name!r} on {split!r}")


def test_default_package_describes_the_four_classes(package):
    assert package.classes == ("Benign", "Early Pre-B", "Pre-B", "Pro-B")
    assert package.benign_class == "Benign"
    assert package.precision in ("INT8", "FP16")
    assert 0.0 < package.threshold <= 0.5
    assert (package.input.width, package.input.height, package.input.color_order) == (
        224, 224, "RGB",
    )


def test_default_package_has_a_model_card_citing_the_data(package):
    card = package.card
    assert card is not None
    assert "Informatics in Medicine Unlocked" in card and "not a diagnosis" in card


def test_default_package_classifies_a_field(package):
    from allscope.core.classifier import Classifier

    field = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    probabilities = Classifier(package).predict(field)
    assert probabilities.shape == (4,)
    assert probabilities.sum() == pytest.approx(1.0)


# --- the card's figures, measured again with the shipped runtime (tests/helpers/card_figures.py
# states the agreement rule: inside the recorded 95% interval, widened for subsampling) ---

@pytest.fixture(scope="module")
def test_blocks(package) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, labels) of every field of the test blocks, the block split recreated
    from the data as the card describes it (seed and block size from model.json)."""
    from allscope.core.classifier import Classifier
    from allscope.training.data import FieldStore, block_split

    split_info = package.summary["split"]
    store = FieldStore(SHARED_FIELDS)
    test = block_split(store.samples(), split_info["block_size"], seed=split_info["seed"])["test"]
    assert len(test) == split_info["counts"]["test"]
    probabilities = Classifier(package, mode="throughput").predict_batch(
        [store.read(s.name) for s in test])
    return probabilities, np.array([s.label for s in test])


@pytest.fixture(scope="module")
def test_block_p_all(package, test_blocks) -> tuple[np.ndarray, np.ndarray]:
    """(P(ALL), is-ALL) of every test-block field."""
    probabilities, labels = test_blocks
    is_all = np.array([package.classes[label] != package.benign_class for label in labels])
    return 1.0 - probabilities[:, package.benign_index], is_all


@needs_fields
def test_default_model_holds_its_card_accuracy_on_the_test_blocks(package, test_blocks):
    probabilities, labels = test_blocks
    accuracy = float((probabilities.argmax(1) == labels).mean())
    assert accuracy >= _metric(package, "4-class accuracy", "test") - 0.01


@needs_fields
def test_test_block_all_sensitivity_agrees_with_the_card(package, test_block_p_all):
    p_all, is_all = test_block_p_all
    figure = recorded(package.summary["metrics"], "ALL sensitivity", "test blocks")
    flagged = int((p_all[is_all] >= package.threshold).sum())
    print(figure.check(flagged, int(is_all.sum())))
    assert is_all.sum() == figure.n  # the card's fields, every one of them
    assert figure.agrees(flagged, figure.n)


@needs_fields
def test_test_block_specificity_agrees_with_the_card(package, test_block_p_all):
    p_all, is_all = test_block_p_all
    figure = recorded(package.summary["metrics"], "specificity", "test blocks")
    passed = int((p_all[~is_all] < package.threshold).sum())
    print(figure.check(passed, int((~is_all).sum())))
    assert (~is_all).sum() == figure.n
    assert figure.agrees(passed, figure.n)


def _bccd_fields() -> list:
    import cv2

    return [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in sorted(BCCD.glob("*.jpg"))]


@needs_bccd
def test_bccd_fields_flagged_by_the_model_alone_agree_with_the_card(package):
    """Every BCCD field (normal blood, another laboratory), centre square, no safeguard."""
    from allscope.core.classifier import Classifier

    fields = _bccd_fields()
    figure = recorded(package.summary["metrics"], "fields flagged as ALL", "BCCD")
    p_all = 1.0 - Classifier(package, mode="throughput").predict_batch(fields)[
        :, package.benign_index]
    flagged = int((p_all >= package.threshold).sum())
    print(figure.check(flagged, len(fields)))
    assert len(fields) == figure.n
    assert figure.agrees(flagged, figure.n)


def _card_count(card: str, row: str) -> tuple[int, int]:
    """k/n from the model card's table row that contains ``row``."""
    line = next((ln for ln in card.splitlines() if row in ln), None)
    assert line is not None, f"MODEL_CARD.md has no row with {row!r}"
    found = re.search(r"\((\d+)/(\d+)\)", line)
    assert found, f"MODEL_CARD.md's row {line!r} gives no count"
    return int(found.group(1)), int(found.group(2))


@pytest.mark.slow
@needs_bccd
def test_bccd_fields_flagged_and_judged_as_the_application_runs_them(package):
    """The card's BCCD figures with the safeguards on, as ``allscope trust bccd`` measured them:
    Reinhard colour normalisation (the application's default), the quality gate, and the
    out-of-distribution abstention. Flagged means flagged and judged; abstained fields are shown
    as "outside the model's experience", never flagged."""
    from allscope.commands.trust.model_checks import verdict
    from allscope.core.classifier import Classifier
    from allscope.core.ood import OUTSIDE, load_ood
    from allscope.training.metrics import wilson

    classifier, detector = Classifier(package), load_ood(package)
    verdicts = [verdict(f, classifier, "reinhard", detector) for f in _bccd_fields()]
    n = len(verdicts)
    hits, total = _card_count(package.card or "", "as the application runs it")
    flagged_card = Recorded("BCCD flagged, gate + abstention + normalisation", "BCCD", hits,
                            total, wilson(hits, total))
    flagged = sum(v.p_all >= package.threshold and v.assessable and not v.reasons
                  for v in verdicts)
    outside_rate = re.search(r"BCCD \((\d+(?:\.\d+)?)% outside\)", package.ood["chosen_on"])
    assert outside_rate, package.ood["chosen_on"]
    k = round(float(outside_rate.group(1)) / 100 * n)  # the card gives a rate of every field
    outside_card = Recorded("BCCD outside the model's experience", "BCCD", k, n, wilson(k, n))
    outside = sum(OUTSIDE in v.reasons for v in verdicts)
    print(flagged_card.check(flagged, n), outside_card.check(outside, n), sep="\n")
    print(f"judged (neither set aside by the gate nor outside): "
          f"{sum(v.assessable and not v.reasons for v in verdicts)}/{n}")
    assert n == total
    assert flagged_card.agrees(flagged, n)
    assert outside_card.agrees(outside, n)



def test_the_agreement_rule_rejects_a_changed_figure():
    """The rule above can fail: a count outside the recorded interval, on the full split or a
    subsample, disagrees."""
    figure = Recorded("ALL sensitivity", "test blocks", 327, 330, (0.9736, 0.9969))
    assert figure.agrees(327, 330) and figure.agrees(322, 330)
    assert not figure.agrees(315, 330) and not figure.agrees(331, 330)
    assert figure.agrees(110, 110) and figure.agrees(105, 110)
    assert not figure.agrees(95, 110)
