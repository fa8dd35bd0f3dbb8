"""The live pipeline with the trust features: CAM on flags and OOD abstention."""

import json

import numpy as np
import pytest
from test_cam import BLAST, BLAST_RADIUS, field_with_blast, write_cam_package
from trust_helpers import Repeat

from allscope.core.classifier import Classifier
from allscope.core.flags import FlagPolicy
from allscope.core.model_package import seal_package
from allscope.core.ood import OUTSIDE
from allscope.core.pipeline import Pipeline

trust_export = pytest.importorskip("allscope.training.cam_outputs")




@pytest.fixture()
def augmented(tmp_path):
    write_cam_package(tmp_path / "plain")
    return trust_export.augment_package(tmp_path / "plain", tmp_path / "augmented")


def run(package, image, count=12):
    flags, results = [], []
    pipeline = Pipeline(Repeat(image, count), Classifier(package, inference_precision="f32"),
                        FlagPolicy(threshold=0.3, consecutive=2))
    pipeline.add_flag_listener(lambda flag, frame, mask: flags.append(flag))
    pipeline.add_result_listener(results.append)
    pipeline.start()
    assert pipeline.wait(timeout=20)
    pipeline.stop()
    return flags, results


def test_a_flag_carries_a_heat_map_that_peaks_on_the_blast(augmented):
    flags, _ = run(augmented, field_with_blast())
    assert len(flags) == 1 and flags[0].heat_map is not None
    heat = flags[0].heat_map
    assert heat.shape == (224, 224)
    y, x = np.unravel_index(np.argmax(heat), heat.shape)
    assert np.hypot(x - BLAST[0], y - BLAST[1]) <= BLAST_RADIUS + 16  # within one feature cell


def test_fields_beyond_the_ood_threshold_are_never_flagged(augmented):
    meta_path = augmented / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["ood"] = {"kind": "energy", "threshold": -1e6, "temperature": 1.0}  # everything is outside
    meta_path.write_text(json.dumps(meta))
    seal_package(meta_path.parent)  # a deliberate edit: the manifest is rewritten to match
    flags, results = run(augmented, field_with_blast())
    classified = [r for r in results if r.classified]
    assert classified and all(OUTSIDE in r.reasons and not r.assessable for r in classified)
    assert flags == []


def test_batch_flags_carry_the_heat_map_of_their_field(augmented, tmp_path):
    import cv2

    from allscope.core.batch import BatchAnalyzer

    cv2.imwrite(str(tmp_path / "blast.png"), field_with_blast())
    analyzer = BatchAnalyzer(Classifier(augmented, mode="throughput", inference_precision="f32"),
                             FlagPolicy(threshold=0.3), keep_flagged_frames=True)
    report = analyzer.run([tmp_path / "blast.png"])
    assert len(report.flags) == 1 and report.flags[0].heat_map is not None
    y, x = np.unravel_index(np.argmax(report.flags[0].heat_map), report.flags[0].heat_map.shape)
    assert np.hypot(x - BLAST[0], y - BLAST[1]) <= BLAST_RADIUS + 16
