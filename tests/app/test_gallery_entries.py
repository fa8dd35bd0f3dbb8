"""What the gallery lists, without Qt: one entry per slide location, each label's words, and
the orders and filters, for fields judged by the field model, by cells, or not at all."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from gui_helpers import result

from allscope.app.cell_words import CellSummary
from allscope.app.field_store import GalleryRecord
from allscope.app.gallery_order import (
    ALL_CLASSES,
    HAND,
    RECENT_GROUPS,
    LocationGroups,
    caption,
    fingerprint,
    ordered,
)

AT = 1_700_000_000.0


def thumb(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (90, 160, 3), dtype=np.uint8)


def rec(id_, p_all=0.8, kind="flag", decision=None, cells=None, at=AT, **changes):
    r = dataclasses.replace(result(p_all), **changes)
    return GalleryRecord(id_, kind, thumb(id_), r, decision, "", at + id_ if at else 0.0, cells)


def test_a_location_is_one_entry_until_it_scrolls_out_of_the_recent_ones():
    groups = LocationGroups()
    place = thumb(1)
    assert groups.place(1, place) == 1
    shifted = np.clip(place.astype(int) + 4, 0, 255).astype(np.uint8)  # the lamp a bit brighter
    assert groups.place(2, shifted) == 1
    assert groups.place(3, cv2.cvtColor(place, cv2.COLOR_BGR2GRAY)) == 1  # grey works too
    for entry in range(10, 10 + RECENT_GROUPS):
        assert groups.place(entry, thumb(entry)) == entry
    assert groups.place(99, place) == 99  # too long ago: a new entry
    groups.clear()
    assert groups.place(100, thumb(10)) == 100


def test_a_flat_field_has_a_zero_fingerprint_and_matches_nothing():
    flat = np.full((90, 160, 3), 128, np.uint8)
    assert not fingerprint(flat).any()
    groups = LocationGroups()
    assert groups.place(1, flat) == 1
    assert groups.place(2, flat) == 2  # no structure, no evidence of the same place


def test_labels_of_field_model_verdicts_reviews_and_repeats():
    accepted = caption(rec(1, 0.93, decision="accept", source="camera 0 (1920x1080)"), repeats=2)
    lines = accepted.split("\n")
    assert lines[0] == "⚑ flag · Pre-B · P(ALL) 0.93"
    assert lines[1].endswith(" · camera 0") and lines[2:] == ["✔ accepted", "+2 more here"]
    dismissed = caption(rec(2, None, kind="manual", decision="dismiss", at=0.0,
                            reasons=("blurred", "too dark")))
    assert dismissed.split("\n") == [
        "✋ hand · not judged: blurred; too dark", "— · test", "✖ dismissed"]
    assert caption(rec(3, None)).startswith("⚑ flag · not judged: no model")


def test_labels_of_fields_judged_by_cells():
    blasts = CellSummary(3, 2, 0.91, 0.5)
    text = caption(rec(1, 0.4, cells=blasts, subtype="Pro-B", source="")).split("\n")
    assert text[0] == "⚑ 2 blasts · P(blast) 0.91"
    assert text[1] == "likely Pro-B" and text[2].endswith(" · ") and text[3] == "● unreviewed"
    calm = caption(rec(2, 0.9, kind="manual", cells=CellSummary(2, 0, 0.1, 0.5), subtype="Pre-B"))
    assert calm.split("\n")[0] == "✋ no blast · P(blast) 0.10" and "likely" not in calm


def test_orders_put_the_unreviewed_and_the_most_suspicious_first():
    records = [rec(1, 0.6), rec(2, 0.9, decision="accept"), rec(3, None), rec(4, 0.7),
               rec(5, 0.2, cells=CellSummary(2, 1, 0.95, 0.5))]
    assert [r.id for r in ordered(records, "probability")] == [5, 2, 4, 1, 3]
    assert [r.id for r in ordered(records, "unreviewed")] == [5, 4, 1, 3, 2]
    assert [r.id for r in ordered(records, "time")] == [1, 2, 3, 4, 5]


def test_filters_by_hand_captures_or_by_verdict():
    records = [rec(1, 0.9), rec(2, 0.1, kind="manual", probabilities=(0.9, 0.02, 0.05, 0.03)),
               rec(3, 0.2, cells=CellSummary(2, 1, 0.95, 0.5)),
               rec(4, 0.9, cells=CellSummary(2, 0, 0.05, 0.5)),
               rec(5, 0.9, cells=CellSummary(0, 0, 0.0, 0.5, judged=False))]
    assert [r.id for r in ordered(records, "time", HAND)] == [2]
    assert [r.id for r in ordered(records, "time", ALL_CLASSES)] == [1, 2, 3, 4, 5]
    assert [r.id for r in ordered(records, "time", "Pre-B")] == [1]
    assert [r.id for r in ordered(records, "time", "Benign")] == [2]
    assert [r.id for r in ordered(records, "time", "Blasts")] == [3]
    assert [r.id for r in ordered(records, "time", "No blast")] == [4]
    assert [r.id for r in ordered(records, "time", "Needs a look")] == [5]
