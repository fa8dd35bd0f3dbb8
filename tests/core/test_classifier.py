"""The OpenVINO classifier on real tiny IR packages built here."""

import json
import threading

import numpy as np
import pytest

from allscope.core.classifier import Classifier, prepare_field, square_crop
from allscope.core.model_package import InputSpec, ModelPackageError, load_package, seal_package
from allscope.testing import CLASSES, write_tiny_package


@pytest.fixture()
def package(tmp_path):
    return write_tiny_package(tmp_path / "tiny")


def expected_probabilities(bgr: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    rgb_mean = bgr[..., ::-1].reshape(-1, 3).mean(axis=0) / 255.0
    logits = rgb_mean @ weights + bias
    e = np.exp(logits - logits.max())
    return e / e.sum()


def test_predict_matches_the_model_maths_in_f32(tmp_path):
    rng = np.random.default_rng(1)
    weights = rng.normal(0, 3, (3, 4)).astype(np.float32)
    bias = rng.normal(0, 1, 4).astype(np.float32)
    classifier = Classifier(
        write_tiny_package(tmp_path / "m", weights, bias), inference_precision="f32"
    )
    field = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        classifier.predict(field), expected_probabilities(field, weights, bias), atol=1e-5
    )


def test_p_all_is_one_minus_benign(package):
    classifier = Classifier(package, inference_precision="f32")
    probabilities = classifier.predict(np.full((224, 224, 3), (200, 90, 170), np.uint8))
    assert classifier.p_all(probabilities) == pytest.approx(
        1 - probabilities[CLASSES.index("Benign")]
    )
    assert classifier.p_all(probabilities) > 0.9  # purple field → ALL with the tiny model


def test_fields_of_other_sizes_are_centre_cropped_and_resized(package):
    classifier = Classifier(package, inference_precision="f32")
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 80:560] = (200, 90, 170)  # the centre square is purple, the sides black
    square = np.full((224, 224, 3), (200, 90, 170), np.uint8)
    np.testing.assert_allclose(classifier.predict(frame), classifier.predict(square), atol=1e-6)
    assert square_crop(frame).shape == (480, 480, 3)
    assert prepare_field(frame, None, InputSpec()).shape == (224, 224, 3)


def test_async_result_equals_sync(package):
    classifier = Classifier(package, inference_precision="f32")
    field = np.full((224, 224, 3), (120, 140, 210), np.uint8)
    got = []
    assert classifier.try_submit(field, "tag", lambda p, tag: got.append((p, tag)))
    classifier.wait()
    assert got[0][1] == "tag"
    np.testing.assert_allclose(got[0][0].probabilities, classifier.predict(field), atol=1e-6)


def test_try_submit_refuses_instead_of_blocking_when_requests_are_busy(package):
    classifier = Classifier(package, num_requests=1)
    release = threading.Event()
    field = np.zeros((224, 224, 3), np.uint8)
    assert classifier.try_submit(field, None, lambda p, d: release.wait(5))
    try:
        assert classifier.try_submit(field, None, lambda p, d: None) is False
    finally:
        release.set()
        classifier.wait()
    assert classifier.try_submit(field, None, lambda p, d: None) is True
    classifier.wait()


def test_predict_batch_keeps_input_order(package):
    classifier = Classifier(package, mode="throughput", inference_precision="f32")
    fields = [np.full((64, 64, 3), (b, 100, 150), np.uint8) for b in range(0, 250, 25)]
    batch = classifier.predict_batch(fields)
    for field, row in zip(fields, batch, strict=False):
        np.testing.assert_allclose(row, classifier.predict(field), atol=1e-6)


def test_hash_mismatch_names_the_file(package):
    with open(package.path / "model.bin", "r+b") as handle:
        handle.seek(8)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelPackageError, match=r"model\.bin: SHA-256 mismatch"):
        load_package(package.path)


def test_class_count_mismatch_is_reported(package):
    meta_path = package.path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["classes"] = ["Benign", "Pre-B", "Pro-B"]
    meta_path.write_text(json.dumps(meta))
    seal_package(meta_path.parent)  # a deliberate edit: the manifest is rewritten to match
    with pytest.raises(ModelPackageError, match="4 outputs but model.json lists 3 classes"):
        Classifier(package.path)


