"""How a field judged by cells is worded (live panel, alert, gallery), and how the gallery sorts
and filters it, with and without a cell model."""

from __future__ import annotations

import dataclasses

from cell_records import field_cells, saved_cell
from gui_helpers import result

from allscope.app.cell_words import (
    CellSummary,
    alert_words,
    blasts_text,
    cell_summary,
    cells_text,
    saved_summary,
    strength,
    subtype_text,
    verdict_class,
    verdict_text,
)


def test_a_result_without_a_cell_model_has_no_summary_and_keeps_the_field_wording():
    plain = result(0.8)
    assert cell_summary(plain) is None
    assert strength(plain, None) == 0.8
    assert verdict_class(plain, None) == "Pre-B"


def test_a_live_summary_counts_the_cells_and_blasts_of_the_result():
    judged = dataclasses.replace(result(0.3), cells=field_cells(0.9, 0.2, 0.6, threshold=0.5))
    summary = cell_summary(judged)
    assert summary == CellSummary(3, 2, 0.9, 0.5, True, "")
    assert summary.suspicious
    assert strength(judged, summary) == 0.9  # P(blast), not the field's P(ALL)
    assert verdict_class(judged, summary) == "Blasts"


def test_cells_without_a_blast_are_no_blast_whatever_the_field_model_says():
    judged = dataclasses.replace(result(0.95), cells=field_cells(0.1, 0.3))
    summary = cell_summary(judged)
    assert not summary.suspicious
    assert verdict_class(judged, summary) == "No blast"
    assert verdict_text(summary) == "no blast · P(blast) 0.30"
    assert subtype_text(summary, "Pre-B") == ""  # no subtype beside "no blast"


def test_cells_that_could_not_be_judged_need_a_look_and_sort_by_the_field():
    unjudged = dataclasses.replace(
        result(0.7), cells=field_cells(judged=False, reason="the cell model could not judge")
    )
    summary = cell_summary(unjudged)
    assert summary == CellSummary(0, 0, 0.0, 0.5, False, "the cell model could not judge")
    assert not summary.suspicious
    assert verdict_class(unjudged, summary) == "Needs a look"
    assert verdict_text(summary) == "needs a look: the cell model could not judge"
    assert verdict_text(dataclasses.replace(summary, reason="")) == "needs a look: cells not judged"
    assert strength(unjudged, summary) == 0.7


def test_saved_cells_summarise_as_the_model_called_them():
    assert saved_summary([]) is None
    cells = [saved_cell(1, 0.2, threshold=0.4), saved_cell(2, 0.8, threshold=0.4),
             saved_cell(3, 0.45, threshold=0.4, current="lymphocyte", decision="dismiss")]
    # the model's calls, whatever a reviewer did since: the threshold is the cells' own
    assert saved_summary(cells, threshold=0.9) == CellSummary(3, 2, 0.8, 0.4)


def test_counts_are_worded_in_the_singular_and_plural():
    assert [blasts_text(n) for n in (0, 1, 2)] == ["no blast", "1 blast", "2 blasts"]
    assert [cells_text(n) for n in (0, 1, 2)] == ["0 white cells", "1 white cell",
                                                  "2 white cells"]


def test_the_alert_names_the_blasts_and_the_subtype_only_as_likely():
    suspicious = CellSummary(4, 2, 0.934, 0.5)
    assert alert_words(suspicious, "Pre-B") == "2 blasts · P(blast) 0.93 · likely Pre-B"
    assert alert_words(suspicious, None) == "2 blasts · P(blast) 0.93"
    assert subtype_text(suspicious, None) == ""
    calm = CellSummary(4, 0, 0.2, 0.5)
    assert alert_words(calm, "Pre-B") == "no blast · P(blast) 0.20"
