"""Saved fields at the edges: previews of wide fields, masks and heat maps in other types,
inputs that are not field images, and a heat map file damaged after it was saved."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.store import SessionStore, StoreError
from allscope.core.store.saved import PREVIEW_WIDTH


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as opened:
        yield opened


def test_a_wide_field_gets_a_preview_scaled_to_the_gallery_width(store):
    sid = store.create_session(session_info())
    image, mask = field_image(4, height=500, width=1600)
    record = store.add_field(sid, "manual", image, mask, field_result(4))
    preview = cv2.imread(str(record.preview_path))
    assert preview.shape == (200, PREVIEW_WIDTH, 3)  # 1600 x 500 at 640 wide, aspect kept
    assert np.array_equal(cv2.imread(str(record.image_path)), image)  # the PNG stays full size


def test_a_narrow_field_keeps_its_size_in_the_preview(store):
    sid = store.create_session(session_info())
    record = store.add_field(sid, "manual", *field_image(5), field_result(5))
    assert cv2.imread(str(record.preview_path)).shape == (96, 128, 3)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((96, 128), np.uint8),  # grey, no channels
        np.zeros((96, 128, 4), np.uint8),  # BGRA
        np.zeros((96, 128, 3), np.float32),  # not 8-bit
        [[0, 0, 0]],  # not an array at all
    ],
    ids=["grey", "bgra", "float", "list"],
)
def test_only_8_bit_bgr_fields_are_saved(store, image):
    sid = store.create_session(session_info())
    with pytest.raises(ValueError, match=r"uint8 BGR array of shape \(H, W, 3\)"):
        store.add_field(sid, "manual", image, np.zeros((96, 128), np.uint8), field_result())
    assert store.fields(sid) == [] and list(store.session_dir(sid).iterdir()) == []


def test_a_boolean_mask_is_saved_as_0_and_255(store):
    sid = store.create_session(session_info())
    image, mask = field_image(6)
    record = store.add_field(sid, "manual", image, mask > 0, field_result(6))
    saved = cv2.imread(str(record.mask_path), cv2.IMREAD_UNCHANGED)
    assert saved.dtype == np.uint8 and set(np.unique(saved)) == {0, 255}
    assert np.array_equal(saved, mask)


def test_an_8_bit_heat_map_is_saved_as_it_is(store):
    sid = store.create_session(session_info())
    image, mask = field_image(7)
    heat = np.tile(np.arange(128, dtype=np.uint8) * 2, (96, 1))
    flag = flag_for(field_result(7), heat_map=heat)
    field = store.add_field(sid, "flag", image, mask, flag.result, flag)
    assert np.array_equal(cv2.imread(str(field.heat_map_path), cv2.IMREAD_GRAYSCALE), heat)
    assert np.allclose(store.heat_map(field.id), heat / 255.0)


def test_a_heat_map_damaged_on_disk_is_reported_not_drawn(store):
    sid = store.create_session(session_info())
    image, mask = field_image(8)
    heat = np.full(mask.shape, 0.5, np.float32)
    flag = flag_for(field_result(8), heat_map=heat)
    field = store.add_field(sid, "flag", image, mask, flag.result, flag)
    field.heat_map_path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)  # truncated
    with pytest.raises(StoreError, match="the saved heat map cannot be read; the session folder"):
        store.heat_map(field.id)
