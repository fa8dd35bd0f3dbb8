"""The live panel's states, each drawn by the real widget from the one state model."""

import dataclasses
import sys
from pathlib import Path

import pytest
from gui_helpers import CLASSES, result

from allscope.app.panel_state import NEEDS_A_LOOK, alert_text, flag_alert_text, panel_state
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import NO_CELL_SEPARATED, judge_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.ood import OUTSIDE
from allscope.core.results import Flag
from allscope.gui.classification_panel import ClassificationPanel
from allscope.testing import write_tiny_cells_package


@pytest.fixture
def panel(qtbot):
    widget = ClassificationPanel()
    qtbot.addWidget(widget)
    widget.set_classes(CLASSES)
    widget.threshold = 0.5
    return widget


def bar_texts(panel) -> list[str]:
    return [bar.format() for bar in panel._bars.values()]


def shows_no_probabilities(panel) -> bool:
    return bar_texts(panel) == ["—"] * len(CLASSES) and panel.p_bar.value is None


def test_waiting_and_no_cells_show_words_only(panel):
    panel.show_result(None, None, now=0.0)
    assert panel.state.kind == "waiting" and shows_no_probabilities(panel)
    panel.show_result(result(None, wbc=0, assessable=False), None, now=0.0)
    assert panel.state_label.text() == "No white cells in view" and shows_no_probabilities(panel)


def test_not_assessable_shows_no_probabilities_and_no_alarm_colours(panel):
    stale = result(0.72)  # the last classified field, from before the stage moved: must not show
    panel.show_result(result(None, assessable=False, reasons=("out of focus",)), stale, now=0.0)
    assert panel.state.kind == "not_assessable" and panel.state_label.text() == "Not assessable"
    assert "out of focus" in panel.detail_label.text()
    assert shows_no_probabilities(panel)
    assert not panel.state.alarm and "b41e1e" not in panel.state_label.styleSheet()
    assert panel.flag_label.isHidden()


def test_outside_the_models_experience_needs_a_look_without_probabilities(panel):
    gated = result(None)
    abstained = dataclasses.replace(
        result(0.0, probabilities=(1.0, 0.0, 0.0, 0.0)), assessable=False, reasons=(OUTSIDE,)
    )
    panel.show_result(gated, abstained, now=0.0)
    assert panel.state.kind == "needs_a_look" and panel.state_label.text() == NEEDS_A_LOOK
    assert "Benign" not in panel.state_label.text() + panel.detail_label.text()
    assert shows_no_probabilities(panel)  # no "Benign 1.00" beside "outside"
    assert not panel.state.alarm


def test_judged_field_shows_cells_and_probabilities_red_only_above_threshold(panel):
    panel.show_result(result(0.2, wbc=3), result(0.2, wbc=3), now=0.0)
    assert panel.state.kind == "judged" and panel.state_label.text() == "Benign"
    assert panel.wbc_label.text() == "White cells in view: 3"
    assert bar_texts(panel)[0] == "0.80" and panel.p_bar.value == pytest.approx(0.2)
    assert not panel.state.alarm
    panel.show_result(result(0.9), result(0.9), now=0.0)
    assert panel.state_label.text() == "Suspicious for ALL → most likely Pre-B"
    assert panel.state.alarm and "b41e1e" in panel.state_label.styleSheet()


def test_a_new_flag_alerts_for_a_few_seconds_for_that_flag_only(panel):
    suspicious = result(0.9)
    panel.show_result(dataclasses.replace(suspicious, flagged=True), suspicious, now=100.0)
    assert (
        not panel.flag_lit
    )  # a flagged frame alone does not light the alert: only a new flag does
    panel.note_flag(("demo", 10), alert_text("Pre-B", 0.91), now=100.0)
    panel.show_result(suspicious, suspicious, now=101.0)
    assert (
        panel.flag_lit
        and not panel.flag_label.isHidden()
        and "Pre-B, P(ALL) 0.91" in panel.flag_label.text()
    )
    panel.note_flag(("demo", 10), alert_text("Pre-B", 0.91), now=103.5)  # the same flag again
    panel.show_result(suspicious, suspicious, now=104.5)
    assert (
        not panel.flag_lit and panel.flag_label.isHidden()
    )  # still on an ALL field: not lit forever
    panel.note_flag(("demo", 90), alert_text("Pro-B", 0.80), now=105.0)
    panel.show_result(result(0.2), result(0.2), now=105.5)
    assert panel.flag_lit and "Pro-B" in panel.flag_label.text()


def test_state_model_is_qt_free_and_covers_no_model():
    state = panel_state(result(None), None, 0.5, has_model=False)
    assert state.kind == "no_model" and state.probabilities is None and state.p_all is None


# --- judged by cells: a real tiny cell package judges the cells of a rendered field ---------

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field  # noqa: E402


