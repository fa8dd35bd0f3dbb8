"""The live panel's one state per situation, without Qt: what each state shows and hides, its
threshold bar, and the alert of a new flag (once per flag, for a few seconds)."""

from __future__ import annotations

import dataclasses

from cell_records import field_cells
from gui_helpers import result
from store_helpers import flag_for

from allscope.app.panel_state import (
    NEEDS_A_LOOK,
    OUTSIDE_DETAIL,
    FlagAlert,
    alert_text,
    flag_alert_text,
    panel_state,
)
from allscope.core.ood import OUTSIDE


def with_cells(p_all, *p_blasts, subtype=None, **kwargs):
    return dataclasses.replace(result(p_all), cells=field_cells(*p_blasts, **kwargs),
                               subtype=subtype)


def test_words_only_while_waiting_without_cells_or_model_and_while_classifying():
    assert panel_state(None, None, 0.5).kind == "waiting"
    empty = panel_state(result(0.9, wbc=0), result(0.9), 0.5)
    assert (empty.kind, empty.wbc, empty.probabilities) == ("no_cells", 0, None)
    no_model = panel_state(result(None), None, 0.5, has_model=False)
    assert (no_model.kind, no_model.headline) == ("no_model", "Not classified")
    waiting = panel_state(result(None), None, 0.5)
    assert (waiting.kind, waiting.headline, waiting.bar) == (
        "classifying", "Classifying…", ("P(ALL)", None, None))
    assert not waiting.alarm


def test_not_assessable_says_why_or_that_it_cannot_be_judged():
    blurred = panel_state(result(0.9, assessable=False, reasons=("blurred", "too dark")),
                          result(0.9), 0.5)
    assert (blurred.kind, blurred.detail) == ("not_assessable", "Why: blurred; too dark.")
    assert blurred.probabilities is None and not blurred.alarm
    unexplained = panel_state(result(0.9, assessable=False), None, 0.5)
    assert unexplained.detail == "Why: the field cannot be judged."


def test_outside_the_models_experience_needs_a_look_also_when_only_the_verdict_says_so():
    outside = result(0.9, reasons=(OUTSIDE,))
    for current, classified in ((outside, None), (result(0.9), outside)):
        state = panel_state(current, classified, 0.5)
        assert (state.kind, state.headline, state.detail, state.tone) == (
            "needs_a_look", NEEDS_A_LOOK, OUTSIDE_DETAIL, "attention")
        assert state.probabilities is None and state.p_all is None


def test_judged_by_the_field_model_red_only_at_or_above_the_threshold():
    calm = panel_state(result(0.3), result(0.3), 0.5)
    assert (calm.kind, calm.headline, calm.tone, calm.alarm) == ("judged", "Benign", "calm", False)
    assert calm.detail == "P(ALL) below the threshold 0.50."
    assert calm.bar == ("P(ALL)", 0.3, None)
    suspicious = panel_state(result(0.5), result(0.5), 0.5)
    assert suspicious.headline == "Suspicious for ALL → most likely Pre-B"
    assert suspicious.tone == "suspicious" and suspicious.alarm
    assert suspicious.probabilities["Benign"] == 0.5
    # a model with only the benign class has no subtype to name
    only_benign = dataclasses.replace(result(0.7), classes=("Benign",), probabilities=(0.3,))
    assert panel_state(result(0.7), only_benign, 0.5).headline == "Suspicious for ALL"


def test_judged_by_cells_shows_the_cells_and_p_blast_never_the_field_class():
    calm = panel_state(result(0.9), with_cells(0.9, 0.2, 0.3), 0.5, by_cells=True)
    assert (calm.kind, calm.headline, calm.tone) == ("judged", "No blast in view", "calm")
    assert calm.detail == ("2 white cells judged, no blast; highest P(blast) 0.30 "
                           "(blast at 0.50).")
    assert calm.bar == ("P(blast)", 0.3, 0.5) and calm.wbc == 2
    blasts = panel_state(result(0.9), with_cells(0.9, 0.8, 0.6, subtype="Pro-B"), 0.5,
                         by_cells=True)
    assert blasts.headline == "Suspicious: 2 blasts → likely Pro-B" and blasts.alarm
    assert blasts.probabilities is None and blasts.p_all is None
    no_subtype = panel_state(result(0.9), with_cells(0.9, 0.8), 0.5, by_cells=True)
    assert no_subtype.headline == "Suspicious: 1 blast"


def test_cells_that_could_not_be_judged_need_a_look_with_the_reason():
    state = panel_state(result(0.9), with_cells(0.9, judged=False, reason="model failed"), 0.5)
    assert (state.kind, state.tone) == ("needs_a_look", "attention")
    assert state.detail == "Why: model failed. Look at it yourself."
    assert state.bar == ("P(blast)", None, 0.5)  # no value: nothing was judged
    silent = panel_state(result(0.9), with_cells(0.9, judged=False), 0.5)
    assert silent.detail == "Why: the cells could not be judged. Look at it yourself."


def test_with_a_cell_model_a_field_only_verdict_is_not_shown():
    state = panel_state(result(0.9), result(0.9), 0.5, by_cells=True)
    assert (state.kind, state.probabilities, state.p_all) == ("classifying", None, None)
    assert state.bar == ("P(blast)", None, None)
    outside = panel_state(result(0.9, assessable=False, reasons=("blurred",)), result(0.9), 0.5,
                          by_cells=True)
    assert outside.kind == "not_assessable" and outside.probabilities is None


def test_a_flag_alerts_once_for_its_hold_time():
    alert = FlagAlert(hold_s=4.0)
    assert alert.current(0.0) is None
    alert.raise_flag("flag-1", "first", now=10.0)
    assert alert.current(13.9) == "first" and alert.current(14.0) is None
    alert.raise_flag("flag-1", "first again", now=13.0)  # the same flag: not prolonged
    assert alert.current(13.5) == "first"
    alert.raise_flag("flag-2", "second", now=20.0)
    assert alert.current(23.0) == "second"
    state = panel_state(result(0.9), result(0.9), 0.5, alert=alert.current(21.0))
    assert state.alarm and state.alert == "second"


def test_the_alert_speaks_cells_when_cells_raised_the_flag():
    assert alert_text("Pre-B", 0.876, "camera 0") == (
        "⚑ New flag: Pre-B, P(ALL) 0.88 · camera 0 — saved to the gallery")
    plain = flag_for(result(0.9))
    assert flag_alert_text(plain) == "⚑ New flag: Pre-B, P(ALL) 0.90 — saved to the gallery"
    by_cells = dataclasses.replace(plain, result=with_cells(0.9, 0.95, subtype="Pre-B"))
    assert flag_alert_text(by_cells) == (
        "⚑ New flag: 1 blast · P(blast) 0.95 · likely Pre-B — saved to the gallery")
    unjudged = dataclasses.replace(plain, result=with_cells(0.9, judged=False))
    assert flag_alert_text(unjudged) == flag_alert_text(plain)
