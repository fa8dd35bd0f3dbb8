"""Output faults for ``allscope analyze``: every destination (--json, --csv, --pdf, --masks)
missing, read-only, full, or blocked by a file or folder of the wrong kind.

A destination that cannot work is refused before any field is analysed; a disk that fills up
during the writes leaves the earlier file of that name byte for byte, and no partial file.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from .conftest import IS_ROOT, assert_clean, fill, remount_read_only, small_fs

OPTIONS = ["--json", "--csv", "--pdf", "--masks"]
NAMES = {
    "--json": "results.json",
    "--csv": "results.csv",
    "--pdf": "report.pdf",
    "--masks": "masks",
}


@contextlib.contextmanager
def read_only_folder(tmp_path: Path):
    """A folder no one may write: a read-only mount as root (mode bits do not stop root),
    else mode 0555."""
    if IS_ROOT:
        with small_fs("64k") as mount:
            (mount / "previous.txt").write_text("kept")
            remount_read_only(mount)
            yield mount
        return
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "previous.txt").write_text("kept")
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("option", OPTIONS)
def test_a_missing_folder_is_refused_before_the_analysis(option, tmp_path, fields_dir, cli):
    target = tmp_path / "no-such-folder" / "deeper" / NAMES[option]
    outcome = cli("analyze", fields_dir, "--no-model", option, target)
    assert_clean(outcome, "does not exist", "Nothing was analysed", status=2)
    assert "fields analysed" not in outcome.err and not target.parent.exists()


@pytest.mark.parametrize("option", OPTIONS)
def test_a_read_only_folder_is_refused_before_the_analysis(option, tmp_path, fields_dir, cli):
    with read_only_folder(tmp_path) as folder:
        before = _snapshot(folder)
        outcome = cli("analyze", fields_dir, "--no-model", option, folder / NAMES[option])
        assert_clean(outcome, str(folder), "choose another location", status=2)
        assert "fields analysed" not in outcome.err
        assert _snapshot(folder) == before and sorted(p.name for p in folder.iterdir()) == [
            "previous.txt"
        ]


@pytest.mark.parametrize("option", ["--json", "--csv", "--pdf"])
def test_a_folder_in_the_way_of_a_file_is_refused(option, tmp_path, fields_dir, cli):
    (blocker := tmp_path / NAMES[option]).mkdir()
    outcome = cli("analyze", fields_dir, "--no-model", option, blocker)
    assert_clean(outcome, NAMES[option], "is a folder", status=2)
    assert list(blocker.iterdir()) == []


def test_a_file_in_the_way_of_the_masks_folder_is_refused(tmp_path, fields_dir, cli):
    (blocker := tmp_path / "masks").write_text("my notes")
    outcome = cli("analyze", fields_dir, "--no-model", "--masks", blocker)
    assert_clean(outcome, "masks", "not a folder", status=2)
    assert blocker.read_text() == "my notes"


@pytest.mark.parametrize("option", ["--json", "--csv"])
def test_a_full_disk_keeps_the_earlier_file_whole(option, fields_dir, cli):
    with small_fs("256k") as mount:
        target = mount / NAMES[option]
        target.write_text("the previous run's results\n")
        fill(mount)
        outcome = cli("analyze", fields_dir, "--no-model", option, target)
        assert_clean(outcome, NAMES[option], "disk is full", "unchanged", status=3)
        assert target.read_text() == "the previous run's results\n"
        assert not [p for p in mount.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_stops_the_masks_with_no_empty_png(fields_dir, cli):
    with small_fs("256k") as mount:
        (masks := mount / "masks").mkdir()
        fill(mount)
        outcome = cli("analyze", fields_dir, "--no-model", "--masks", masks)
        assert_clean(outcome, "disk is full", "stopped", status=3)
        assert [p for p in masks.iterdir() if p.stat().st_size == 0] == []
        assert not [p for p in masks.iterdir() if p.suffix != ".png"]


def test_a_full_disk_leaves_no_partial_pdf(fields_dir, cli):
    with small_fs("256k") as mount:
        (earlier := mount / "report.pdf").write_bytes(b"%PDF-1.4 earlier report\n")
        fill(mount)
        outcome = cli("analyze", fields_dir, "--no-model", "--pdf", earlier)
        assert_clean(outcome, "not written", status=(2, 3))
        assert earlier.read_bytes() == b"%PDF-1.4 earlier report\n"
        pdfs = [p for p in mount.iterdir() if p.suffix == ".pdf" or p.name.endswith(".tmp")]
        assert pdfs == [earlier]


@pytest.mark.parametrize("option", ["--json", "--csv"])
def test_an_earlier_result_is_replaced_only_by_a_complete_one(option, tmp_path, fields_dir, cli):
    target = tmp_path / NAMES[option]
    target.write_text("old")
    assert_clean(cli("analyze", fields_dir, "--no-model", option, target), status=0)
    text = target.read_text(encoding="utf-8")
    if option == "--json":  # one entry per field (each field's cells name their source too)
        text = "\n".join(field["source"] for field in json.loads(text)["fields"])
    assert text != "old" and text.count("field0") == 1 and text.count("field1") == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
