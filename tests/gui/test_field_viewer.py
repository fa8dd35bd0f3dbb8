"""The field viewer: full resolution, zoom about the cursor, fit, and a scale bar when known."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from allscope.gui.field_viewer import FieldViewer


@pytest.fixture
def viewer(qtbot):
    widget = FieldViewer()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def field(width=1920, height=1080) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    image[::2, ::2] = 255  # a one-pixel checkerboard: visible only at full resolution
    return image


def test_fits_then_zooms_to_full_resolution_and_back(viewer, qtbot):
    viewer.set_image(field())
    assert viewer.zoom == pytest.approx(min(400 / 1920, 300 / 1080), rel=0.1)
    for _ in range(12):
        qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.zoom > 1.0  # image pixels larger than screen pixels
    grab = viewer.viewport().grab().toImage()
    values = {grab.pixelColor(x, 150).red() for x in range(150, 250)}
    assert min(values) < 60 and max(values) > 200  # individual pixels resolved, not blurred to grey
    qtbot.keyClick(viewer, Qt.Key.Key_0)
    assert viewer.zoom == pytest.approx(min(400 / 1920, 300 / 1080), rel=0.1)


def test_scale_bar_drawn_only_with_a_scale(viewer):
    viewer.set_image(np.full((300, 400, 3), 200, np.uint8))
    corner = lambda: viewer.viewport().grab().toImage().pixelColor(  # noqa: E731
        viewer.viewport().width() - 60, viewer.viewport().height() - 16).red()
    without = corner()
    viewer.microns_per_pixel = 0.1
    viewer.viewport().update()
    assert without == 200 and corner() == 255  # the white bar line where the plain field was
