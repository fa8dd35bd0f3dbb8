"""The in-memory field store (runs without a session): lossless round trip, its cap, reviews,
and handing every field over to a session in capture order."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import field_with_cells, result
from store_helpers import flag_for

from allscope.app.field_store import (
    THUMB_WIDTH,
    MemoryFieldStore,
    StoreFullError,
    _png,
    _unpng,
    make_thumbnail,
)


def heat_flag(shape: tuple[int, int]):
    heat = np.zeros(shape, np.float32)
    heat[20:60, 40:120] = 1.0
    heat[100:120, 200:260] = 0.5
    return flag_for(result(0.9), heat_map=heat)


def test_image_mask_and_heat_map_read_back_as_stored():
    store = MemoryFieldStore()
    image, mask = field_with_cells()
    flag = heat_flag(mask.mask.shape)
    record = store.add_field("flag", image, mask, flag.result, flag)
    assert np.array_equal(store.full_image(record.id), image)
    assert np.array_equal(store.mask(record.id), mask.mask)
    heat = store.heat_map(record.id)
    assert heat.dtype == np.float32
    assert np.abs(heat - flag.heat_map).max() <= 0.5 / 255 + 1e-6  # 8-bit, rounded
    assert record.thumbnail.shape == (90, THUMB_WIDTH, 3)
    assert record.captured_at > 0 and record.cells is None and record.decision is None


def test_a_field_without_mask_or_flag_has_neither():
    store = MemoryFieldStore()
    image, _ = field_with_cells()
    record = store.add_field("manual", image, None, result(0.2), None)
    assert store.mask(record.id) is None
    assert store.heat_map(record.id) is None
    [(taken, taken_image, taken_mask, taken_flag)] = store.take_all()
    assert taken.id == record.id and taken_mask is None and taken_flag is None
    assert np.array_equal(taken_image, image)


def test_the_store_refuses_past_its_cap_with_what_to_do():
    store = MemoryFieldStore(max_fields=2)
    image, mask = field_with_cells()
    for _ in range(2):
        store.add_field("flag", image, mask, result(0.9), None)
    with pytest.raises(StoreFullError, match="2 fields are already held .* start a session"):
        store.add_field("flag", image, mask, result(0.9), None)
    assert len(store) == 2


def test_reviews_replace_the_record_and_bad_reviews_are_refused():
    store = MemoryFieldStore()
    image, mask = field_with_cells()
    record = store.add_field("flag", image, mask, result(0.9), None)
    reviewed = store.review(record.id, "dismiss", "debris")
    assert (reviewed.decision, reviewed.comment) == ("dismiss", "debris")
    assert store.record(record.id) == reviewed
    assert store.review(record.id, None, "").decision is None  # a review can be taken back
    with pytest.raises(ValueError, match="decision must be one of"):
        store.review(record.id, "maybe", "")
    with pytest.raises(KeyError, match="no field 99"):
        store.review(99, "accept", "")
    with pytest.raises(KeyError, match="no field 99"):
        store.record(99)


def test_take_all_hands_over_every_field_oldest_first_with_its_review_and_heat_map():
    store = MemoryFieldStore()
    image, mask = field_with_cells()
    flag = heat_flag(mask.mask.shape)
    first = store.add_field("flag", image, mask, flag.result, flag)
    second = store.add_field("manual", image, mask, result(0.3), None)
    store.review(first.id, "accept", "blasts")
    taken = store.take_all()
    assert [(r.id, r.decision) for r, *_ in taken] == [(first.id, "accept"), (second.id, None)]
    taken_flag = taken[0][3]
    assert taken_flag.label == flag.label and taken_flag.heat_map is not None
    assert np.abs(taken_flag.heat_map - flag.heat_map).max() <= 0.5 / 255 + 1e-6
    assert len(store) == 0 and store.take_all() == []
    with pytest.raises(KeyError):
        store.record(first.id)


def test_thumbnail_outlines_the_mask_and_leaves_a_field_without_cells_plain():
    image, mask = field_with_cells()
    outlined = make_thumbnail(image, mask.mask)
    plain = make_thumbnail(image, np.zeros_like(mask.mask))
    assert outlined.shape == plain.shape == (90, THUMB_WIDTH, 3)
    cyan = np.all(outlined == (255, 255, 0), axis=2)
    assert cyan.sum() > 20 and not np.all(plain == (255, 255, 0), axis=2).any()
    assert np.array_equal(make_thumbnail(image, None), plain)


def test_png_bytes_that_do_not_decode_are_an_error_not_a_blank_field():
    assert np.array_equal(_unpng(_png(np.eye(4, dtype=np.uint8)), 0), np.eye(4, dtype=np.uint8))
    with pytest.raises(ValueError, match="could not be decoded"):
        _unpng(b"not a png", 1)
