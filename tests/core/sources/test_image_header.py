"""An image's size read from its header before decoding (``image_header``), for every format
allscope reads, and the pixel limit it is held to; a header that does not say gives None."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.core.sources.image_header import MAX_PIXELS, image_size, too_large


@pytest.mark.parametrize(
    ("suffix", "kind"), [(".png", "PNG"), (".bmp", "BMP"), (".jpg", "JPEG"), (".tif", "TIFF")]
)
def test_the_header_gives_width_and_height(suffix, kind):
    ok, encoded = cv2.imencode(suffix, np.zeros((37, 53, 3), np.uint8))
    assert ok
    assert image_size(encoded.tobytes(), kind) == (53, 37)


def test_a_big_endian_tiff_with_short_fields_is_read():
    header = b"MM\x00*" + (8).to_bytes(4, "big") + (2).to_bytes(2, "big")
    entries = b"".join(
        tag.to_bytes(2, "big") + (3).to_bytes(2, "big") + (1).to_bytes(4, "big")
        + value.to_bytes(2, "big") + b"\x00\x00"
        for tag, value in ((256, 640), (257, 480))
    )
    assert image_size(header + entries, "TIFF") == (640, 480)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(4) + b"XXXX" + bytes(8), "PNG"),  # no IHDR chunk first
        (b"BM" + bytes(10), "BMP"),  # cut inside the header
        (b"\xff\xd8" + b"\x00" * 20, "JPEG"),  # a segment that does not start with 0xFF
        (b"\xff\xd8\xff\xe0\x00", "JPEG"),  # cut before any frame header
        (b"II*\x00" + (8).to_bytes(4, "little") + bytes(4), "TIFF"),  # no size tags
        (b"II*\x00\xff\xff\xff\x00", "TIFF"),  # first directory beyond the data
        (b"GIF89a", "GIF"),  # a kind without a header reader
    ],
    ids=["png-no-ihdr", "bmp-cut", "jpeg-no-marker", "jpeg-cut", "tiff-no-tags", "tiff-far",
         "gif"],
)
def test_a_header_that_does_not_say_gives_none(data, kind):
    assert image_size(data, kind) is None


def test_jpeg_fill_bytes_before_the_frame_header_are_skipped():
    ok, encoded = cv2.imencode(".jpg", np.zeros((20, 30, 3), np.uint8))
    data = encoded.tobytes()
    padded = data[:2] + b"\xff\xff\xff" + data[2:]  # fill bytes between markers are allowed
    assert image_size(padded, "JPEG") == (30, 20)


def test_the_pixel_limit():
    assert too_large(None) is None and too_large((8000, 8000)) is None
    message = too_large((8001, 8000))
    assert message.startswith("the image is 8001 x 8000 pixels (64 megapixels)")
    assert f"fields up to {MAX_PIXELS / 1e6:.0f} megapixels" in message
