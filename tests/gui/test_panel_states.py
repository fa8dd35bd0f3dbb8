"""The live panel's states, each drawn by the real widget from the one state model."""

import dataclasses

import pytest
from gui_helpers import CLASSES, result

from allscope.app.panel_state import NEEDS_A_LOOK, alert_text, panel_state
from allscope.core.ood import OUTSIDE
from allscope.gui.classification_panel import ClassificationPanel


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
