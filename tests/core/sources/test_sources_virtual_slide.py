"""The virtual slide over a folder of images written here, and the pan path it shares."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.core.frames import SourceError
from allscope.core.sources import VirtualSlideSource
from allscope.core.sources.scan_path import PanPath, defocus, serpentine
from allscope.paths import shared_data_dir

COLOURS = [(200, 0, 0), (0, 200, 0), (0, 0, 200), (200, 200, 0), (0, 200, 200)]


@pytest.fixture
def fields(tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    for i, colour in enumerate(COLOURS):  # 5 fields → a 3 x 2 mosaic
        cv2.imwrite(str(folder / f"f{i}.png"), np.full((20, 20, 3), colour, np.uint8))
    return folder


def slide(folder, **options):
    defaults = dict(out_size=(64, 48), tile_size=48, paced=False, dwell_s=0.2, fps=30,
                    loop=False)
    return VirtualSlideSource(folder, **{**defaults, **options})


def dwell_tiles(source):
    """(tile index, centre pixel) of the first frame of each dwell."""
    out, last = [], None
    for frame in source.frames():
        dwell = frame.meta["dwell_id"]
        if dwell is not None and dwell != last:
            out.append((frame.meta["tile_index"], frame.image[24, 32].tolist()))
        last = dwell
    return out


def test_dwells_visit_tiles_in_serpentine_order(fields):
    tiles = [t for t, _ in dwell_tiles(slide(fields))]
    assert tiles == [0, 1, 2, 4, 3]  # row 0 left to right, row 1 right to left


def test_a_dwell_shows_its_field_image(fields):
    for tile, pixel in dwell_tiles(slide(fields, defocus=False)):
        assert pixel == list(COLOURS[tile])


def test_frames_name_the_field_under_the_view(fields):
    frame = next(slide(fields).frames())
    assert frame.path == str(fields / "f0.png")
    assert frame.name == "fields_0" and frame.frame_index == 0


def test_moving_frames_are_defocused_and_dwell_frames_settle_sharp(fields):
    frames = list(slide(fields, dwell_s=0.5).frames())
    moving = [f.meta["defocus"] for f in frames if f.meta["moving"]]
    settled = [f.meta["defocus"] for f in frames if not f.meta["moving"]][-3:]
    assert max(moving) > 0 and settled == [0.0, 0.0, 0.0]


def test_loop_keeps_scanning_back_and_forth(fields):
    source = slide(fields, loop=True)
    seen = []
    for frame in source.frames():
        if frame.meta["dwell_id"] is not None and frame.meta["dwell_id"] >= len(seen):
            seen.append(frame.meta["tile_index"])
        if len(seen) == 8:
            break
    assert seen == [0, 1, 2, 4, 3, 4, 2, 1]


def test_unreadable_field_is_reported_and_shown_as_empty_glass(fields):
    (fields / "f1.png").write_bytes(b"")
    source = slide(fields, defocus=False)
    tiles = dict(dwell_tiles(source))
    assert [p for p, _ in source.errors] == [str(fields / "f1.png")]
    assert tiles[1] == [232, 234, 236]


def test_not_a_folder_raises(tmp_path):
    with pytest.raises(SourceError, match="not a folder"):
        VirtualSlideSource(tmp_path / "absent")


def test_folder_without_images_raises(tmp_path):
    with pytest.raises(SourceError, match="no JPEG, PNG, TIFF or BMP images"):
        VirtualSlideSource(tmp_path)


def test_serpentine_alternates_direction_per_band():
    points = [(0, 0), (10, 0), (20, 0), (0, 10), (10, 10)]
    assert serpentine(points, band=10) == [(0, 0), (10, 0), (20, 0), (10, 10), (0, 10)]


def test_pan_path_moves_with_eased_speed_between_dwells():
    path = PanPath((400, 100), (100, 100), [(50, 50), (350, 50)], fps=10, speed_px_s=100,
                   dwell_s=0.1, defocus=False, loop=False)
    xs = [s.x for s in path.states() if s.moving]
    steps = np.diff([0] + xs + [300])
    assert xs == sorted(xs) and steps[len(steps) // 2] > 2 * steps[0]  # slow, fast, slow


def test_view_larger_than_canvas_is_rejected():
    with pytest.raises(ValueError, match="larger than the canvas"):
        PanPath((100, 100), (200, 100))


def test_defocus_blurs_and_keeps_shape_and_type():
    image = np.zeros((60, 80, 3), np.uint8)
    image[::2] = 255
    for sigma in (1.0, 4.0):
        out = defocus(image, sigma)
        assert out.shape == image.shape and out.dtype == np.uint8
        assert out.std() < 0.5 * image.std()
    assert defocus(image, 0.0) is image


SHARED_FIELDS = shared_data_dir() / "all-fields"


@pytest.mark.shared
def test_virtual_slide_scans_the_shared_training_fields():
    if not SHARED_FIELDS.is_dir():
        pytest.skip(f"shared data absent: {SHARED_FIELDS} (see DATA.md)")
    source = VirtualSlideSource(SHARED_FIELDS, out_size=(320, 180), paced=False, shuffle=True,
                                dwell_s=0.1, loop=False)
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == 10:
            break
    assert len(source.files) > 1000
    assert all(f.path and f.path.startswith(str(SHARED_FIELDS)) for f in frames)
    assert frames[0].image.shape == (180, 320, 3)


def test_an_unreadable_first_image_is_reported_and_the_next_sets_the_tiles(tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"")  # first in order, cannot be read
    cv2.imwrite(str(folder / "b.png"), np.full((20, 40, 3), COLOURS[0], np.uint8))  # 2:1
    source = slide(folder)
    assert source.tile == (96, 48)  # the aspect ratio of b.png
    assert list(source.frames())
    empty = folder / "a.png"
    assert source.errors == [(str(empty), f"{empty}: empty file (0 bytes)")]  # reported once


def test_a_slide_of_only_unreadable_images_is_refused(tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    for name in ("a.png", "b.jpg"):
        (folder / name).write_bytes(b"not an image")
    with pytest.raises(SourceError, match="none of the first images could be read"):
        slide(folder)


def test_tiles_beyond_the_cache_are_loaded_again_and_look_the_same(tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    colours = [(20 * i, 100, 250 - 20 * i) for i in range(9)]
    for i, colour in enumerate(colours):
        cv2.imwrite(str(folder / f"f{i}.png"), np.full((20, 20, 3), colour, np.uint8))
    for _ in range(2):  # the second pass finds evicted tiles gone from the 4-tile cache
        seen = dwell_tiles(slide(folder, defocus=False, cache_tiles=4))
        assert sorted(t for t, _ in seen) == list(range(9))
        assert all(pixel == list(colours[t]) for t, pixel in seen)


def test_a_slide_of_one_field_dwells_on_it_and_ends(tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    cv2.imwrite(str(folder / "only.png"), np.full((20, 20, 3), COLOURS[2], np.uint8))
    source = slide(folder, defocus=False)
    frames = list(source.frames())
    assert frames and {f.meta["tile_index"] for f in frames} == {0}
    assert {f.meta["dwell_id"] for f in frames} == {0}
    assert len(frames) == round(0.2 * 30)  # one dwell of 0.2 s at 30 fps, then the end


@pytest.mark.parametrize("fps", [0, -5.0])
def test_a_frame_rate_that_is_not_positive_is_refused(fields, fps):
    with pytest.raises(ValueError, match="fps must be positive"):
        slide(fields, fps=fps)


def test_a_paced_slide_is_live_and_an_unpaced_one_is_not(fields):
    assert slide(fields, paced=True).live and not slide(fields).live
