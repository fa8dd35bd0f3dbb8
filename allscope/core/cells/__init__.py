"""Per-cell analysis: find each white cell, cut a magnification-independent crop, judge it.

Qt-free; numpy, OpenCV and OpenVINO only. One field's way::

    cells = detect_cells(bgr, mask)            # mask: the field's MaskResult, or None
    calls = CellClassifier(path).predict(bgr, cells)   # one batched inference per field

``CellCall.p_blast`` against ``CellClassifier.threshold`` gives ``is_blast``; the
``features`` of each call are what site adaptation fits a ``site_head`` on.
"""

from allscope.core.cells.classifier import CellCall, CellClassifier, SiteHead
from allscope.core.cells.crops import cell_crop, cell_crops, crop_box
from allscope.core.cells.detect import Cell, cell_mask, detect_cells

__all__ = [
    "Cell",
    "CellCall",
    "CellClassifier",
    "SiteHead",
    "cell_crop",
    "cell_crops",
    "cell_mask",
    "crop_box",
    "detect_cells",
]
