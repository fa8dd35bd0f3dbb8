"""One live run without Qt, on real sources and the real pipeline: calibration and colour
normalisation, files an image folder skipped, a flag the writer cannot take, camera status,
and the name a source's white reference is saved under."""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np
import pytest
from camera_helpers import CaptureFactory, FileCamera, write_camera_video
from trust_helpers import Repeat

from allscope.app.capture import FieldWriter
from allscope.app.field_store import MemoryFieldStore
from allscope.app.live_run import LiveController
from allscope.app.normalizer_switch import SwitchableNormalizer, normalizer_for, source_key
from allscope.app.tee_source import TeeSource
from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier
from allscope.core.colour.calibration import CalibrationError, reference_path
from allscope.core.flags import FlagPolicy
from allscope.core.frames import FrameSource
from allscope.core.quality import QualitySettings
from allscope.core.sources import CameraSource, ImageSource
from allscope.testing import write_tiny_cells_package, write_tiny_package

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field

WAIT = 60.0


def blank_folder(folder: Path, count: int = 1) -> Path:
    """Fields of lit, empty glass (what a white reference is taken from)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        image = np.full((120, 160, 3), (215, 205, 225), np.uint8)
        image += rng.integers(0, 4, image.shape, dtype=np.uint8)
        cv2.imwrite(str(folder / f"glass{i}.png"), image)
    return folder


def controller_on(source: FrameSource, **kwargs) -> LiveController:
    return LiveController(source, None, FlagPolicy(), FieldWriter(MemoryFieldStore()), **kwargs)


def run_to_the_end(controller: LiveController) -> None:
    controller.start()
    assert controller.pipeline.wait(timeout=WAIT)
    controller.stop()
    controller.writer.close(WAIT)


def test_calibrating_before_any_frame_says_to_wait(tmp_path):
    controller = controller_on(ImageSource([blank_folder(tmp_path / "glass")]))
    with pytest.raises(CalibrationError, match="No frame has arrived yet"):
        controller.calibrate(tmp_path / "config")
    assert not reference_path(tmp_path / "config", controller.camera_key).exists()


@pytest.mark.parametrize("normalize", [True, False])
def test_a_blank_frame_becomes_the_sources_saved_white_reference(tmp_path, normalize):
    config = tmp_path / "config"
    controller = controller_on(ImageSource([blank_folder(tmp_path / "glass")]),
                               normalize=normalize, config_dir=config)
    run_to_the_end(controller)
    assert controller.normalizer.enabled is normalize and not controller.normalizer.calibrated
    reference = controller.calibrate(config)
    assert reference.camera == controller.camera_key == controller.source.describe()
    assert reference_path(config, reference.camera).is_file()
    # in use at once when normalising; kept for later when not
    assert controller.normalizer.calibrated is normalize
    controller.set_normalization(True, config)
    assert controller.normalizer.calibrated
    assert controller.normalizer.inner.white == reference


def test_an_unreadable_saved_reference_is_a_warning_and_normalising_goes_on_without_it(tmp_path):
    config = tmp_path / "config"
    source = ImageSource([blank_folder(tmp_path / "glass")])
    damaged = reference_path(config, source_key(source))
    damaged.parent.mkdir(parents=True)
    damaged.write_text("{not json", encoding="utf-8")
    controller = controller_on(source, normalize=True, config_dir=config)
    [(level, message)] = controller.drain_messages()
    assert level == "warning" and "unreadable white reference" in message
    assert controller.normalizer.enabled and not controller.normalizer.calibrated
    controller.set_normalization(False)
    assert not controller.normalizer.enabled and controller.normalizer.drift is None
    assert controller.drain_messages() == []


def test_files_an_image_folder_skipped_become_warnings(tmp_path):
    folder = blank_folder(tmp_path / "glass", count=2)
    (folder / "damaged.png").write_bytes(b"\x89PNG but nothing after")
    problems: deque = deque()
    source = ImageSource([folder], on_error=lambda file, why: problems.append((file, why)))
    controller = controller_on(source, problems=problems)
    run_to_the_end(controller)
    warnings = [m for level, m in controller.drain_messages() if level == "warning"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{folder / 'damaged.png'} was skipped: ")
    assert controller.stats().captured == 2  # the damaged file is not a frame
    assert controller.latest_frame().name == "glass1"


@pytest.mark.parametrize("judge", ["field model", "cells"])
def test_a_flag_the_writer_cannot_take_is_reported_as_an_error(tmp_path, judge):
    image = discs_field([(50, 60), (140, 70), (100, 150)], radius=14)
    store = MemoryFieldStore()
    writer = FieldWriter(store)
    writer.close()  # e.g. the window is closing: nothing more can be queued
    if judge == "cells":  # judged on the processing thread
        cells = CellClassifier(write_tiny_cells_package(tmp_path / "cells", threshold=0.01))
        controller = LiveController(Repeat(image, 15), None, FlagPolicy(consecutive=2), writer,
                                    cell_classifier=cells)
    else:  # judged on an OpenVINO inference thread
        model = Classifier(write_tiny_package(tmp_path / "field"), inference_precision="f32")
        controller = LiveController(Repeat(image, 15), model, FlagPolicy(consecutive=2), writer)
    controller.start()
    assert controller.pipeline.wait(timeout=WAIT)
    controller.stop()
    assert controller.flags == 1
    [(_, flag)] = controller.drain_flag_times()
    assert flag.p_all >= 0.5 if judge == "field model" else flag.p_blast >= 0.01
    errors = [m for level, m in controller.drain_messages() if level == "error"]
    assert errors == ["A flagged field could not be queued for saving: the writer is busy. "
                      "Slow the scan down; the flag is in the session log."]
    assert len(store) == 0 and controller.drain_flag_times() == []


def test_a_flag_raised_by_cells_and_a_hand_capture_are_stored_with_their_cells(tmp_path):
    image = discs_field([(50, 60), (140, 70), (100, 150)], radius=14)
    cells = CellClassifier(write_tiny_cells_package(tmp_path / "cells", threshold=0.01))
    store = MemoryFieldStore()
    writer = FieldWriter(store)
    results = []
    controller = LiveController(Repeat(image, 15), None, FlagPolicy(consecutive=2), writer,
                                on_result=results.append, cell_classifier=cells)
    controller.start()
    assert controller.pipeline.wait(timeout=WAIT)
    controller.stop()
    assert controller.flags == 1 and len(results) == controller.stats().processed
    snapshot = controller.latest()
    assert snapshot is not None and snapshot.last_classified.cells is not None
    assert controller.capture(snapshot)  # by hand: classified again on the writer thread
    writer.close(WAIT)
    flagged, manual = writer.drain()
    assert (flagged.request.kind, manual.request.kind) == ("flag", "manual")
    for outcome in (flagged, manual):
        assert outcome.error is None
        assert (outcome.record.cells.cells, outcome.record.cells.blasts) == (3, 3)
    assert len(store) == 2 and controller.drain_messages() == []


def test_policy_and_quality_changes_reach_the_running_pipeline(tmp_path):
    controller = controller_on(ImageSource([blank_folder(tmp_path / "glass")]))
    strict = FlagPolicy(threshold=0.9, consecutive=7)
    controller.set_policy(strict)
    assert controller.pipeline.policy == strict
    quality = QualitySettings(min_cells=3)
    controller.set_quality(quality)
    assert controller.gate.settings is quality
    assert controller.threads() == []  # nothing runs before start()


# a camera ------------------------------------------------------------------------------------


@pytest.fixture
def video(tmp_path) -> Path:
    return write_camera_video(tmp_path / "camera.avi")


def test_a_camera_is_known_by_index_and_backend_also_through_the_tee(video):
    camera = CameraSource(2, capture_factory=lambda: FileCamera(video))
    try:
        backend = camera.granted()["backend"]
        assert backend
        assert source_key(camera) == f"camera 2 ({backend})"
        assert source_key(TeeSource(camera)) == f"camera 2 ({backend})"
    finally:
        camera.close()


def test_a_camera_that_is_unplugged_and_comes_back_is_reported(video):
    factory = CaptureFactory(video, FileCamera(video, unplug_after=3, mode="fail"))
    camera = CameraSource(0, capture_factory=factory, stall_timeout=0.2, backoff=(0.05, 0.1))
    controller = controller_on(camera)
    controller.start()
    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + WAIT  # only a camera that never comes back gets near it
    while ("info", "camera: connected") not in seen and time.monotonic() < deadline:
        seen += [m for m in controller.drain_messages() if m[1].startswith("camera:")]
        time.sleep(0.05)
    controller.stop()
    camera.close()
    assert ("warning", "camera: lost") in seen
    assert ("info", "camera: connected") in seen
    assert seen.index(("warning", "camera: lost")) < seen.index(("info", "camera: connected"))


class Unnamed(FrameSource):
    """A source whose description is empty."""

    def frames(self):
        return iter(())

    def describe(self):
        return ""


def test_other_sources_are_known_by_their_description(tmp_path):
    folder = blank_folder(tmp_path / "glass")
    assert source_key(ImageSource([folder])) == f"1 image(s) from {folder}"
    assert source_key(Repeat(np.zeros((4, 4, 3), np.uint8), 1)) == "repeat"
    assert source_key(Unnamed()) == "source"


def test_the_switchable_normaliser_passes_frames_unchanged_when_off():
    switch = SwitchableNormalizer()
    frame = np.full((32, 32, 3), (200, 150, 220), np.uint8)
    assert switch(frame) is frame
    assert (switch.enabled, switch.calibrated, switch.drift) == (False, False, None)
    switch.inner = normalizer_for(None, "camera 0")
    assert switch.enabled and not switch.calibrated
    assert switch(frame).shape == frame.shape
