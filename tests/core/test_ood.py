"""Out-of-distribution scores, thresholds, abstention, and the package entry."""

import json

import cv2
import numpy as np
import pytest

from allscope.core.flags import FlagPolicy, FlagTracker
from allscope.core.model_package import (
    DEFAULT_MODEL_DIR,
    ModelPackageError,
    load_package,
    seal_package,
)
from allscope.core.ood import (
    OUTSIDE,
    FeatureStats,
    OodDetector,
    abstain,
    choose_threshold,
    energy_score,
    fit_feature_stats,
    load_ood,
)
from allscope.core.results import FieldResult
from allscope.paths import shared_data_dir
from allscope.testing import write_tiny_package

SHARED = shared_data_dir()


def test_energy_of_flat_logits_is_minus_t_log_classes():
    assert energy_score(np.zeros(4), temperature=2.0) == pytest.approx(-2.0 * np.log(4))


def test_confident_logits_have_lower_energy_than_uncertain_ones():
    assert energy_score(np.array([9.0, 0, 0, 0])) < energy_score(np.array([0.5, 0.4, 0.3, 0.2])) - 5


def clusters(rng, n=200, dim=16, offset=0.0):
    centres = np.eye(4, dim) * 6.0
    labels = rng.integers(0, 4, n)
    return centres[labels] + rng.normal(0, 1, (n, dim)) + offset, labels


def test_feature_distance_separates_far_features_from_training_clusters():
    rng = np.random.default_rng(0)
    train, labels = clusters(rng)
    stats = fit_feature_stats(train, labels, components=8)
    near = [stats.distance(f) for f in clusters(rng, 50)[0]]
    far = [stats.distance(f) for f in clusters(rng, 50, offset=4.0)[0]]
    assert np.percentile(far, 5) > np.percentile(near, 95)


def test_feature_stats_round_trip_through_npz(tmp_path):
    rng = np.random.default_rng(1)
    stats = fit_feature_stats(*clusters(rng), components=4)
    loaded = FeatureStats.load(stats.save(tmp_path / "s.npz"))
    probe = rng.normal(0, 1, 16)
    assert loaded.distance(probe) == pytest.approx(stats.distance(probe), rel=1e-5)


def test_threshold_leaves_the_stated_fraction_above_it():
    scores = np.arange(1000.0)
    threshold = choose_threshold(scores, rejected=0.02)
    assert np.mean(scores > threshold) == pytest.approx(0.02, abs=0.001)


def result(p_all: float, frame_id: int) -> FieldResult:
    return FieldResult(
        frame_id=frame_id, timestamp=0.0, source="t", name=str(frame_id), wbc_count=2,
        mask_coverage=0.1, assessable=True, classes=("Benign", "Pre-B"),
        probabilities=(1 - p_all, p_all), label="Pre-B", p_all=p_all,
    )


def test_fields_outside_the_experience_are_never_flagged():
    detector = OodDetector("energy", threshold=-3.0)
    tracker = FlagTracker(FlagPolicy(threshold=0.5, consecutive=1))
    marked = abstain(result(0.99, 1), score=-1.0, detector=detector)
    assert marked.reasons == (OUTSIDE,) and not marked.assessable and marked.ood_score == -1.0
    assert tracker.update(marked) is None
    assert tracker.update(abstain(result(0.99, 2), score=-5.0, detector=detector)) is not None


def package_with_ood(tmp_path, entry):
    package = write_tiny_package(tmp_path / "p")
    meta = json.loads((package.path / "model.json").read_text())
    (package.path / "model.json").write_text(json.dumps({**meta, "ood": entry}))
    seal_package(package.path)
    return load_package(package.path)


def test_package_ood_entry_is_loaded(tmp_path):
    detector = load_ood(
        package_with_ood(tmp_path, {"kind": "energy", "threshold": -2.5, "temperature": 1.5})
    )
    assert detector == OodDetector("energy", -2.5, 1.5)


def test_package_without_ood_entry_has_no_detector(tmp_path):
    assert load_ood(write_tiny_package(tmp_path / "p")) is None


def test_feature_entry_with_missing_statistics_is_refused(tmp_path):
    with pytest.raises(ModelPackageError, match="ood_features.npz: missing"):
        package_with_ood(tmp_path, {"kind": "feature", "threshold": 3.0, "sha256": "0" * 64})


def test_unknown_kind_is_refused_by_name(tmp_path):
    with pytest.raises(ModelPackageError, match="ood.kind: must be 'energy' or 'feature'"):
        load_ood(package_with_ood(tmp_path, {"kind": "entropy", "threshold": 1.0}))


