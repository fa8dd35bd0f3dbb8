"""Stand-alone widgets: banner, about text, classification panel, rolling plots, live view."""

import numpy as np
import pytest
from gui_helpers import CLASSES, field_with_cells, result
from PySide6.QtCore import QRectF

from allscope import DISCLAIMER
from allscope.core.model_package import InputSpec, ModelPackage
from allscope.gui.about import about_html
from allscope.gui.banner import MAX_MESSAGES, ErrorBanner
from allscope.gui.classification_panel import ClassificationPanel
from allscope.gui.live_view import OUTLINE_RGB, LiveView
from allscope.gui.plots import RollingPlots, RollingSeries


def test_banner_shows_what_and_todo_and_replaces_by_key(qtbot):
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    assert banner.isHidden()
    banner.show_message("Camera lost.", "Reconnecting (attempt 1).", "warning", key="camera")
    banner.show_message("Camera lost.", "Reconnecting (attempt 2).", "warning", key="camera")
    assert [m.todo for m in banner.messages()] == ["Reconnecting (attempt 2)."]
    assert not banner.isHidden() and "attempt 2" in banner.text()
    banner.dismiss("camera")
    assert banner.isHidden()


def test_banner_keeps_only_the_newest_messages(qtbot):
    banner = ErrorBanner()
    qtbot.addWidget(banner)
    for i in range(MAX_MESSAGES + 3):
        banner.show_message(f"problem {i}", "do something")
    assert [m.what for m in banner.messages()][0] == f"problem {MAX_MESSAGES + 2}"
    assert len(banner.messages()) == MAX_MESSAGES


def test_about_names_version_disclaimer_and_model_summary(tmp_path):
    (tmp_path / "MODEL_CARD.md").write_text(
        "# Card\nBalanced accuracy on the held-out test split.", encoding="utf-8"
    )
    package = ModelPackage(path=tmp_path, name="tiny", version="3", architecture="mean-linear",
                           classes=CLASSES, benign_class="Benign", input=InputSpec(),
                           summary={"metrics": [{"metric": "balanced accuracy", "value": 0.91,
                                                 "split": "test blocks (held-out patients)"}],
                                    "recipe": {"CPU estimate": "80 min"}},
                           files={"model.xml": "a" * 64, "model.bin": "b" * 64})
    html = about_html(package)
    assert DISCLAIMER in html and "0.1.0" in html
    assert "tiny 3" in html and "held-out patients" in html and "91.0%" in html
    assert "Limitations:" in html and "MODEL_CARD.md" in html
    assert "CPU estimate" not in html and "held-out test split" not in html  # no developer dump
    assert "No model loaded" in about_html(None)


def test_class_bars_show_probabilities(qtbot):
    panel = ClassificationPanel()
    qtbot.addWidget(panel)
    panel.set_classes(CLASSES)
    panel.show_result(result(0.6), result(0.6), now=0.0)
    assert panel._bars["Benign"].value() == 400
    assert panel._bars["Pre-B"].format() == "0.30"


def test_rolling_series_keeps_the_newest_in_time_order():
    series = RollingSeries(3)
    for t in range(5):
        series.append(float(t), t * 10.0)
    t, v = series.view()
    assert t.tolist() == [2.0, 3.0, 4.0] and v.tolist() == [20.0, 30.0, 40.0]
    assert series.view(since=3.0)[0].tolist() == [3.0, 4.0]


def test_plots_draw_recent_points_relative_to_now(qtbot):
    plots = RollingPlots(seconds=10, threshold=0.6)
    qtbot.addWidget(plots)
    for t in range(20):
        plots.add_p_all(float(t), 0.5)
    plots.refresh(now=19.0)
    x, _ = plots.p_curve.getData()
    assert x.min() >= -10 and x.max() == 0 and len(x) == 11
    assert plots.threshold_line.value() == pytest.approx(0.6)


def test_live_view_outlines_cells_in_overlay_mode(qtbot):
    view = LiveView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    image, mask = field_with_cells()
    view.set_mode("overlay")
    view.show_field(image, mask)
    shown = view.displayed_image()
    assert shown.flags["C_CONTIGUOUS"] and shown.dtype == np.uint8
    cyan = np.all(shown == OUTLINE_RGB, axis=2)
    assert cyan.sum() > 50
    view.set_mode("raw")
    view.show_field(image, mask)
    assert not np.all(view.displayed_image() == OUTLINE_RGB, axis=2).any()
    assert view.count_label.text() == "WBC: 2"


def test_live_view_masked_mode_blacks_out_background(qtbot):
    view = LiveView()
    qtbot.addWidget(view)
    image, mask = field_with_cells()
    view.set_mode("masked")
    view.show_field(image, mask)
    shown = view.displayed_image()
    scale = shown.shape[1] / image.shape[1]
    assert shown[int(5 * scale), int(5 * scale)].tolist() == [0, 0, 0]
    assert shown[int(90 * scale), int(80 * scale)].tolist() == [90, 40, 140]  # RGB of the disc


@pytest.fixture
def shown_view(qtbot):
    """A live view 500 × 300 on screen, smaller than a full-HD field."""
    view = LiveView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_live_view_reduces_large_fields_to_the_screen_size(shown_view):
    view = shown_view
    image = np.zeros((1080, 1920, 3), np.uint8)
    view.show_field(image, None)
    view.show_field(image, None)
    assert view.displayed_image().shape[1] < 1920
    assert view.image.mapRectToView(view.image.boundingRect()).width() == pytest.approx(1920)


def test_zoomed_in_live_view_shows_full_resolution(shown_view):
    view = shown_view
    image = np.zeros((1080, 1920, 3), np.uint8)
    view.show_field(image, None)
    view.view.setRange(QRectF(800, 400, 240, 135), padding=0)  # zoom on an eighth of the width
    view.show_field(image, None)
    assert view.display_scale() == 1.0 and view.displayed_image().shape[:2] == (1080, 1920)
    view.fit()
    view.show_field(image, None)
    assert view.displayed_image().shape[1] < 1920


def test_live_view_rejects_unknown_mode(qtbot):
    view = LiveView()
    qtbot.addWidget(view)
    with pytest.raises(ValueError, match="raw, overlay, masked"):
        view.set_mode("sepia")


def test_installed_pyside_keeps_signal_emit_reference_counts(qapp):
    """PySide6 6.12.0 drops a reference to True on every Python-side emit; the app then
    crashes within seconds (bool_dealloc). The installed binding must not have that defect."""
    from allscope.gui.app import binding_defect

    assert binding_defect() is None


def test_help_has_a_shortcut_sheet_and_a_user_guide(qtbot):
    from allscope.gui.help_dialogs import GUIDE, HelpDialog, shortcuts_html

    sheet = shortcuts_html()
    for key in ("Space", "Ctrl+N", "A", "D"):
        assert f"<b>{key}</b>" in sheet
    dialog = HelpDialog("User guide", GUIDE)
    qtbot.addWidget(dialog)
    assert "screening aid, not a diagnosis" in dialog.browser.toPlainText().lower()
    assert "Needs a look" in dialog.browser.toPlainText()
