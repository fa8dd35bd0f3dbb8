"""The cell review without Qt: digit keys, cells grouped by their reviewed type, the tally in
words, and what the viewer draws over a field's cells."""

from __future__ import annotations

from cell_records import field_cells, saved_cell

from allscope.app.cell_overlay import inset_first, overlays
from allscope.app.cell_review import (
    DISMISSED,
    digit_keys,
    grouped,
    key_sheet,
    progress_text,
    tally_lines,
)
from allscope.core.cells.tally import Tally, tally_of

CLASSES = ("blast", "lymphocyte", "neutrophil")


def test_digit_keys_follow_the_package_order_up_to_nine():
    assert digit_keys(CLASSES) == {"1": "blast", "2": "lymphocyte", "3": "neutrophil"}
    many = [f"type{i}" for i in range(12)]
    keys = digit_keys(many)
    assert list(keys) == [str(n) for n in range(1, 10)] and keys["9"] == "type8"
    assert key_sheet(CLASSES) == (
        "1 blast · 2 lymphocyte · 3 neutrophil · A accept · D dismiss (not a white cell)"
    )


def test_cells_are_grouped_by_current_type_most_blast_like_first_dismissed_last():
    cells = [
        saved_cell(1, 0.3, label="lymphocyte"),
        saved_cell(2, 0.9),
        saved_cell(3, 0.6, label="blast", current="lymphocyte"),  # moved by a reviewer
        saved_cell(4, 0.95, decision="dismiss"),
        saved_cell(5, 0.7),
        saved_cell(6, 0.1, label="monocyte"),  # a type the package does not list
    ]
    groups = [(name, [c.id for c in members]) for name, members in grouped(cells, CLASSES)]
    assert groups == [("blast", [2, 5]), ("lymphocyte", [3, 1]), (DISMISSED, [4]),
                      ("monocyte", [6])]
    assert grouped([], CLASSES) == []


def test_the_tally_in_words_before_and_after_cells_are_counted():
    empty = Tally(0, 0, {}, target=100)
    assert tally_lines(empty) == [("White cells counted", "0 of 100"),
                                  ("Blasts", "no white cell counted yet")]
    assert progress_text(empty) == "0 of 100 white cells"
    counted = tally_of(["blast"] * 3 + ["lymphocyte"] * 5 + ["neutrophil"] * 2, target=10)
    rows = tally_lines(counted)
    assert rows[0] == ("White cells counted", "10 of 10")
    low, high = counted.ci95
    assert rows[1] == ("Blasts", f"3 = 30.0% (95% interval {100 * low:.1f}–{100 * high:.1f}%)")
    assert rows[2:] == [("lymphocyte", "5"), ("blast", "3"), ("neutrophil", "2")]
    assert progress_text(counted) == "Count complete: 10 white cells examined"


def test_overlays_of_saved_cells_use_the_reviewed_label_and_leave_dismissed_ones_out():
    saved = [saved_cell(1, 0.9, bbox=(5, 6, 7, 8)),
             saved_cell(2, 0.8, current="lymphocyte"),
             saved_cell(3, 0.99, decision="dismiss")]
    drawn = overlays(saved, field_cells(0.1))  # saved cells win over the live ones
    assert [(o.label, o.blast) for o in drawn] == [("blast", True), ("lymphocyte", False)]
    assert drawn[0].bbox == (5, 6, 7, 8) and drawn[0].contour[0] == (5, 6)
    assert drawn[0].caption == "blast 0.90"
    assert inset_first(drawn) == drawn[0]


def test_overlays_of_live_cells_call_each_cell_as_the_classifier_did():
    live = field_cells(0.2, 0.85, threshold=0.5)
    drawn = overlays(None, live)
    assert [(o.label, o.blast, o.caption) for o in drawn] == [
        ("lymphocyte", False, "lymphocyte 0.20"), ("blast", True, "blast 0.85")
    ]
    assert drawn[1].contour == ((20, 10), (32, 10), (32, 22), (20, 22))
    assert inset_first(drawn).p_blast == 0.85


def test_no_overlay_without_cells_or_when_they_were_not_judged():
    assert overlays([], None) == []
    assert overlays(None, field_cells(0.9, judged=False, reason="failed")) == []
    assert inset_first([]) is None
