"""A saved field as the report draws it, from the files a real session store wrote: read,
hash-checked and outlined; every file that is missing, damaged or changed is named, and the
picture comes from the stored preview only when it is large enough."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.report.field_image import OUTLINE_BGR, Prefetch, outlined, page_image


@pytest.fixture
def saved(store):
    """A 1000×750 flagged field with an evidence map (its preview is 640 wide)."""
    sid = store.create_session(session_info())
    image, mask = field_image(3, 750, 1000)
    heat = np.zeros(mask.shape, np.float32)
    heat[300:450, 400:600] = 1.0
    flag = flag_for(field_result(1), heat_map=heat)
    return store.add_field(sid, "flag", image, mask, flag.result, flag)


def test_a_sound_field_is_verified_outlined_and_drawn_from_its_preview(saved):
    shown = page_image(saved, max_width=640)
    assert shown.verified and shown.problem is None
    assert shown.image_sha256 == saved.image_sha256 == hashlib.sha256(
        saved.image_path.read_bytes()).hexdigest()
    assert (shown.image.width(), shown.image.height()) == (640, 480)
    assert (shown.cam.width(), shown.cam.height()) == (640, 480)
    assert shown.heat_map_sha256 == saved.heat_map_sha256


def test_without_a_large_enough_preview_the_lossless_image_is_drawn(saved):
    wide = page_image(saved, max_width=900)  # the 640-wide preview is too small for this
    assert wide.verified and (wide.image.width(), wide.image.height()) == (900, 675)
    old = dataclasses.replace(saved, preview_path=None)  # a field saved before previews
    assert page_image(old, max_width=640).image.width() == 640
    saved.preview_path.unlink()
    assert page_image(saved, max_width=640).verified


def test_a_missing_image_file_is_named_and_nothing_is_drawn(saved):
    saved.image_path.unlink()
    shown = page_image(saved)
    assert shown.image is None and shown.image_sha256 is None and not shown.verified
    assert shown.problem == "image file missing or unreadable (No such file or directory)"


def test_an_image_that_cannot_be_decoded_is_named(saved):
    saved.image_path.write_bytes(b"\x89PNG damaged")
    saved.preview_path.unlink()
    shown = page_image(saved)
    assert shown.image is None and shown.problem == "image file cannot be decoded"
    assert shown.image_sha256 == hashlib.sha256(b"\x89PNG damaged").hexdigest()


def test_a_changed_image_is_still_drawn_but_marked_changed(saved):
    saved.image_path.write_bytes(saved.image_path.read_bytes() + b"appended")
    shown = page_image(saved)
    assert shown.image is not None
    assert shown.problem == ("SHA-256 differs from the one recorded at capture: the file was "
                             "changed")


@pytest.mark.parametrize(
    ("damage", "problem", "hashed"),
    [("missing", "evidence map file missing or unreadable (No such file or directory)", False),
     ("garbage", "evidence map file cannot be decoded", True),
     ("changed", "evidence map SHA-256 differs from the one recorded at capture: the file was "
                 "changed", True)],
)
def test_a_damaged_evidence_map_is_named_and_the_field_still_drawn(saved, damage, problem,
                                                                   hashed):
    if damage == "missing":
        saved.heat_map_path.unlink()
    elif damage == "garbage":
        saved.heat_map_path.write_bytes(b"not a png")
    else:
        saved.heat_map_path.write_bytes(saved.heat_map_path.read_bytes() + b"\0")
    shown = page_image(saved)
    assert shown.image is not None and shown.problem == problem
    assert (shown.heat_map_sha256 is not None) is hashed
    assert (shown.cam is not None) is (damage == "changed")


def test_both_problems_are_named_when_image_and_evidence_map_changed(saved):
    saved.image_path.write_bytes(saved.image_path.read_bytes() + b"x")
    saved.heat_map_path.unlink()
    assert page_image(saved).problem == (
        "SHA-256 differs from the one recorded at capture: the file was changed; "
        "evidence map file missing or unreadable (No such file or directory)")


def test_prefetch_reads_ahead_and_a_page_drawn_twice_is_read_again(store):
    sid = store.create_session(session_info())
    fields = [store.add_field(sid, "manual", *field_image(i, 60, 80), field_result(i), None)
              for i in range(3)]
    prefetch = Prefetch(fields, max_width=40, window=1)
    try:
        assert prefetch.fields == fields
        first = prefetch.get(0)
        again = prefetch.get(0)  # no longer prefetched: read now
        assert first.image_sha256 == again.image_sha256 == fields[0].image_sha256
        assert [prefetch.get(i).image.width() for i in (1, 2)] == [40, 40]
    finally:
        prefetch.close()


def test_outlines_are_drawn_on_a_copy_at_full_size_when_small_enough():
    image, mask = field_image(1, 60, 80)
    small = outlined(image, mask, max_width=640)
    assert small.shape == image.shape and small is not image
    assert np.all(small == OUTLINE_BGR, axis=2).any()
    assert not np.all(image == OUTLINE_BGR, axis=2).any()  # the stored field is untouched
