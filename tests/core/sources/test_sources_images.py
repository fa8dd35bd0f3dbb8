"""load_image and ImageSource on files written here: every format and every bad case."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.core.frames import SourceError
from allscope.core.sources import ImageSource, load_image
from allscope.core.sources.images import find_images, grey_tail, to_bgr8


def colour_field(h=12, w=16):
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 30, 90, 200  # B, G, R
    image[2:5, 3:7] = (250, 10, 60)
    return image


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_lossless_formats_load_pixel_exact_as_bgr(tmp_path, suffix):
    path = tmp_path / f"field{suffix}"
    cv2.imwrite(str(path), colour_field())
    image = load_image(path)
    assert image.dtype == np.uint8 and image.flags.c_contiguous
    np.testing.assert_array_equal(image, colour_field())


def test_jpeg_loads_in_bgr_order(tmp_path):
    path = tmp_path / "field.jpg"
    cv2.imwrite(str(path), np.full((16, 16, 3), (30, 90, 200), np.uint8))
    assert load_image(path)[8, 8].tolist() == pytest.approx([30, 90, 200], abs=4)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    path = tmp_path / "gray.png"
    cv2.imwrite(str(path), np.arange(12, dtype=np.uint8).reshape(3, 4) * 20)
    image = load_image(path)
    assert image.shape == (3, 4, 3)
    assert (image[..., 0] == image[..., 2]).all() and image[2, 3, 1] == 220


def test_rgba_is_composited_on_white(tmp_path):
    bgra = np.zeros((2, 3, 4), np.uint8)
    bgra[..., :3] = (0, 0, 200)
    bgra[0, :, 3] = 255  # opaque row keeps its colour
    bgra[1, 0, 3] = 0  # transparent pixel shows the white slide
    bgra[1, 1, 3] = 128
    path = tmp_path / "rgba.png"
    cv2.imwrite(str(path), bgra)
    image = load_image(path)
    assert image[0, 0].tolist() == [0, 0, 200]
    assert image[1, 0].tolist() == [255, 255, 255]
    assert image[1, 1].tolist() == pytest.approx([127, 127, 227], abs=1)


def test_sixteen_bit_is_scaled_to_eight_bit_full_range(tmp_path):
    path = tmp_path / "deep.tif"
    cv2.imwrite(str(path), np.array([[[0, 32896, 65535]]], np.uint16))
    assert load_image(path)[0, 0].tolist() == [0, 128, 255]


def test_empty_file_says_empty(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(SourceError, match="empty.jpg: empty file"):
        load_image(tmp_path / "empty.jpg")


@pytest.mark.parametrize(
    ("suffix", "message"), [(".jpg", "truncated JPEG"), (".png", "truncated or corrupt PNG")]
)
def test_truncated_image_says_truncated(tmp_path, suffix, message):
    ok, data = cv2.imencode(
        suffix, np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
    )
    (tmp_path / f"cut{suffix}").write_bytes(data.tobytes()[: len(data) // 2])
    with pytest.raises(SourceError, match=message):
        load_image(tmp_path / f"cut{suffix}")


def test_text_file_says_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("patient list")
    with pytest.raises(SourceError, match="not an image"):
        load_image(tmp_path / "notes.png")


def test_missing_file_says_not_found(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        load_image(tmp_path / "nothing.png")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "fields"
    (root / "b_sub").mkdir(parents=True)
    cv2.imwrite(str(root / "c.png"), colour_field())
    cv2.imwrite(str(root / "a.jpg"), colour_field())
    cv2.imwrite(str(root / "b_sub" / "d.bmp"), colour_field())
    cv2.imwrite(str(root / "b_sub" / "e.TIF"), colour_field())
    (root / "notes.txt").write_text("not listed: wrong suffix")
    return root


def test_folders_are_searched_recursively_in_sorted_order(folder):
    names = [f.name for f in ImageSource([folder]).frames()]
    assert names == ["a", "d", "e", "c"]


def test_non_recursive_lists_only_the_top_folder(folder):
    names = [f.name for f in ImageSource([folder], recursive=False).frames()]
    assert names == ["a", "c"]


def test_frames_carry_the_file_path_and_no_frame_index(folder):
    frame = next(ImageSource([folder / "c.png"]).frames())
    assert frame.path == str(folder / "c.png") and frame.frame_index is None


def test_bad_files_are_reported_and_skipped(folder):
    (folder / "broken.png").write_bytes(b"")
    (folder / "zz.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    reported = []
    source = ImageSource([folder], on_error=lambda path, msg: reported.append(path))
    names = [f.name for f in source.frames()]
    assert names == ["a", "d", "e", "c"]
    assert reported == [str(folder / "broken.png"), str(folder / "zz.jpg")]
    assert "empty file" in source.errors[0][1] and "truncated JPEG" in source.errors[1][1]


def test_missing_path_raises_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        ImageSource([tmp_path / "absent"])


def test_folder_without_images_raises_source_error(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(SourceError, match="no JPEG, PNG, TIFF or BMP images"):
        ImageSource([tmp_path])


def test_a_float_tiff_in_0_to_1_is_scaled_to_full_range(tmp_path):
    path = tmp_path / "field.tif"
    ramp = np.linspace(0.0, 1.0, 16, dtype=np.float32)
    cv2.imwrite(str(path), np.dstack([np.tile(ramp, (4, 1))] * 3))
    image = load_image(path)
    assert image.dtype == np.uint8 and image.shape == (4, 16, 3)
    assert (image[0, 0, 0], image[0, -1, 0]) == (0, 255)


@pytest.mark.parametrize(
    ("decoded", "expected"),
    [
        (np.full((2, 2, 1), 77, np.uint8), (77, 77, 77)),  # one channel
        (np.dstack([np.full((2, 2), 100, np.uint8), np.full((2, 2), 0, np.uint8)]),
         (255, 255, 255)),  # grey + transparent alpha: the white slide background
        (np.dstack([np.full((2, 2), 100, np.uint8), np.full((2, 2), 255, np.uint8)]),
         (100, 100, 100)),  # grey + opaque alpha
        (np.full((2, 2, 3), 200.0, np.float64), (200, 200, 200)),  # floats on the 0-255 scale
        (np.where(np.eye(2, dtype=bool)[..., None], np.nan, 0.5).astype(np.float32), (0, 0, 0)),
        # a NaN pixel of a 0-1 float image becomes black
        (np.full((2, 2, 3), -5, np.int16), (0, 0, 0)),  # other integers are clipped
        (np.full((2, 2, 3), 300, np.int32), (255, 255, 255)),
    ],
    ids=["1-channel", "grey-alpha-clear", "grey-alpha-opaque", "float-255", "nan", "int16",
         "int32"],
)
def test_every_decoded_layout_becomes_8_bit_bgr(decoded, expected):
    image = to_bgr8(decoded)
    assert image.dtype == np.uint8 and image.shape == (2, 2, 3) and image.flags.c_contiguous
    assert tuple(int(v) for v in image[1, 1]) == expected


def test_a_flat_grey_picture_or_a_short_grey_band_is_not_called_damaged():
    assert grey_tail(np.full((64, 64, 3), 128, np.uint8)) is None  # grey everywhere: a picture
    picture = np.full((100, 64, 3), 200, np.uint8)
    picture[-3:] = 128  # 3 grey rows: below the 8-row minimum
    assert grey_tail(picture) is None
    picture[-40:] = 128
    assert grey_tail(picture).startswith("partly decoded: the lower 40% of the image is missing")


def test_a_dangling_link_named_directly_is_reported_not_fatal(tmp_path):
    cv2.imwrite(str(tmp_path / "good.png"), colour_field())
    (tmp_path / "gone.png").symlink_to(tmp_path / "deleted.png")
    errors = []
    files = find_images([tmp_path / "good.png", tmp_path / "gone.png"],
                        on_error=lambda path, why: errors.append((path, why)))
    assert files == [tmp_path / "good.png"]
    assert errors == [
        (str(tmp_path / "gone.png"), "a link that points nowhere (or loops); skipped")
    ]


def test_a_folder_named_like_an_image_is_reported_when_not_searching_below(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), colour_field())
    (tmp_path / "scan.tif").mkdir()
    cv2.imwrite(str(tmp_path / "scan.tif" / "b.png"), colour_field())
    errors = []
    source = ImageSource(tmp_path, recursive=False, on_error=lambda p, why: errors.append((p, why)))
    assert [p.name for p in source.files] == ["a.png"]
    assert errors == [
        (str(tmp_path / "scan.tif"), "a folder named like an image; skipped (not recursive)")
    ]


def test_bad_files_are_kept_in_errors_without_a_listener(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), colour_field())
    (tmp_path / "b.png").write_bytes(b"")
    source = ImageSource(tmp_path)
    assert [f.name for f in source.frames()] == ["a"]
    bad = tmp_path / "b.png"
    assert source.errors == [(str(bad), f"{bad}: empty file (0 bytes)")]
