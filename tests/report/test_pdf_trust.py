"""The PDF report and the trust features: evidence maps beside flagged fields, their hashes in
the manifest, and the count of fields outside the model's experience."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import subprocess

import numpy as np
import pytest
from report_helpers import needs, pdf_text
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.ood import OUTSIDE
from allscope.report.manifest import sidecar_path
from allscope.report.pdf import write_pdf


@pytest.fixture
def cam_session(store):
    """One flag with a heat map, one hand capture without; two of five results outside."""
    sid = store.create_session(session_info())
    image, mask = field_image(1, 240, 320)
    heat = np.zeros(mask.shape, np.float32)
    heat[100:140, 140:180] = 1.0
    flag = flag_for(field_result(1), heat_map=heat)
    store.add_field(sid, "flag", image, mask, flag.result, flag)
    store.add_field(sid, "manual", *field_image(2, 240, 320), field_result(2))
    outside = dataclasses.replace(
        field_result(3), assessable=False, reasons=(OUTSIDE,), ood_score=4.2
    )
    store.record_results(sid, [outside, outside, field_result(4), field_result(5), field_result(6)])
    store.end_session(sid, ended_at=1_700_000_900.0)
    return sid


def images_per_page(path) -> list[tuple[int, int, int]]:
    """(page, width, height) of every image in the PDF, from poppler's pdfimages -list."""
    out = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True
    ).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    return [(int(r[0]), int(r[3]), int(r[4])) for r in rows]


def test_manifest_holds_the_evidence_map_hash_of_the_cam_field(store, cam_session, tmp_path, qapp):
    report = write_pdf(store, cam_session, tmp_path / "report.pdf")
    manifest = json.loads(sidecar_path(report).read_text(encoding="utf-8"))
    cam_field, plain_field = store.fields(cam_session)
    entries = {entry["field_id"]: entry for entry in manifest["images"]}
    expected = hashlib.sha256(cam_field.heat_map_path.read_bytes()).hexdigest()
    assert (
        entries[cam_field.id]["heat_map_sha256"]
        == expected
        == entries[cam_field.id]["recorded_heat_map_sha256"]
    )
    assert entries[cam_field.id]["verified"] is True
    assert "heat_map_sha256" not in entries[plain_field.id]


@pytest.mark.skipif(
    shutil.which("pdfimages") is None, reason="pdfimages (poppler-utils) is not installed"
)
def test_cam_field_gets_two_images_and_a_plain_field_one(store, cam_session, tmp_path, qapp):
    report = write_pdf(store, cam_session, tmp_path / "report.pdf")
    fields = [image for image in images_per_page(report) if (image[1], image[2]) == (320, 240)]
    assert len(fields) == 3  # outlined + evidence map for the flag, outlined for the capture


@needs("pdftotext")
def test_summary_counts_fields_outside_the_models_experience(store, cam_session, tmp_path, qapp):
    report = write_pdf(store, cam_session, tmp_path / "report.pdf")
    text = " ".join(pdf_text(report).split())
    assert "Outside the model's experience 2 (the model abstained: never flagged)" in text
    assert "the right one is the evidence map of its top class versus Benign" in text


def test_changed_evidence_map_file_is_reported_as_unverified(store, cam_session, tmp_path, qapp):
    cam_field = store.fields(cam_session)[0]
    cam_field.heat_map_path.write_bytes(cam_field.heat_map_path.read_bytes() + b"\0")
    report = write_pdf(store, cam_session, tmp_path / "report.pdf")
    entry = json.loads(sidecar_path(report).read_text(encoding="utf-8"))["images"][0]
    assert entry["verified"] is False and "evidence map" in entry["problem"]
