"""Synthetic smear fields with white cells at a chosen magnification, for the cell tests."""

from __future__ import annotations

import cv2
import numpy as np

BACKGROUND = (228, 222, 232)  # BGR, pale
RBC = (185, 185, 215)  # pink, below the mask threshold
CYTOPLASM = (215, 150, 190)  # lilac
NUCLEUS = (165, 60, 120)  # purple


def render_field(
    scale: float, size: tuple[int, int] = (160, 160), supersample: int = 4
) -> np.ndarray:
    """One field at ``scale`` × the 1× geometry: a white cell (off-centre nucleus) at
    (80, 80) of radius 16 among three red cells; drawn large and area-resized down, as an
    objective of higher magnification would see the same smear."""
    factor = scale * supersample
    width, height = int(round(size[0] * factor)), int(round(size[1] * factor))
    big = np.empty((height, width, 3), np.uint8)
    big[:] = BACKGROUND

    def disc(cx: float, cy: float, r: float, colour: tuple[int, int, int]) -> None:
        cv2.circle(
            big,
            (int(round(cx * factor)), int(round(cy * factor))),
            int(round(r * factor)),
            colour,
            -1,
        )

    for cx, cy in ((30, 30), (130, 40), (40, 130)):
        disc(cx, cy, 10, RBC)
    disc(80, 80, 16, CYTOPLASM)
    cv2.ellipse(
        big,
        (int(round(84 * factor)), int(round(77 * factor))),
        (int(round(9 * factor)), int(round(6 * factor))),
        30,
        0,
        360,
        NUCLEUS,
        -1,
    )
    out = (int(round(size[0] * scale)), int(round(size[1] * scale)))
    return cv2.resize(big, out, interpolation=cv2.INTER_AREA)


def discs_field(
    centres: list[tuple[float, float]], radius: float, size: int = 200, zoom: float = 1.0
) -> np.ndarray:
    """Purple discs of ``radius`` on a pale field with a few red cells, all × ``zoom``."""
    side = int(round(size * zoom))
    field = np.empty((side, side, 3), np.uint8)
    field[:] = BACKGROUND
    for cx, cy in ((20, 20), (size - 20, 25), (25, size - 20)):
        cv2.circle(field, (int(cx * zoom), int(cy * zoom)), int(9 * zoom), RBC, -1, cv2.LINE_AA)
    for cx, cy in centres:
        cv2.circle(
            field,
            (int(round(cx * zoom)), int(round(cy * zoom))),
            int(round(radius * zoom)),
            NUCLEUS,
            -1,
            cv2.LINE_AA,
        )
    return field


PALE_CYTOPLASM = (215, 205, 222)  # BGR: stained but below the mask threshold, as most cytoplasm


def lobed_cell_field(
    lobes: int, zoom: float = 1.0, size: int = 200, cytoplasm: bool = True
) -> np.ndarray:
    """One cell at the centre whose nucleus is ``lobes`` round lobes (radius 11) on a ring
    (radius 17) joined by thin strands, inside a pale cytoplasm disc (radius 40), as a
    segmented neutrophil; without ``cytoplasm`` the same nucleus lies on bare glass. A few
    red cells around it, all × ``zoom``."""
    side = int(round(size * zoom))
    field = np.empty((side, side, 3), np.uint8)
    field[:] = BACKGROUND

    def at(x: float, y: float) -> tuple[int, int]:
        return int(round(x * zoom)), int(round(y * zoom))

    for cx, cy in ((20, 20), (size - 20, 25), (25, size - 20)):
        cv2.circle(field, at(cx, cy), int(9 * zoom), RBC, -1, cv2.LINE_AA)
    c = size / 2.0
    if cytoplasm:
        cv2.circle(field, at(c, c), int(round(40 * zoom)), PALE_CYTOPLASM, -1, cv2.LINE_AA)
    angles = [2.0 * np.pi * k / lobes + 0.3 for k in range(lobes)]
    centres = [(c + 17 * np.cos(a), c + 17 * np.sin(a)) for a in angles]
    for (x0, y0), (x1, y1) in zip(centres, centres[1:], strict=False):
        cv2.line(field, at(x0, y0), at(x1, y1), NUCLEUS, max(1, int(4 * zoom)), cv2.LINE_AA)
    for x, y in centres:
        cv2.circle(field, at(x, y), int(round(11 * zoom)), NUCLEUS, -1, cv2.LINE_AA)
    return field


def band_cell_field(zoom: float = 1.0, size: int = 200, turn: float = 200.0) -> np.ndarray:
    """One band nucleus at the centre on bare glass: a bent sausage along an arc (radius 20)
    of ``turn`` degrees, thick at its ends (radius 11) and thinner at its middle (radius 7),
    as a band neutrophil whose cytoplasm stains no darker than the glass. A few red cells
    around it, all × ``zoom``."""
    side = int(round(size * zoom))
    field = np.empty((side, side, 3), np.uint8)
    field[:] = BACKGROUND
    for cx, cy in ((20, 20), (size - 20, 25), (25, size - 20)):
        cv2.circle(field, (int(cx * zoom), int(cy * zoom)), int(9 * zoom), RBC, -1, cv2.LINE_AA)
    c = size / 2.0
    steps = 120
    for k in range(steps + 1):
        t = k / steps  # 0 … 1 along the band
        angle = np.deg2rad(90.0 - turn / 2.0 + turn * t)
        r = 7.0 + 4.0 * (2.0 * t - 1.0) ** 2
        x, y = c + 20 * np.cos(angle), c + 20 * np.sin(angle)
        centre = (int(round(x * zoom)), int(round(y * zoom)))
        cv2.circle(field, centre, int(round(r * zoom)), NUCLEUS, -1, cv2.LINE_AA)
    return field