@pytest.mark.shared
def test_bccd_fields_score_stranger_than_validation_fields():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not present (data beside the project)")
    if not (DEFAULT_MODEL_DIR / "model.json").is_file():
        pytest.skip("no trained model in models/default yet")
    from allscope.core.classifier import Classifier
    classifier = Classifier(DEFAULT_MODEL_DIR)
    detector = load_ood(classifier.package) or OodDetector(
        "energy", 0.0, classifier.package.temperature
    )
    split = DEFAULT_MODEL_DIR / "split.json"
    if split.is_file():  # the validation blocks of the shipped model's run
        val = [
            SHARED / "all-fields" / s["name"]
            for s in json.loads(split.read_text())["splits"]["val"]
        ][::10]
    else:  # no split shipped: training-distribution fields of every class
        val = sorted((SHARED / "all-fields").glob("*/*.jpg"))[::90]
    bccd = sorted((SHARED / "bccd" / "JPEGImages").glob("*.jpg"))[::12]

    def scores(paths):
        out = []
        for path in paths:
            prediction = classifier.predict_detailed(cv2.imread(str(path)))
            out.append(detector.score(prediction.scores, prediction.outputs))
        return np.array(out)

    assert np.median(scores(bccd)) > np.percentile(scores(val), 75)


def test_a_detector_of_unknown_kind_or_without_statistics_cannot_be_made():
    with pytest.raises(ValueError, match="OOD kind must be one of energy, feature, got 'entropy'"):
        OodDetector("entropy", 1.0)
    with pytest.raises(ValueError, match="a feature OOD detector needs feature statistics"):
        OodDetector("feature", 3.0)


def test_the_feature_score_is_the_distance_of_the_models_features():
    rng = np.random.default_rng(2)
    stats = fit_feature_stats(*clusters(rng), components=4)
    detector = OodDetector("feature", 3.0, stats=stats)
    probe = rng.normal(0, 1, 16)
    logits = np.array([2.0, 0.0, 0.0, 0.0])
    assert detector.score(logits, {"features": probe}) == pytest.approx(stats.distance(probe))
    with pytest.raises(ValueError, match="the model has no 'features' output; augment"):
        detector.score(logits, {})
    with pytest.raises(ValueError, match="no 'features' output"):
        detector.score(logits)


def test_the_energy_score_needs_only_the_logits():
    detector = OodDetector("energy", -2.5, temperature=2.0)
    assert detector.score(np.zeros(4)) == pytest.approx(-2.0 * np.log(4))
    assert detector.outside(-1.0) and not detector.outside(-2.5)


def test_the_package_entry_names_the_statistics_file_only_for_the_feature_score():
    assert OodDetector("energy", -2.5, 1.5).meta() == {
        "kind": "energy", "threshold": -2.5, "temperature": 1.5,
    }
    stats = fit_feature_stats(*clusters(np.random.default_rng(3)), components=4)
    assert OodDetector("feature", 4.0, stats=stats).meta("ab" * 32) == {
        "kind": "feature", "threshold": 4.0, "temperature": 1.0,
        "file": "ood_features.npz", "sha256": "ab" * 32,
    }


def test_a_rejected_fraction_outside_0_to_1_is_refused():
    for rejected in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="rejected must be within"):
            choose_threshold(np.arange(10.0), rejected)


def package_with_stats(tmp_path, payload: bytes | None = None):
    """A tiny package whose model.json names feature statistics it carries (sealed)."""
    from allscope.core.model_package import file_sha256

    stats = fit_feature_stats(*clusters(np.random.default_rng(4)), components=4)
    package = write_tiny_package(tmp_path / "p")
    path = stats.save(package.path / "ood_features.npz")
    if payload is not None:
        path.write_bytes(payload)
    meta = json.loads((package.path / "model.json").read_text())
    meta["ood"] = {"kind": "feature", "threshold": 4.0, "sha256": file_sha256(path)}
    meta["temperature"] = 2.0
    (package.path / "model.json").write_text(json.dumps(meta))
    seal_package(package.path)
    return load_package(package.path), stats


def test_a_feature_detector_is_loaded_with_its_statistics(tmp_path):
    package, stats = package_with_stats(tmp_path)
    detector = load_ood(package)
    assert detector.kind == "feature" and detector.threshold == 4.0
    assert detector.temperature == 2.0  # none in the entry: the package's temperature
    probe = np.random.default_rng(5).normal(0, 1, 16)
    assert detector.stats.distance(probe) == pytest.approx(stats.distance(probe), rel=1e-5)


def test_statistics_changed_after_the_package_was_loaded_are_refused(tmp_path):
    package, _ = package_with_stats(tmp_path)
    fit_feature_stats(*clusters(np.random.default_rng(6)), components=4).save(
        package.path / "ood_features.npz"
    )
    with pytest.raises(ModelPackageError, match="its SHA-256 does not match model.json"):
        load_ood(package)


def test_damaged_statistics_are_refused_with_what_to_do(tmp_path):
    package, _ = package_with_stats(tmp_path, payload=b"PK\x03\x04 not really a zip archive")
    with pytest.raises(ModelPackageError, match="the OOD statistics cannot be read .*reinstall"):
        load_ood(package)
