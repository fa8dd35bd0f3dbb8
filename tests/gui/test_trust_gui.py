"""The trust features in the desktop app: calibration, quality limits, OOD words, evidence maps.

Real sources, a real session store in tmp_path, real tiny OpenVINO models, real threads.
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))  # test_cam's tiny CAM model

from gui_helpers import field_with_cells, result
from trust_helpers import Repeat

from allscope.app.capture import FieldWriter
from allscope.app.live_run import LiveController
from allscope.app.normalizer_switch import OutsideCounter
from allscope.app.session_fields import SessionFieldStore
from allscope.app.settings import (
    SETTINGS_FILE,
    Settings,
    load_settings,
    quality_settings,
    save_settings,
)
from allscope.core.classifier import Classifier
from allscope.core.colour.calibration import (
    DRIFT_WARN,
    ColourNormalizer,
    load_white_reference,
    white_reference,
)
from allscope.core.colour.target import to_lab
from allscope.core.field_analysis import base_result, classified_result
from allscope.core.flags import FlagPolicy
from allscope.core.frames import Frame
from allscope.core.ood import OUTSIDE, OodDetector
from allscope.core.sources.demo.slide import Illumination, Stain, render_field
from allscope.core.store import SessionInfo, SessionStore
from allscope.gui.app import create_app
from allscope.gui.classification_panel import ClassificationPanel
from allscope.gui.gallery import GalleryModel
from allscope.gui.review_pane import ReviewPanel
from allscope.gui.status import StatusBar, TrustValues

WAIT_MS = 30000
WARM_LAMP = Illumination(gains=(0.85, 1.0, 1.15), vignette=0.1, brightness=0.85)  # B, G, R
NEUTRAL_LAMP = Illumination(vignette=0.1, brightness=0.85)


def blank_area(lamp: Illumination, width=640, height=360) -> np.ndarray:
    """An empty, lit slide under ``lamp``, with sensor noise."""
    glass = (np.exp(-Stain().background) * 255.0).astype(np.float32)
    lit = lamp.map(width, height) * glass + np.random.default_rng(0).normal(
        0, 2, (height, width, 3)
    )
    return np.clip(lit + 0.5, 0, 255).astype(np.uint8)


def mean_delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(to_lab(a) - to_lab(b), axis=2).mean())


@pytest.fixture
def window_on(qtbot, tmp_path, monkeypatch):
    """Opens the window on a source spec with temporary settings and data dirs; closes it after."""
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    windows = []

    def _open(spec: str):
        options = {"width": 640, "height": 360} if spec == "demo" else None
        _, window = create_app(
            ["--settings-dir", str(tmp_path / "settings"), "--source", spec], source_options=options
        )
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        qtbot.waitUntil(
            lambda: window.controller is not None and window.controller.latest_frame() is not None,
            timeout=WAIT_MS,
        )
        return window

    yield _open
    for window in windows:
        window.close()


def test_calibrate_action_saves_a_reference_that_corrects_the_lamp_cast(window_on, tmp_path):
    cv2.imwrite(str(tmp_path / "blank.png"), blank_area(WARM_LAMP))
    window = window_on(str(tmp_path / "blank.png"))
    window.microscope.calibrate_action.trigger()
    key = window.controller.camera_key
    saved = load_white_reference(tmp_path / "settings", key)
    assert saved is not None and window.controller.normalizer.inner.white == saved
    assert "calibration" not in window.banner.text().lower()
    neutral = ColourNormalizer(white=white_reference(blank_area(NEUTRAL_LAMP), key))
    clean = render_field(640, 360, seed=3, stain=Stain(), illumination=NEUTRAL_LAMP)[0]
    cast = render_field(640, 360, seed=3, stain=Stain(), illumination=WARM_LAMP)[0]
    assert mean_delta_e(cast, clean) > 15.0
    assert mean_delta_e(ColourNormalizer(white=saved)(cast), neutral(clean)) < 3.0


def test_calibrating_on_a_field_of_cells_shows_the_reason_in_the_banner(window_on, tmp_path):
    cv2.imwrite(str(tmp_path / "cells.png"), render_field(640, 360, seed=3, n_wbc=6)[0])
    window = window_on(str(tmp_path / "cells.png"))
    assert window.microscope.calibrate() is False
    assert "Calibration refused" in window.banner.text() and "not blank" in window.banner.text()
    assert not list((tmp_path / "settings").glob("white-reference-*.json"))


def test_quality_limit_edited_in_the_policy_panel_is_saved_and_applied(window_on, tmp_path):
    window = window_on("demo")
    window.panels.policy.quality_boxes["min_sharpness"].setValue(0.4)
    saved = json.loads((tmp_path / "settings" / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved["quality"]["min_sharpness"] == pytest.approx(0.4)
    assert window.controller.gate.settings.min_sharpness == pytest.approx(0.4)


def test_turning_normalisation_off_passes_frames_unchanged_and_is_saved(window_on, tmp_path):
    window = window_on("demo")
    assert window.controller.normalizer.enabled
    window.panels.policy.normalize.setChecked(False)
    assert (
        not window.controller.normalizer.enabled
        and not window.microscope.normalize_action.isChecked()
    )
    frame = window.controller.latest_frame().image
    assert window.controller.normalizer(frame) is frame
    saved = json.loads((tmp_path / "settings" / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved["normalize_colour"] is False


def test_quality_settings_round_trip_and_tolerate_unknown_or_invalid_values(tmp_path):
    settings = Settings(normalize_colour=False)
    settings.quality.update(min_sharpness=0.31, max_highlights=0.7)
    save_settings(settings, tmp_path)
    loaded, warnings = load_settings(tmp_path)
    assert loaded == settings and warnings == []
    assert quality_settings(loaded.quality)[0].min_sharpness == 0.31
    data = json.loads((tmp_path / SETTINGS_FILE).read_text(encoding="utf-8"))
    data["quality"] = {"min_sharpness": 7.0, "from_a_newer_version": 1}
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(data), encoding="utf-8")
    loaded, warnings = load_settings(tmp_path)
    assert "from_a_newer_version" not in loaded.quality
    # the bad value is caught on loading, by its key: that value alone takes its default
    assert len(warnings) == 1 and "quality.min_sharpness" in warnings[0]
    quality, warning = quality_settings(loaded.quality)
    assert quality.min_sharpness == 0.25 and warning is None


def test_drift_indicator_turns_amber_above_the_warning_level(qtbot):
    bar = StatusBar()
    qtbot.addWidget(bar)
    bar.show_trust(TrustValues(normalizing=True, calibrated=True, drift=DRIFT_WARN - 1, outside=2))
    assert (
        not bar.drift_warning
        and bar.text("colour") == f"Colour calibrated (drift {DRIFT_WARN - 1:.1f})"
    )
    bar.show_trust(TrustValues(normalizing=True, calibrated=True, drift=DRIFT_WARN + 1, outside=2))
    assert bar.drift_warning and "recalibrate on a blank area" in bar.labels["colour"].toolTip()
    assert (
        bar.text("outside") == "2 field(s) need a look"
        and "outside the model's experience" in bar.labels["outside"].toolTip()
    )


@pytest.fixture(scope="module")
def cam_package(tmp_path_factory):
    trust_export = pytest.importorskip("allscope.training.cam_outputs")
    from test_cam import write_cam_package

    root = tmp_path_factory.mktemp("cam")
    write_cam_package(root / "plain")
    return trust_export.augment_package(root / "plain", root / "augmented")


def test_ood_abstained_result_shows_outside_the_models_experience(qtbot, cam_package):
    from test_cam import field_with_blast

    classifier = Classifier(cam_package)
    field, mask = field_with_cells(224, 224)
    prediction = classifier.predict_detailed(field_with_blast())
    frame = Frame(id=1, timestamp=0.0, image=field, source="test")
    gated = base_result(frame, mask, True, (), {})
    verdict = classified_result(
        gated, classifier, prediction, 1.0, OodDetector("energy", threshold=-1e6)
    )
    assert OUTSIDE in verdict.reasons and not verdict.assessable
    panel = ClassificationPanel()
    qtbot.addWidget(panel)
    panel.show_result(gated, verdict, time.monotonic())
    assert panel.state_label.text() == "Needs a look" and panel.state.probabilities is None
    panel.show_result(
        result(None, assessable=False, reasons=("out of focus",)), None, time.monotonic()
    )
    assert (
        panel.state_label.text() == "Not assessable" and "out of focus" in panel.detail_label.text()
    )


def test_outside_fields_are_counted_once_per_still_run():
    counter = OutsideCounter()
    outside = result(0.9, assessable=False, reasons=(OUTSIDE,))
    inside = result(0.9)
    for verdict in (
        outside, outside, inside, outside, outside, replace(outside, moving=True), outside,
    ):
        counter.update(verdict)
    assert counter.count == 3  # two runs split by a verdict inside, a third after the stage moved




def test_cam_flag_is_stored_with_its_heat_map_and_h_shows_it_in_review(
    qtbot, cam_package, tmp_path
):
    from test_cam import field_with_blast

    with SessionStore(tmp_path / "store") as store:
        fields = SessionFieldStore(store, store.create_session(SessionInfo(source="repeat")))
        writer = FieldWriter(fields)
        controller = LiveController(
            Repeat(field_with_blast(), 12), Classifier(cam_package, inference_precision="f32"),
            FlagPolicy(threshold=0.3, consecutive=2), writer, deque(),
        )
        controller.start()
        outcomes = []
        qtbot.waitUntil(lambda: bool(outcomes.extend(writer.drain()) or outcomes), timeout=WAIT_MS)
        controller.stop()
        writer.close()
        assert outcomes[0].error is None
        saved = store.get_field(outcomes[0].record.id)
        assert saved.heat_map_path is not None and saved.heat_map_path.is_file()
        model = GalleryModel()
        model.add_record(outcomes[0].record)
        panel = ReviewPanel(model, fields)
        qtbot.addWidget(panel)
        panel.show()
        panel.select(0)
        before = panel.pane.displayed_image().copy()
        qtbot.keyClick(panel.pane, Qt.Key.Key_H)
        after = panel.pane.displayed_image()
        assert panel.pane.cam_box.isChecked() and panel.pane.cam_box.isEnabled()
        assert (
            np.abs(after.astype(int) - before.astype(int)).max() > 50
        )  # the evidence is painted on
