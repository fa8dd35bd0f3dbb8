"""The shipped default model: loads, verifies, runs, and holds its model card's test-block
accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from allscope.core.model_package import DEFAULT_MODEL_DIR, load_package
from allscope.paths import shared_data_dir

SHARED_FIELDS = shared_data_dir() / "all-fields"


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


def test_default_model_holds_its_card_accuracy_on_the_test_blocks(package):
    if not SHARED_FIELDS.is_dir():
        pytest.skip(f"{SHARED_FIELDS} absent: the B-ALL fields live beside the project, not in it")
    from allscope.core.classifier import Classifier
    from allscope.training.data import FieldStore, block_split

    split_info = package.summary["split"]
    store = FieldStore(SHARED_FIELDS)
    test = block_split(store.samples(), split_info["block_size"], seed=split_info["seed"])["test"]
    assert len(test) == split_info["counts"]["test"]
    probabilities = Classifier(package, mode="throughput").predict_batch(
        [store.read(s.name) for s in test]
    )
    accuracy = float((probabilities.argmax(1) == np.array([s.label for s in test])).mean())
    assert accuracy >= _metric(package, "4-class accuracy", "test") - 0.01