def test_input_shape_mismatch_is_reported(package):
    meta_path = package.path / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["input"]["width"] = meta["input"]["height"] = 256
    meta_path.write_text(json.dumps(meta))
    seal_package(meta_path.parent)  # a deliberate edit: the manifest is rewritten to match
    with pytest.raises(ModelPackageError, match="does not match model.json input 256x256"):
        Classifier(package.path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("classes"), "classes: Field required"),
        (
            lambda m: m.update(benign_class="Normal"),
            "benign_class 'Normal' is not one of the classes",
        ),
        (lambda m: m.update(format=99), "newer than this allscope understands"),
    ],
)
def test_malformed_model_json_is_reported(package, edit, message):
    meta_path = package.path / "model.json"
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))
    seal_package(meta_path.parent)  # a deliberate edit: the manifest is rewritten to match
    with pytest.raises(ModelPackageError, match=message):
        load_package(package.path)


def test_missing_package_and_broken_json_are_reported(tmp_path):
    with pytest.raises(ModelPackageError, match="not a directory"):
        load_package(tmp_path / "nowhere")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.json").write_text("{not json")
    with pytest.raises(ModelPackageError, match="not valid JSON"):
        load_package(tmp_path / "broken")


def test_a_probabilities_output_is_normalised_not_softmaxed(tmp_path):
    """A package whose model already gives probabilities: scores are only scaled to sum 1."""
    weights = np.tile(np.array([1.0, 2.0, 3.0, 4.0], np.float32), (3, 1))  # positive scores
    package = write_tiny_package(tmp_path / "p", weights, np.full(4, 0.1, np.float32))
    meta = json.loads((package.path / "model.json").read_text())
    (package.path / "model.json").write_text(json.dumps({**meta, "output": "probabilities"}))
    seal_package(package.path)
    classifier = Classifier(package.path, inference_precision="f32")
    field = np.full((224, 224, 3), (200, 120, 160), np.uint8)
    scores = classifier.predict_detailed(field).scores
    assert (scores > 0).all()
    probabilities = classifier.predict(field)
    np.testing.assert_allclose(probabilities, scores / scores.sum(), rtol=1e-6)
    assert probabilities.sum() == pytest.approx(1.0)


def test_the_request_count_follows_the_mode(package):
    assert Classifier(package, num_requests=3).num_requests == 3
    assert Classifier(package).num_requests == 2  # latency: two requests for a live stream


@pytest.mark.parametrize(
    "field",
    [np.zeros((224, 224), np.uint8), np.zeros((224, 224, 4), np.uint8),
     np.zeros((224, 224, 3), np.float32)],
    ids=["grey", "bgra", "float"],
)
def test_only_8_bit_bgr_fields_are_classified(package, field):
    with pytest.raises(ValueError, match="expected a uint8 BGR image \\(H, W, 3\\)"):
        Classifier(package).predict(field)


def test_a_bgr_package_with_its_own_mean_and_no_scaling_gets_exactly_that(tmp_path):
    """color_order BGR (no channel swap), mean subtracted, std 1 (no scale step)."""
    rng = np.random.default_rng(2)
    weights = rng.normal(0, 0.02, (3, 4)).astype(np.float32)
    package = write_tiny_package(tmp_path / "bgr", weights, np.zeros(4, np.float32))
    meta = json.loads((package.path / "model.json").read_text())
    meta["input"] |= {"color_order": "BGR", "mean": [10.0, 20.0, 30.0], "std": [1.0, 1.0, 1.0]}
    (package.path / "model.json").write_text(json.dumps(meta))
    seal_package(package.path)
    classifier = Classifier(package.path, inference_precision="f32")
    field = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    logits = (field.reshape(-1, 3).mean(0) - np.array([10.0, 20.0, 30.0])) @ weights
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(classifier.predict(field), expected, atol=1e-5)


def test_an_ir_openvino_cannot_read_is_refused_by_name(package):
    (package.path / "model.xml").write_text("<net><layers>cut short")
    seal_package(package.path)  # the manifest matches: OpenVINO is what refuses it
    with pytest.raises(ModelPackageError, match="model.xml: OpenVINO cannot read it"):
        Classifier(package.path)
