"""Single-cell images (PBC: one white cell centred per image) as a check that each cell is
counted once: the detector must not cut one cell (a multi-lobed neutrophil, a band, a
monocyte's folded nucleus) into several.

For every image, ``locate`` gives the centroids of the detected cells; the ones within
``CENTRAL_FRACTION`` of the shorter side from the image centre belong to the centred cell
(a CellaVision image is framed on one cell about half the image wide, its neighbours lie
farther out). The ideal is exactly one. Run it on the application's own path::

    PYTHONPATH=. python -m allscope.evaluation.single_cells ../shared/data/pbc-cells models/cells
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import cut_cells
from allscope.core.colour.calibration import ColourNormalizer
from allscope.core.mask.lab_kmeans import lab_kmeans_mask

CENTRAL_FRACTION = 0.25  # a detection this close to the centre (× the shorter side) is central

Locate = Callable[[np.ndarray], Sequence[tuple[float, float]]]


def central_count(centroids: Sequence[tuple[float, float]], shape: tuple[int, ...]) -> int:
    """How many of ``centroids`` (x, y) lie within the centred cell's reach."""
    height, width = shape[:2]
    reach = CENTRAL_FRACTION * min(height, width)
    return sum(math.dist(c, (width / 2.0, height / 2.0)) <= reach for c in centroids)


def single_cell_counts(root: str | Path, locate: Locate) -> dict[str, dict[str, float]]:
    """Per class folder under ``root``: images, the fraction with 0, 1, 2 and 3+ central
    detections (keys "0", "1", "2", "3+"), and the mean central detections per image;
    key ``all`` pools every image."""
    root = Path(root)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    if not folders:
        raise FileNotFoundError(f"no class folders under {root}")
    counts: dict[str, list[int]] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                counts.setdefault(folder.name, []).append(
                    central_count(locate(image), image.shape)
                )
    counts["all"] = [n for values in counts.values() for n in values]
    return {name: _summary(values) for name, values in counts.items()}


def _summary(values: list[int]) -> dict[str, float]:
    n = np.array(values)
    return {
        "images": float(n.size),
        "0": float(np.mean(n == 0)),
        "1": float(np.mean(n == 1)),
        "2": float(np.mean(n == 2)),
        "3+": float(np.mean(n >= 3)),
        "mean": float(n.mean()),
    }


def analyze_locator(classifier: CellClassifier, normalize: bool = True) -> Locate:
    """Cell centroids exactly as ``allscope analyze`` finds them with this cell package:
    colour normalisation (its default), the mask, and detection at the package's working
    scale (``cut_cells``); centroids in the image's own pixels."""

    def locate(image: np.ndarray) -> list[tuple[float, float]]:
        if normalize:
            image = ColourNormalizer()(image)
        cells = cut_cells(classifier, image, lab_kmeans_mask(image)).cells
        return [cell.centroid for cell in cells]

    return locate


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m allscope.evaluation.single_cells PBC_DIR CELL_PACKAGE_DIR")
        return 2
    locate = analyze_locator(CellClassifier(Path(argv[1])))
    print(json.dumps(single_cell_counts(argv[0], locate), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
