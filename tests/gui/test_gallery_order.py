"""The flag gallery: one entry per location, labels that say what and where, order and filter."""

import dataclasses

import numpy as np
from gui_helpers import result

from allscope.app.cell_words import CellSummary
from allscope.app.field_store import GalleryRecord
from allscope.app.gallery_order import HAND, caption, ordered
from allscope.gui.gallery import GalleryModel
from allscope.gui.gallery_controls import GalleryControls


def thumb(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)


def rec(id_, p_all, kind="flag", seed=None, decision=None, at=1_700_000_000.0):
    r = result(p_all) if p_all is not None else result(None)
    return GalleryRecord(id_, kind, thumb(id_ if seed is None else seed), r, decision, "", at + id_)


def test_near_identical_flags_at_one_location_make_one_entry(qtbot):
    model = GalleryModel()
    model.add_record(rec(1, 0.9, seed=7))
    noisy = rec(2, 0.95, seed=7)
    noisy = GalleryRecord(
        2,
        "flag",
        np.clip(noisy.thumbnail.astype(int) + 3, 0, 255).astype(np.uint8),
        noisy.result,
        None,
        "",
        noisy.captured_at,
    )
    model.add_record(noisy)
    model.add_record(rec(3, 0.8, seed=8))  # another place
    assert model.rowCount() == 2 and len(model.records()) == 3
    assert model.repeats(1) == 1 and "+1 more here" in model.data(model.index(0))


def test_labels_name_class_probability_time_and_source():
    text = caption(rec(1, 0.93))
    assert (
        "⚑ flag" in text
        and "Pre-B · P(ALL) 0.93" in text
        and "test" in text
        and "unreviewed" in text
    )
    hand = caption(rec(2, None, kind="manual"))
    assert "✋ hand" in hand and "not judged" in hand


def test_orders_and_filters():
    records = [
        rec(1, 0.6),
        rec(2, 0.9, decision="accept"),
        rec(3, 0.7),
        rec(4, None, kind="manual"),
    ]
    assert [r.id for r in ordered(records, "unreviewed")] == [3, 1, 4, 2]
    assert [r.id for r in ordered(records, "probability")] == [2, 3, 1, 4]
    assert [r.id for r in ordered(records, "time")] == [1, 2, 3, 4]
    assert [r.id for r in ordered(records, "time", HAND)] == [4]
    assert [r.id for r in ordered(records, "time", "Pre-B")] == [
        2,
        3,
    ]  # P(ALL) 0.6 is labelled Benign


def test_controls_reorder_and_filter_the_model(qtbot):
    model = GalleryModel()
    controls = GalleryControls(model)
    qtbot.addWidget(controls)
    for r in (rec(1, 0.6), rec(2, 0.9), rec(3, None, kind="manual")):
        model.add_record(r)
    controls.order.setCurrentIndex(controls.order.findData("probability"))
    assert [model.record(i).id for i in range(model.rowCount())] == [2, 1, 3]
    controls.filter.setCurrentText(HAND)
    assert [model.record(i).id for i in range(model.rowCount())] == [3]


def cell_rec(id_, p_blast, blasts, p_all=0.37, subtype=None, kind="flag"):
    """A field the cells judged (its field model said "Benign, P(ALL) p_all")."""
    field = dataclasses.replace(result(p_all, probabilities=(1 - p_all, 0.1, 0.2, p_all - 0.3)),
                                subtype=subtype)
    cells = CellSummary(cells=4, blasts=blasts, p_blast=p_blast, threshold=0.5)
    return GalleryRecord(id_, kind, thumb(id_), field, None, "", 1_700_000_000.0 + id_, cells)


def test_labels_of_fields_judged_by_cells_speak_cells_not_the_field_class():
    text = caption(cell_rec(1, 0.93, 2, subtype="Pre-B"))
    first, second, third, _ = text.split("\n")
    assert first == "⚑ 2 blasts · P(blast) 0.93" and second == "likely Pre-B"
    assert third.endswith(" · test")
    assert "Benign" not in text and "P(ALL)" not in text
    calm = caption(cell_rec(2, 0.12, 0, subtype="Pre-B", kind="manual"))
    assert calm.startswith("✋ no blast · P(blast) 0.12") and "likely" not in calm
    one = caption(cell_rec(3, 0.61, 1))
    assert "1 blast · P(blast) 0.61" in one and "likely" not in one  # no subtype was read


def test_fields_judged_by_cells_sort_by_p_blast_and_filter_by_blasts(qtbot):
    records = [cell_rec(1, 0.55, 1, p_all=0.9), cell_rec(2, 0.97, 3, p_all=0.35),
               cell_rec(3, 0.10, 0, p_all=0.99)]
    assert [r.id for r in ordered(records, "probability")] == [2, 1, 3]  # not by P(ALL)
    assert [r.id for r in ordered(records, "unreviewed")] == [2, 1, 3]
    assert [r.id for r in ordered(records, "time", "Blasts")] == [1, 2]
    model = GalleryModel()
    for r in records:
        model.add_record(r)
    assert model.classes() == ["Blasts", "No blast"]  # never the field model's "Benign"
