"""Opening a source off the GUI thread, on real sources: what the app adds to a video or an
image folder, every kind of failure in words for the banner, and cancelling an attempt; and
the tee that shows the newest frame while everything else goes to the wrapped source."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.app.source_opening import GUI_VIDEO_OPTIONS, SourceOpening, gui_options
from allscope.app.tee_source import TeeSource
from allscope.core.sources import ImageSource, open_source

WAIT = 60.0


def opened(spec: str, options=None) -> SourceOpening:
    opening = SourceOpening(spec, options)
    opening.thread.join(WAIT)
    assert opening.done()
    return opening


@pytest.fixture
def image_folder(tmp_path):
    """Two readable fields and one file that only looks like an image."""
    folder = tmp_path / "fields"
    folder.mkdir()
    for i in range(2):
        image = np.full((48, 64, 3), 60 * (i + 1), np.uint8)
        cv2.imwrite(str(folder / f"field{i}.png"), image)
    (folder / "broken.png").write_bytes(b"not a png at all")
    return folder


def test_videos_play_paced_and_looped_unless_the_caller_says_otherwise(tmp_path):
    video = tmp_path / "scan.mp4"
    video.write_bytes(b"\0")
    problems = []
    assert gui_options(str(video), {}, problems) == GUI_VIDEO_OPTIONS
    assert gui_options(str(video), {"loop": False}, problems) == {"paced": True, "loop": False}
    # a name that is not there yet is passed on unchanged (the source says what is wrong)
    assert gui_options(str(tmp_path / "gone.mp4"), {"x": 1}, problems) == {"x": 1}
    assert gui_options("demo", {}, problems) == {}


def test_image_folders_and_files_report_unreadable_files_into_the_problems(image_folder):
    problems = []
    for spec in (image_folder, image_folder / "field0.png"):
        options = gui_options(str(spec), {}, problems)
        options["on_error"]("a.png", "cannot be decoded")
    assert problems == [("a.png", "cannot be decoded")] * 2


def test_an_image_folder_opens_and_its_unreadable_file_reaches_the_problems(image_folder):
    opening = opened(str(image_folder))
    assert opening.error is None and not opening.fallback
    assert isinstance(opening.source, ImageSource)
    frames = list(opening.source.frames())
    assert [f.name for f in frames] == ["field0", "field1"]
    [(file, message)] = list(opening.problems)
    assert file.endswith("broken.png") and message
    opening.source.close()


@pytest.mark.parametrize(
    ("spec", "options", "words"),
    [
        ("no-such-source", {}, "is not a source: use 'demo', 'camera:N'"),
        ("demo", {"blast_fraction": 2.0}, "blast_fraction must be within [0, 1]"),
        ("demo", {"no_such_option": 1}, "unexpected keyword argument 'no_such_option'"),
        # a failure no source foresaw still reaches the banner, named by its type
        ("demo", {"width": 64, "height": 48, "illumination": "x"},
         "AttributeError: 'str' object has no attribute"),
    ],
)
def test_a_source_that_cannot_open_gives_an_error_in_words(spec, options, words):
    opening = opened(spec, options)
    assert opening.source is None
    assert words in opening.error


def test_an_empty_folder_says_what_it_lacks(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    opening = opened(str(folder))
    assert opening.source is None
    assert opening.error == f"no JPEG, PNG, TIFF or BMP images found in {folder}"


def test_cancelling_after_the_source_opened_closes_it(image_folder):
    opening = opened(str(image_folder))
    source = opening.source
    opening.cancel()
    assert opening.source is None and source.stopped


def test_cancelling_while_the_source_opens_leaves_nothing_open():
    opening = SourceOpening("demo", {"width": 320, "height": 240, "paced": False})
    opening.cancel(wait=WAIT)  # the demo paints its specimen first: still opening
    assert opening.done()
    assert opening.source is None and opening.error is None


def test_the_tee_remembers_the_newest_frame_and_passes_the_rest_through(image_folder):
    inner = open_source(str(image_folder))
    tee = TeeSource(inner)
    assert tee.latest_frame() is None
    assert tee.describe() == inner.describe() == f"3 image(s) from {image_folder}"
    assert tee.live is inner.live is False
    assert tee.files == inner.files  # an attribute only the wrapped source has
    frames = tee.frames()
    first = next(frames)
    assert tee.latest_frame() is first
    second = next(frames)
    assert tee.latest_frame() is second and second.name == "field1"
    assert not tee.stopped
    tee.stop()
    assert tee.stopped and inner.stopped
    with pytest.raises(AttributeError):
        tee.no_such_control  # noqa: B018 - the wrapped source has none either


def test_closing_the_tee_closes_the_wrapped_source(image_folder):
    inner = open_source(str(image_folder))
    tee = TeeSource(inner)
    tee.close()
    assert inner.stopped and tee.stopped
    assert list(tee.frames()) == []


def test_a_tee_without_its_inner_source_does_not_recurse():
    tee = TeeSource.__new__(TeeSource)  # as during unpickling: __init__ has not run
    with pytest.raises(AttributeError, match="inner"):
        tee.describe()
