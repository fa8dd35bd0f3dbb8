"""The cell classifier on real tiny OpenVINO cells packages built here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cell_fields import discs_field

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import detect_cells
from allscope.core.classifier import Classifier
from allscope.core.model_package import ModelPackageError, file_sha256, load_package, seal_package
from allscope.testing import CELL_CLASSES, write_tiny_cells_package, write_tiny_package


@pytest.fixture()
def package(tmp_path):
    return write_tiny_cells_package(tmp_path / "cells")


def field_and_cells():
    field = discs_field([(50, 60), (140, 70), (100, 150)], radius=14)
    return field, detect_cells(field)


def test_predict_matches_the_model_maths_for_every_cell(package):
    classifier = CellClassifier(package, inference_precision="f32")
    field, cells = field_and_cells()
    calls = classifier.predict(field, cells)
    crops = cell_crops(field, cells, classifier.size, classifier.crop)
    features = crops[..., ::-1].reshape(len(cells), -1, 3).mean(axis=1) / 255.0  # RGB means
    weights = np.zeros((3, 7))
    weights[1, 0], weights[2, 0], weights[1, 1], weights[2, 1] = -20, 20, 20, -20
    logits = features @ weights
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert [c.cell for c in calls] == cells
    for call, row, feats in zip(calls, expected, features, strict=True):
        assert list(call.probabilities) == list(CELL_CLASSES)
        np.testing.assert_allclose(list(call.probabilities.values()), row, atol=1e-5)
        np.testing.assert_allclose(call.features, feats, atol=1e-5)
        assert call.p_blast == pytest.approx(row[0], abs=1e-5)
        assert call.label == CELL_CLASSES[int(np.argmax(row))]
        assert call.is_blast == (call.p_blast >= package.threshold)


def test_purple_cells_are_blasts_and_the_threshold_decides(tmp_path):
    field, cells = field_and_cells()
    lenient = CellClassifier(write_tiny_cells_package(tmp_path / "a", threshold=0.5))
    strict = CellClassifier(write_tiny_cells_package(tmp_path / "b", threshold=0.9999))
    assert all(c.is_blast and c.label == "blast" for c in lenient.predict(field, cells))
    assert not any(c.is_blast for c in strict.predict(field, cells))


def test_a_field_without_cells_needs_no_inference(package):
    assert CellClassifier(package).predict(np.zeros((50, 50, 3), np.uint8), []) == []


def test_batch_results_equal_one_by_one(package):
    classifier = CellClassifier(package, inference_precision="f32")
    field, cells = field_and_cells()
    together = classifier.predict(field, cells)
    for call, cell in zip(together, cells, strict=True):
        (alone,) = classifier.predict(field, [cell])
        assert alone.p_blast == pytest.approx(call.p_blast, abs=1e-6)


def add_site_head(package, w, b, threshold, **extra):
    np.savez(package.path / "site_head.npz", w=w, b=b, threshold=threshold, **extra)
    meta_path = package.path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["site_head"] = {
        "file": "site_head.npz",
        "sha256": file_sha256(package.path / "site_head.npz"),
        "summary": {"site": "test"},
    }
    meta_path.write_text(json.dumps(meta))
    seal_package(package.path)
    return load_package(package.path)


def test_a_site_head_replaces_p_blast_and_threshold(package):
    # p = sigmoid(10 * (green mean - 0.5)): the site calls green-rich cells blasts
    adapted = add_site_head(package, np.array([0.0, 10.0, 0.0]), -5.0, 0.3)
    classifier = CellClassifier(adapted, inference_precision="f32")
    field, cells = field_and_cells()
    calls = classifier.predict(field, cells)
    assert classifier.threshold == 0.3
    for call in calls:
        expected = 1 / (1 + np.exp(-(10 * call.features[1] - 5)))
        assert call.p_blast == pytest.approx(expected, abs=1e-6)
        assert call.is_blast == (expected >= 0.3)
        assert call.probabilities["blast"] != pytest.approx(call.p_blast, abs=1e-3)


def test_a_damaged_site_head_is_refused_by_name(package):
    adapted = add_site_head(package, np.ones(3), 0.0, 0.5)
    with open(adapted.path / "site_head.npz", "r+b") as handle:
        handle.seek(40)
        handle.write(b"\x00\x01")
    with pytest.raises(ModelPackageError, match=r"site_head\.npz: SHA-256 mismatch"):
        CellClassifier(adapted.path)


def test_packages_of_the_other_kind_are_refused(tmp_path, package):
    fields = write_tiny_package(tmp_path / "fields")
    with pytest.raises(
        ModelPackageError, match="a 'fields' model package, but a 'cells' package is needed"
    ):
        CellClassifier(fields.path)
    with pytest.raises(
        ModelPackageError, match="a 'cells' model package, but a 'fields' package is needed"
    ):
        load_package(package.path, kind="fields")
    with pytest.raises(ModelPackageError, match="cells packages run in CellClassifier"):
        Classifier(package)  # a field classifier cannot run a cells model


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("blast_class"), "blast_class None is not one of the classes"),
        (
            lambda m: m.update(blast_class="myeloblast"),
            "blast_class 'myeloblast' is not one of the classes",
        ),
        (lambda m: m.update(crop={"scale": 40}), "crop.scale: must be less than or equal to 6"),
        (lambda m: m.update(crop={"zoom": 2}), "crop.zoom"),
        (lambda m: m.update(kind="slides"), "kind: .*'fields' or 'cells'"),
    ],
)
def test_malformed_cells_model_json_is_reported(package, edit, message):
    meta_path = package.path / "model.json"
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))
    seal_package(package.path)  # the manifest matches: the schema is what refuses the package
    with pytest.raises(ModelPackageError, match=message):
        CellClassifier(package.path)


def test_a_model_without_a_features_output_is_refused(tmp_path):
    import openvino as ov

    from allscope.testing import tiny_cell_model

    model = tiny_cell_model()
    only_logits = ov.Model([model.output(0).get_node()], model.get_parameters(), "no_features")
    meta = json.loads((write_tiny_cells_package(tmp_path / "x").path / "model.json").read_text())
    from allscope.core.model_package import write_package

    bad = write_package(
        tmp_path / "bad",
        only_logits,
        {k: v for k, v in meta.items() if k not in ("files", "format")},
    )
    with pytest.raises(ModelPackageError, match="second output named 'features'"):
        CellClassifier(bad)


def test_the_one_loader_loads_a_cells_package_and_names_a_missing_one(package, tmp_path):
    from allscope.core.model_loading import load_cell_classifier

    assert load_cell_classifier(package.path).classes == CELL_CLASSES
    with pytest.raises(ModelPackageError, match=r"No cells model package .*train cells"):
        load_cell_classifier(tmp_path / "nowhere")
    fields = write_tiny_package(tmp_path / "fields")
    with pytest.raises(ModelPackageError, match="a 'cells' package is needed"):
        load_cell_classifier(fields.path)


def test_a_site_head_without_its_threshold_is_refused_by_name(tmp_path):
    package = write_tiny_cells_package(tmp_path / "cells")
    np.savez(package.path / "site_head.npz", w=np.ones(3), b=0.0)  # no threshold
    meta_path = package.path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["site_head"] = {"file": "site_head.npz",
                         "sha256": file_sha256(package.path / "site_head.npz")}
    meta_path.write_text(json.dumps(meta))
    seal_package(package.path)
    with pytest.raises(ModelPackageError, match="site_head.npz: not a readable site head"):
        CellClassifier(package.path)


def edited(package, **changes):
    meta_path = package.path / "model.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), **changes}))
    seal_package(package.path)
    return package.path


def test_a_cells_model_with_non_square_crops_is_refused(package):
    with pytest.raises(ModelPackageError, match="cell crops are square; model.json input is 32x"):
        CellClassifier(edited(package, input={"width": 32, "height": 48}))


def test_a_cells_model_whose_scores_do_not_match_the_classes_is_refused(package):
    with pytest.raises(ModelPackageError, match="the model has 7 outputs but model.json lists 6"):
        CellClassifier(edited(package, classes=list(CELL_CLASSES[:6])))


@pytest.mark.parametrize(
    "crops",
    [np.zeros((2, 32, 32), np.uint8), np.zeros((2, 16, 16, 3), np.uint8),
     np.zeros((2, 32, 32, 3), np.float32)],
    ids=["grey", "other-size", "float"],
)
def test_crops_of_another_shape_or_type_are_refused(package, crops):
    with pytest.raises(ValueError, match="expected uint8 crops of shape \\(N, 32, 32, 3\\)"):
        CellClassifier(package).predict_crops(crops)


def test_a_probabilities_output_is_normalised_per_crop(tmp_path):
    weights = np.tile(np.arange(1.0, 8.0, dtype=np.float32), (3, 1))  # positive scores
    package = write_tiny_cells_package(tmp_path / "cells", weights)
    classifier = CellClassifier(edited(package, output="probabilities"), inference_precision="f32")
    crops = np.full((2, 32, 32, 3), (200, 150, 100), np.uint8)
    probabilities, features = classifier.predict_crops(crops)
    scores = features.astype(np.float64) @ weights.astype(np.float64)
    np.testing.assert_allclose(probabilities, scores / scores.sum(1, keepdims=True), rtol=1e-5)
