"""The live pipeline with real threads, real masking and a real tiny OpenVINO model."""

import threading
import time

import numpy as np
import pytest

from allscope.core.classifier import Classifier
from allscope.core.flags import FlagPolicy
from allscope.core.frames import Frame, FrameSource
from allscope.core.handoff import LatestFrame
from allscope.core.pipeline import Pipeline
from allscope.core.quality import NO_CELLS
from allscope.testing import write_tiny_package


def smear(purple: bool, seed: int = 0) -> np.ndarray:
    """A small synthetic field: pink background, pale RBC discs and one or two WBC nuclei."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((240, 320, 3), (225, 215, 240), np.uint8)
    for _ in range(25):
        cv2.circle(
            image, (int(rng.integers(0, 320)), int(rng.integers(0, 240))), 14, (190, 170, 235), -1
        )
    if purple:
        cv2.circle(image, (160, 120), 30, (160, 40, 120), -1)
        cv2.circle(image, (60, 60), 22, (150, 35, 115), -1)
    return image


class ListSource(FrameSource):
    """Yields given images at a fixed rate (a paced test source)."""

    def __init__(self, images, fps: float = 60.0) -> None:
        super().__init__()
        self.images, self.fps = images, fps

    def describe(self) -> str:
        return "test list"

    def frames(self):
        for i, image in enumerate(self.images):
            if self.stopped:
                return
            yield Frame(
                id=i, timestamp=time.monotonic(), image=image, source="test list", name=f"f{i}"
            )
            time.sleep(1 / self.fps)


@pytest.fixture()
def classifier(tmp_path):
    return Classifier(write_tiny_package(tmp_path / "tiny"), inference_precision="f32")


def run_to_end(pipeline: Pipeline) -> None:
    pipeline.start()
    assert pipeline.wait(timeout=20), "pipeline did not finish its finite source"
    pipeline.stop()


def test_every_captured_frame_is_processed_or_counted_as_dropped(classifier):
    pipeline = Pipeline(ListSource([smear(True, s) for s in range(40)], fps=200), classifier)
    run_to_end(pipeline)
    stats = pipeline.stats()
    assert stats.captured == 40
    assert stats.processed + stats.dropped == 40
    assert 0 < stats.classified <= stats.processed


def test_a_still_suspicious_field_raises_exactly_one_flag(classifier):
    flags = []
    pipeline = Pipeline(ListSource([smear(True)] * 20, fps=30), classifier,
                        FlagPolicy(threshold=0.5, consecutive=2))
    pipeline.add_flag_listener(lambda flag, frame, mask: flags.append((flag, frame, mask)))
    run_to_end(pipeline)
    assert len(flags) == 1
    flag, frame, mask = flags[0]
    assert flag.p_all >= 0.5 and flag.label != "Benign"
    assert mask.wbc_count >= 1 and frame.image.shape == (240, 320, 3)


def test_fields_without_cells_are_not_assessable_and_never_classified(classifier):
    results = []
    empty = np.full((240, 320, 3), (225, 215, 240), np.uint8)
    pipeline = Pipeline(ListSource([empty] * 10, fps=100), classifier)
    pipeline.add_result_listener(results.append)
    run_to_end(pipeline)
    assert results and all(not r.assessable and r.reasons == (NO_CELLS,) for r in results)
    assert pipeline.stats().classified == 0


def test_a_failing_listener_does_not_stop_acquisition(classifier):
    seen = []

    def broken(result):
        raise RuntimeError("listener bug")

    pipeline = Pipeline(ListSource([smear(True, s) for s in range(15)], fps=100), classifier)
    pipeline.add_result_listener(broken)
    pipeline.add_result_listener(seen.append)
    run_to_end(pipeline)
    assert len(seen) == pipeline.stats().processed


def test_latest_snapshot_pairs_frame_and_mask(classifier):
    pipeline = Pipeline(ListSource([smear(True, s) for s in range(10)], fps=100), classifier)
    run_to_end(pipeline)
    snap = pipeline.latest()
    assert snap is not None and snap.mask.mask.shape == snap.frame.image.shape[:2]
    assert snap.result.frame_id == snap.frame.id


def test_no_thread_outlives_stop(classifier):
    before = set(threading.enumerate())
    images = [smear(True, s) for s in range(5)]
    pipeline = Pipeline(
        ListSource(images * 20_000, fps=60), classifier
    )  # 100k references to 5 images
    pipeline.start()
    time.sleep(0.3)
    pipeline.stop()
    assert not pipeline.running
    assert set(threading.enumerate()) - before == set()


def test_latest_frame_box_keeps_only_the_newest_and_counts_drops():
    box = LatestFrame()
    for i in range(5):
        box.put(i)
    assert box.take(0.01) == 4 and box.dropped == 4
    assert box.take(0.01) is None
    box.close()
    assert box.closed


def test_a_hand_capture_is_classified_like_any_field(tmp_path):
    """classify_now judges the snapshot's own frame with the real model, not the last one."""
    from allscope.core.field_analysis import base_result
    from allscope.core.mask.lab_kmeans import lab_kmeans_mask
    from allscope.core.pipeline import LiveSnapshot

    classifier = Classifier(write_tiny_package(tmp_path / "m").path)
    pipeline = Pipeline(ListSource([smear(True)]), classifier)
    image = smear(True)
    frame = Frame(id=9, timestamp=0.0, image=image, source="test list")
    mask = lab_kmeans_mask(image)
    gated = base_result(frame, mask, True, (), {})
    older = base_result(Frame(id=3, timestamp=0.0, image=image, source="x"), mask, True, (), {})
    result = pipeline.classify_now(LiveSnapshot(frame, mask, gated, older, False))
    assert result.frame_id == 9 and result.classified and result.p_all is not None
    assert result.probabilities == pytest.approx(tuple(classifier.predict(image)), abs=1e-5)
    rejected = base_result(frame, mask, False, ("moving",), {})
    assert not pipeline.classify_now(LiveSnapshot(frame, mask, rejected, None, True)).classified


