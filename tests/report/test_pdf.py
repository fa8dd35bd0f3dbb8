"""The PDF report, written for real by Qt's PDF writer and read back with poppler when present."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from report_helpers import ACCENTED, CHINESE, PERSIAN, needs, pdf_text

from allscope.core.model_package import InputSpec, ModelPackage
from allscope.core.store.files import WriteFailedError
from allscope.report.manifest import sidecar_path
from allscope.report.pdf import write_pdf

DISCLAIMER_WORDS = (
    "Screening aid, not a diagnosis. Any suspicious field must be confirmed by flow cytometry"
)


@pytest.fixture
def report(store, session_id, tmp_path, qapp) -> Path:
    return write_pdf(store, session_id, tmp_path / "report.pdf")


def page_count(path: Path) -> int:
    """Pages counted in the PDF itself (no poppler needed)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def test_report_is_a_pdf_with_pages(report):
    assert report.read_bytes().startswith(b"%PDF-")
    assert page_count(report) >= 2


@needs("pdftotext")
def test_every_page_has_its_number_and_the_disclaimer(report):
    pages = page_count(report)
    for number in range(1, pages + 1):
        text = " ".join(pdf_text(report, number).split())
        assert f"Page {number} of {pages}" in text
        assert DISCLAIMER_WORDS in text


@needs("pdftotext")
def test_persian_chinese_and_accented_names_round_trip(report):
    text = pdf_text(report)
    assert PERSIAN in text
    assert CHINESE in text
    assert ACCENTED in text


@needs("pdftotext")
def test_summary_shows_counts_and_threshold(report):
    text = " ".join(pdf_text(report, 2).split())
    assert "Fields analysed 12" in text
    assert "Flagged fields saved 2" in text
    assert "Fields captured by hand 1" in text
    assert "Duration 15 min 00 s" in text
    assert "P(ALL) ≥ 0.70" in text


@needs("pdftotext")
def test_field_entries_show_probabilities_and_reviews(report):
    text = " ".join(pdf_text(report).split())
    assert "Field 1 of 3" in text and "Field 3 of 3" in text
    assert "Top class: Pre-B · P(ALL) 0.90" in text
    assert "Accepted by Dr. Ahmadi" in text
    assert "Dismissed by Dr. Li" in text


@needs("pdftotext")
def test_very_long_comment_is_shortened_in_the_pdf_with_a_note(report):
    text = " ".join(pdf_text(report).split())
    assert "100,013 characters in full in the JSON export" in text
    assert "z" * 1000 not in text.replace(" ", "")


@needs("pdftoppm")
def test_first_page_renders_to_a_non_blank_a4_image(report, tmp_path):
    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", str(report), str(tmp_path / "p")],
        check=True,
    )
    import cv2

    [png] = list(tmp_path.glob("p*.png"))
    image = cv2.imread(str(png))
    assert image.shape[:2] == (351, 248)  # A4 at 30 dpi
    assert (image < 128).any(axis=2).mean() > 0.01  # text is there


def test_manifest_sidecar_lists_every_image_with_its_hash(store, session_id, report):
    manifest = json.loads(sidecar_path(report).read_text(encoding="utf-8"))
    fields = store.fields(session_id)
    assert [m["image_sha256"] for m in manifest["images"]] == [f.image_sha256 for f in fields]
    assert all(m["verified"] for m in manifest["images"])
    assert manifest["report"] == report.name


@needs("pdftotext")
def test_appendix_prints_the_sidecars_sha256(store, session_id, report):
    digest = hashlib.sha256(sidecar_path(report).read_bytes()).hexdigest()
    text = "".join(pdf_text(report).split())
    assert f"ManifestSHA-256{digest}" in text
    assert store.fields(session_id)[2].mask_sha256 in text


def test_changed_image_file_is_flagged_in_the_manifest(store, session_id, tmp_path, qapp):
    field = store.fields(session_id)[1]
    field.image_path.write_bytes(field.image_path.read_bytes() + b"tampered")
    report = write_pdf(store, session_id, tmp_path / "r.pdf")
    entry = json.loads(sidecar_path(report).read_text(encoding="utf-8"))["images"][1]
    assert entry["verified"] is False
    assert "changed" in entry["problem"]


