"""Class activation maps on a tiny real IR: conv → feature map → pooling → batch norm → dense."""

import cv2
import numpy as np
import pytest

from allscope.core.cam import (
    FEATURE_MAP,
    FEATURES,
    class_maps,
    evidence_map,
    field_heat_map,
    load_cam_head,
    overlay,
    peak_position,
)
from allscope.core.classifier import Classifier
from allscope.core.model_package import InputSpec, ModelPackageError, write_package
from allscope.testing import CLASSES

ov = pytest.importorskip("openvino")
ops = pytest.importorskip("openvino.opset13")
trust_export = pytest.importorskip("allscope.training.cam_outputs")

BLAST = (144, 48)  # (x, y) in the 224 model input: the centre of feature cell (row 1, column 4)
BLAST_RADIUS = 20


def cam_model(affine_head: bool = True):
    """RGB in [0, 1] → 1×1 conv (purple, pink, red, offset) → ReLU → 32-px average pool (7×7)
    → global mean → batch norm as multiply-add → dense. Purple drives "Pre-B"."""
    x = ops.parameter([1, 3, 224, 224], np.float32, name="field")
    kernel = np.array([[0, -1, 1], [1, 0, -1], [1, 0, 0], [0, 0, 0]], np.float32).reshape(
        4, 3, 1, 1
    )
    conv = ops.add(ops.convolution(x, ops.constant(kernel), [1, 1], [0, 0], [0, 0], [1, 1]),
                   ops.constant(np.array([0, 0, 0, 1], np.float32).reshape(1, 4, 1, 1)))
    fmap = ops.avg_pool(ops.relu(conv), [32, 32], [0, 0], [0, 0], [32, 32], True)
    pooled = ops.reduce_mean(fmap, ops.constant(np.array([2, 3], np.int64)), False)
    scale, shift = (
        np.array([2.0, 1.5, 0.5, 1.0], np.float32),
        np.array([0.1, -0.2, 0.0, 0.3], np.float32),
    )
    normed = ops.add(ops.multiply(pooled, ops.constant(scale)), ops.constant(shift))
    weights = np.array(
        [[-4, 0, 6, 0], [3, 1, -2, 0], [0, 0.5, 1, 0.2], [1, 0, 0, -0.5]], np.float32
    )
    logits = ops.add(ops.matmul(normed, ops.constant(weights), False, False),
                     ops.constant(np.array([0.5, -0.5, 0.0, 0.0], np.float32)))
    out = logits if affine_head else ops.relu(logits)
    out.output(0).get_tensor().set_names({"logits"})
    return ov.Model([out], [x], "tiny_cam")


def write_cam_package(folder, affine_head=True):
    meta = {"name": "tiny-cam", "version": "0", "architecture": "test", "classes": list(CLASSES),
            "benign_class": "Benign", "input": InputSpec(), "output": "logits"}
    return write_package(folder, cam_model(affine_head), meta)


def field_with_blast(width=224, height=224, centre=BLAST) -> np.ndarray:
    field = np.full((height, width, 3), (225, 215, 240), np.uint8)  # pink background (BGR)
    cv2.circle(field, centre, BLAST_RADIUS, (160, 40, 120), -1)  # purple nucleus
    return field


@pytest.fixture(scope="module")
def augmented(tmp_path_factory):
    root = tmp_path_factory.mktemp("cam")
    write_cam_package(root / "plain")
    return trust_export.augment_package(root / "plain", root / "augmented")


def test_augmented_package_exports_feature_map_and_features(augmented):
    prediction = Classifier(augmented).predict_detailed(field_with_blast())
    assert prediction.outputs[FEATURE_MAP].shape == (1, 4, 7, 7)
    assert prediction.outputs[FEATURES].shape == (1, 4)


def test_class_maps_average_exactly_to_the_logits(augmented):
    classifier = Classifier(augmented, inference_precision="f32")
    prediction = classifier.predict_detailed(field_with_blast())
    maps = class_maps(prediction.outputs[FEATURE_MAP], load_cam_head(classifier.package))
    np.testing.assert_allclose(maps.mean(axis=(1, 2)), prediction.scores, atol=1e-4)


def test_cam_peaks_on_the_blast(augmented):
    classifier = Classifier(augmented)
    prediction = classifier.predict_detailed(field_with_blast())
    label = int(np.argmax(prediction.probabilities))
    cam = evidence_map(
        prediction.outputs[FEATURE_MAP], load_cam_head(classifier.package), label, versus=0
    )
    x, y = peak_position(field_heat_map(cam, (224, 224)))
    assert CLASSES[label] == "Pre-B" and np.hypot(x - BLAST[0], y - BLAST[1]) < BLAST_RADIUS


def test_heat_map_follows_the_blast_in_a_wide_frame(augmented):
    frame = field_with_blast(640, 360, centre=(230, 90))  # inside the centre square (x 140..500)
    classifier = Classifier(augmented)
    prediction = classifier.predict_detailed(frame)
    cam = evidence_map(
        prediction.outputs[FEATURE_MAP], load_cam_head(classifier.package), 2, versus=0
    )
    heat = field_heat_map(cam, frame.shape)
    x, y = peak_position(heat)
    assert np.hypot(x - 230, y - 90) < 2 * BLAST_RADIUS and heat[:, :140].max() == 0.0
    assert overlay(frame, heat).shape == frame.shape


def test_non_affine_head_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not affine"):
        trust_export.augment_package(
            write_cam_package(tmp_path / "p", affine_head=False).path, tmp_path / "a"
        )


def test_model_without_global_pooling_is_refused():
    x = ops.parameter([1, 3, 8, 8], np.float32)
    flat = ops.reshape(x, ops.constant(np.array([1, 192], np.int64)), False)
    dense = ops.matmul(flat, ops.constant(np.ones((192, 4), np.float32)), False, False)
    with pytest.raises(ValueError, match="global average pooling"):
        trust_export.add_cam_outputs(ov.Model([dense], [x], "flat"))


def test_tampered_cam_head_is_detected(augmented, tmp_path):
    import shutil
    copy = tmp_path / "copy"
    shutil.copytree(augmented, copy)
    np.savez(copy / "cam_head.npz", weights=np.zeros((4, 4)), bias=np.zeros(4))
    from allscope.core.model_package import load_package
    with pytest.raises(ModelPackageError, match="SHA-256"):
        load_cam_head(load_package(copy))


def test_feature_map_of_wrong_width_is_refused(augmented):
    head = load_cam_head(Classifier(augmented).package)
    with pytest.raises(ValueError, match="4 channels"):
        class_maps(np.zeros((1, 8, 7, 7)), head)


def test_a_cam_head_changed_after_the_package_was_loaded_is_refused(augmented, tmp_path):
    import shutil

    from allscope.core.model_package import load_package

    copy = tmp_path / "copy"
    shutil.copytree(augmented, copy)
    package = load_package(copy)  # checked against its manifest here
    np.savez(copy / "cam_head.npz", weights=np.zeros((4, 4)), bias=np.zeros(4))
    with pytest.raises(ModelPackageError, match="cam_head.npz: missing or its SHA-256 does not"):
        load_cam_head(package)


def test_a_map_without_positive_evidence_shows_nothing():
    heat = field_heat_map(np.full((7, 7), -1.5, np.float32), (120, 200, 3))
    assert heat.shape == (120, 200) and heat.dtype == np.float32 and not heat.any()
