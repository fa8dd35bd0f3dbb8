"""An image's size from its header, read before decoding, and the pixel limit it is held to.

Decoding a 20000 x 20000 photograph takes gigabytes and ends in OpenCV's own limit (an abort)
or a useless "no cells" result; a microscope field is a few megapixels. ``image_size`` reads
width and height from the first bytes of a JPEG, PNG, BMP or TIFF, so ``load_image`` refuses an
oversized file with a clear message before any memory is spent.
"""

from __future__ import annotations

import struct

#: The largest field allscope analyses (pixels): 64 megapixels, e.g. 8000 x 8000.
MAX_PIXELS = 64_000_000

_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(data: bytes | memoryview, kind: str) -> tuple[int, int] | None:
    """(width, height) from the header, or None when the header does not say (decode decides)."""
    try:
        if kind == "PNG":
            return (
                struct.unpack(">II", bytes(data[16:24])) if bytes(data[12:16]) == b"IHDR" else None
            )
        if kind == "BMP":
            width, height = struct.unpack("<ii", bytes(data[18:26]))
            return abs(width), abs(height)
        if kind == "JPEG":
            return _jpeg_size(bytes(data[: 1 << 20]))
        if kind == "TIFF":
            return _tiff_size(bytes(data[: 1 << 20]))
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The frame header (SOFn) of a JPEG: height and width follow the precision byte."""
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    """ImageWidth (256) and ImageLength (257) from the first IFD."""
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[offset : offset + 2])[0]
    found: dict[int, int] = {}
    for i in range(count):
        entry = data[offset + 2 + 12 * i : offset + 14 + 12 * i]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):
            found[tag] = struct.unpack(
                order + ("H" if kind == 3 else "I"), entry[8:10] if kind == 3 else entry[8:12]
            )[0]
    return (found[256], found[257]) if len(found) == 2 else None


def too_large(size: tuple[int, int] | None) -> str | None:
    """Why a field of ``size`` is refused, or None when it is within the limit."""
    if size is None:
        return None
    width, height = size
    if width * height <= MAX_PIXELS:
        return None
    return (
        f"the image is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
        "allscope analyses "
        f"fields up to {MAX_PIXELS / 1e6:.0f} megapixels: crop or downscale it to microscope fields"
    )