@needs("pdftotext")
def test_changed_image_file_carries_a_visible_warning_in_the_report(store, session_id, tmp_path,
                                                                     qapp):
    def words(path):
        return " ".join(pdf_text(path).split())

    before = words(write_pdf(store, session_id, tmp_path / "before.pdf"))
    assert "Warning:" not in before and "CHANGED OR MISSING" not in before
    field = store.fields(session_id)[1]
    field.image_path.write_bytes(field.image_path.read_bytes() + b"tampered")
    text = words(write_pdf(store, session_id, tmp_path / "after.pdf"))
    warning = "Warning: SHA-256 differs from the one recorded at capture: the file was changed."
    assert text.count(warning) == 1  # under the changed field only
    assert text.count("CHANGED OR MISSING") == 1  # its image row in the appendix


def test_existing_report_is_kept_and_the_new_one_gets_a_free_name(report, store, session_id, qapp):
    before = report.read_bytes()
    second = write_pdf(store, session_id, report)
    assert second.name == "report (2).pdf"
    assert report.read_bytes() == before
    assert sidecar_path(second).is_file()


def test_overwrite_replaces_the_report(report, store, session_id, qapp):
    again = write_pdf(store, session_id, report, overwrite=True)
    assert again == report
    assert not report.with_name("report (2).pdf").exists()


def test_missing_destination_folder_is_a_clear_error(store, session_id, tmp_path, qapp):
    with pytest.raises(WriteFailedError, match="does not exist; choose another location"):
        write_pdf(store, session_id, tmp_path / "no such folder" / "r.pdf")


def test_disk_full_leaves_no_partial_report_and_keeps_the_previous_one(
    report, store, session_id, qapp
):
    before = report.read_bytes()

    def disk_full(handle, data):
        handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailedError, match="disk is full"):
        write_pdf(store, session_id, report, overwrite=True, writer=disk_full)
    assert report.read_bytes() == before
    assert sorted(p.name for p in report.parent.iterdir() if p.is_file()) == [
        report.name,
        sidecar_path(report).name,
    ]


def test_progress_is_reported_for_every_field(store, session_id, tmp_path, qapp):
    seen = []
    write_pdf(
        store, session_id, tmp_path / "r.pdf",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (1, 3)
    assert seen[-1] == (3, 3)


@needs("pdftotext")
def test_model_section_shows_summary_figures_with_their_split(store, session_id, tmp_path, qapp):
    package = ModelPackage(
        path=tmp_path,
        name="allscope-cnn",
        version="1.2",
        architecture="MobileNetV2",
        classes=("Benign", "Pre-B"),
        benign_class="Benign",
        input=InputSpec(),
        threshold=0.6,
        summary={
            "metrics": [
                {
                    "metric": "balanced accuracy",
                    "split": "test split (blocks 9-10)",
                    "value": 0.9123,
                    "ci95": [0.88, 0.94],
                },
                {
                    "metric": "fields flagged as ALL",
                    "split": "BCCD normal blood, another lab (364 fields)",
                    "value": 0.83,
                },
            ],
            "recipe": {"trained on": "one developer GPU"},
        },
        files={"model.xml": "a" * 64, "model.bin": "b" * 64},
    )
    report = write_pdf(store, session_id, tmp_path / "m.pdf", package)
    text = " ".join(pdf_text(report).split())
    assert "balanced accuracy 91.2% (95% CI 88.0–94.0%) test split (blocks 9-10)" in text
    assert (
        "Limitations:" in text
        and "fields flagged as ALL: 83.0% on BCCD normal blood, another lab" in text
    )
    assert "developer GPU" not in text  # developer notes stay out of the report
    assert package.sha256 in text


def test_report_can_be_written_from_a_worker_thread(store, session_id, tmp_path, qapp):
    import threading

    outcome = {}

    def work():
        try:
            outcome["path"] = write_pdf(store, session_id, tmp_path / "thread.pdf")
        except Exception as exc:  # reported below
            outcome["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    assert page_count(outcome["path"]) >= 2