class SteppedSource(FrameSource):
    """Yields each image only after the pipeline finished with the previous one (``done``), so
    the latest-frame box never drops a frame; raises ``fail_with`` after the images, if given."""

    def __init__(self, images, fail_with: Exception | None = None) -> None:
        super().__init__()
        self.images, self.fail_with = images, fail_with
        self.done = threading.Semaphore(0)

    def describe(self) -> str:
        return "stepped test source"

    def frames(self):
        for i, image in enumerate(self.images):
            if i and not self.done.acquire(timeout=30):
                raise AssertionError(f"frame {i - 1} was never finished")
            yield Frame(id=i, timestamp=time.monotonic(), image=image, source="stepped",
                        name=f"f{i}")
        if self.fail_with is not None:
            raise self.fail_with


def stepped_pipeline(source):
    statuses, results = [], []
    pipeline = Pipeline(source)
    pipeline.add_result_listener(lambda r: (results.append(r), source.done.release()))
    pipeline.add_status_listener(lambda level, text: (statuses.append((level, text)),
                                                      source.done.release()))
    return pipeline, statuses, results


def test_a_source_that_raises_mid_stream_is_reported_and_ends_the_run_cleanly():
    source = SteppedSource([smear(True, s) for s in range(3)], OSError("USB cable pulled"))
    pipeline, statuses, results = stepped_pipeline(source)
    run_to_end(pipeline)
    assert statuses == [("error", "stepped test source: USB cable pulled")]
    assert [r.frame_id for r in results] == [0, 1, 2]  # what came before the failure was kept
    assert pipeline.stats().captured == 3 and not pipeline.running


def test_a_frame_whose_processing_raises_is_reported_and_the_stream_goes_on():
    images = [smear(True, 0), np.zeros((20, 20), np.uint8), smear(True, 2), smear(False, 3)]
    pipeline, statuses, results = stepped_pipeline(SteppedSource(images))
    run_to_end(pipeline)
    assert len(statuses) == 1
    level, text = statuses[0]
    assert level == "error" and text.startswith("frame 1 could not be processed: expected a colour")
    assert [r.frame_id for r in results] == [0, 2, 3]
    assert pipeline.stats().processed == 3 and pipeline.stats().dropped == 0