def judged_by_cells(tmp_path, threshold: float, **changes):
    """A field of three discs judged by a real tiny cells package. Threshold 0.01 calls every
    cell a blast, threshold 0.99 none; the field model's verdict is "Benign, P(ALL) 0.37"."""
    model = CellClassifier(write_tiny_cells_package(tmp_path / f"cells-{threshold}",
                                                    threshold=threshold))
    image = discs_field([(60, 60), (110, 60), (150, 150)], radius=14)
    cells = judge_cells(model, image, lab_kmeans_mask(image))
    assert cells.judged and len(cells.calls) == 3
    benign = result(0.37, wbc=3, probabilities=(0.63, 0.07, 0.2, 0.1))
    return dataclasses.replace(benign, cells=cells, **changes)


def visible_texts(panel) -> str:
    labels = (panel.state_label, panel.detail_label, panel.flag_label, panel.wbc_label)
    return " ".join(label.text() for label in labels if not label.isHidden())


def test_judged_by_cells_without_a_blast_shows_the_cells_and_the_highest_p_blast(panel, tmp_path):
    calm = judged_by_cells(tmp_path, threshold=0.99)
    panel.show()
    panel.show_result(calm, calm, now=0.0)
    state = panel.state
    assert state.kind == "judged" and panel.state_label.text() == "No blast in view"
    assert "3 white cells judged, no blast" in panel.detail_label.text()
    p_max = calm.cells.p_blast_max
    assert f"highest P(blast) {p_max:.2f}" in panel.detail_label.text()
    assert (panel.p_bar.name, panel.p_bar.value, panel.p_bar.threshold) == ("P(blast)", p_max, 0.99)
    assert "Benign" not in visible_texts(panel) and "P(ALL)" not in visible_texts(panel)
    assert not panel._bars["Benign"].isVisible()  # the field model's classes are not the verdict
    assert not state.alarm


def test_judged_by_cells_with_blasts_names_them_and_the_subtype_only_as_likely(panel, tmp_path):
    suspicious = judged_by_cells(tmp_path, threshold=0.01, subtype="Pre-B")
    panel.show()
    panel.show_result(suspicious, suspicious, now=0.0)
    assert panel.state_label.text() == "Suspicious: 3 blasts → likely Pre-B"
    assert panel.state.alarm and "b41e1e" in panel.state_label.styleSheet()
    assert panel.wbc_label.text() == "White cells in view: 3"
    assert panel.p_bar.name == "P(blast)" and panel.p_bar.value == suspicious.cells.p_blast_max
    assert "Benign" not in visible_texts(panel) and "P(ALL)" not in visible_texts(panel)


def test_cells_that_cannot_be_judged_need_a_look_without_probabilities(panel, tmp_path):
    field = judged_by_cells(tmp_path, threshold=0.5)
    unjudged = dataclasses.replace(field, cells=dataclasses.replace(
        field.cells, calls=(), judged=False, reason=NO_CELL_SEPARATED))
    panel.show_result(unjudged, unjudged, now=0.0)
    assert panel.state.kind == "needs_a_look" and NO_CELL_SEPARATED in panel.detail_label.text()
    assert panel.p_bar.value is None and not panel.state.alarm


def test_a_flag_raised_by_cells_alerts_in_cells_not_in_the_field_models_class(panel, tmp_path):
    suspicious = judged_by_cells(tmp_path, threshold=0.01, subtype="Pro-B", flagged=True)
    flag = Flag("demo", 10, 12, None, None, "Benign", 0.37, suspicious,
                p_blast=suspicious.cells.p_blast_max)
    text = flag_alert_text(flag)
    assert text.startswith(f"⚑ New flag: 3 blasts · P(blast) {flag.p_blast:.2f} · likely Pro-B")
    assert "Benign" not in text and "P(ALL)" not in text
    panel.note_flag(("demo", 10), text, now=10.0)
    panel.show_result(suspicious, suspicious, now=11.0)
    assert panel.flag_lit and "3 blasts" in panel.flag_label.text()
    field_only = Flag("demo", 20, 22, None, None, "Pre-B", 0.91, result(0.91))
    assert flag_alert_text(field_only) == alert_text("Pre-B", 0.91)  # --no-cell-model wording


def test_with_a_cell_model_in_force_no_state_shows_the_field_models_classes(panel, tmp_path):
    """Not assessable, or waiting for the cells: the bar names P(blast) and shows no value, the
    field model's classes and P(ALL) stay hidden (a field-only verdict is not shown)."""
    panel.by_cells = True
    panel.show()
    panel.show_result(result(None, assessable=False, reasons=("stage moving",)), result(0.9),
                      now=0.0)
    assert panel.state.kind == "not_assessable" and panel.state.by_cells
    assert (panel.p_bar.name, panel.p_bar.value) == ("P(blast)", None)
    assert not panel._bars["Benign"].isVisible() and panel.state.probabilities is None
    panel.show_result(result(0.9), result(0.9), now=0.0)  # the field model's verdict alone
    assert panel.state.kind == "classifying" and panel.p_bar.value is None
    assert "Suspicious" not in visible_texts(panel) and "P(ALL)" not in visible_texts(panel)
    judged = judged_by_cells(tmp_path, threshold=0.99)
    panel.show_result(judged, judged, now=0.0)
    assert panel.state.kind == "judged" and panel.p_bar.value == judged.cells.p_blast_max
