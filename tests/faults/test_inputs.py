"""Bad inputs to ``allscope analyze``: each bad file is one error row naming it, the run goes on.

Every case puts one bad input beside a good field, then checks that the good field was
analysed, that the bad one is reported by name with a reason, and that nothing crashed.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import assert_clean, field_image, run, shared_tmp, write_jpeg, write_png, write_video


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\0" * 64
    )


def _jpeg_header(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return (
        b"\xff\xd8\xff\xe0"
        + struct.pack(">H", 16)
        + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
        + sof
        + b"\0" * 64
        + b"\xff\xd9"
    )


def _bmp_header(width: int, height: int) -> bytes:
    return (
        b"BM"
        + struct.pack("<IHHI", 54, 0, 0, 54)
        + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
        + b"\0" * 32
    )


def _tiff_header(width: int, height: int) -> bytes:
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (277, 3, 1, 1)]
    ifd = (
        struct.pack("<H", len(entries))
        + b"".join(struct.pack("<HHII", *e) for e in entries)
        + b"\0\0\0\0"
    )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0" * 64


def half_jpeg(path: Path) -> Path:
    """A JPEG cut in the middle with its end marker put back: decoders fill the rest with grey."""
    ok, data = cv2.imencode(".jpg", field_image(5, 320, 240), [cv2.IMWRITE_JPEG_QUALITY, 95])
    data = data.tobytes()
    path.write_bytes(data[: len(data) // 2] + b"\xff\xd9")
    return path


def _make(kind: str, folder: Path) -> tuple[Path, str]:
    """Create the bad input ``kind`` in ``folder``; return it and a word its message must hold."""
    image = field_image(3)
    if kind.startswith("huge_"):
        maker = {
            "huge_png": (_png_header, ".png"),
            "huge_jpeg": (_jpeg_header, ".jpg"),
            "huge_bmp": (_bmp_header, ".bmp"),
            "huge_tiff": (_tiff_header, ".tif"),
        }[kind]
        path = folder / f"huge{maker[1]}"
        path.write_bytes(maker[0](20000, 20000))
        return path, "megapixels"
    if kind == "truncated_jpeg":
        data = cv2.imencode(".jpg", image)[1].tobytes()
        (path := folder / "cut.jpg").write_bytes(data[: len(data) // 2])
        return path, "truncated"
    if kind == "truncated_png":
        data = cv2.imencode(".png", image)[1].tobytes()
        (path := folder / "cut.png").write_bytes(data[: len(data) // 2])
        return path, "corrupt"
    if kind == "damaged_png_middle":
        data = bytearray(cv2.imencode(".png", image)[1].tobytes())
        data[len(data) // 2 : len(data) // 2 + 64] = b"\xa5" * 64
        (path := folder / "damaged.png").write_bytes(bytes(data))
        return path, "damaged.png"
    if kind == "empty":
        (path := folder / "empty.png").write_bytes(b"")
        return path, "empty"
    if kind == "text_named_jpeg":
        (path := folder / "notes.jpg").write_text("not an image")
        return path, "not an image"
    if kind == "random_after_jpeg_signature":
        (path := folder / "noise.jpg").write_bytes(
            b"\xff\xd8\xff" + np.random.default_rng(1).bytes(4000) + b"\xff\xd9"
        )
        return path, "noise.jpg"
    if kind == "fifo_named_jpeg":
        os.mkfifo(path := folder / "pipe.jpg")
        return path, "not a regular file"
    if kind == "looping_link":
        os.symlink(folder / "loop.png", path := folder / "loop.png")
        return path, "loops"
    if kind == "broken_link":
        os.symlink(folder / "gone.png", path := folder / "link.png")
        return path, "points nowhere"
    if kind == "link_cycle_to_parent":
        (folder / "sub").mkdir()
        os.symlink("..", path := folder / "sub" / "up")
        return path, "loop"
    raise AssertionError(kind)


BAD_FILES = [
    "huge_png",
    "huge_jpeg",
    "huge_bmp",
    "huge_tiff",
    "truncated_jpeg",
    "truncated_png",
    "damaged_png_middle",
    "empty",
    "text_named_jpeg",
    "random_after_jpeg_signature",
    "fifo_named_jpeg",
    "looping_link",
    "broken_link",
    "link_cycle_to_parent",
]


def _records(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["fields"]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_is_an_error_row_and_the_run_goes_on(kind, tmp_path, cli):
    folder = tmp_path / "slide"
    folder.mkdir()
    write_png(folder / "good.png", field_image(1))
    bad, word = _make(kind, folder)
    out = tmp_path / "results.json"
    outcome = cli("analyze", folder, "--no-model", "--json", out)
    assert_clean(outcome, word, status=0)
    records = _records(out)
    assert [r["status"] for r in records if r["source"].endswith("good.png")] == ["ok"]
    errors = [r for r in records if r["status"] == "error"]
    assert errors and any(bad.name in r["source"] + r["error"] for r in errors), records
    assert f"{len(errors)} unreadable" in outcome.err


@pytest.mark.parametrize("kind", ["huge_png", "huge_jpeg"])
def test_a_huge_image_is_refused_before_decoding(kind, tmp_path):
    """In a subprocess with 1 GiB of address space: decoding 400 megapixels would need more."""
    folder = tmp_path / "slide"
    folder.mkdir()
    bad, _ = _make(kind, folder)
    # a real decodable header is not needed: the size is read before any decoding
    outcome = run(tmp_path, "analyze", bad, "--no-model", "--json", tmp_path / "r.json")
    assert_clean(outcome, bad.name, "megapixels", "crop or downscale", status=1)
    assert "0 fields analysed" in outcome.err


def test_a_half_decoded_jpeg_is_not_assessable_with_the_reason(tmp_path, cli, tiny_model):
    path = half_jpeg(tmp_path / "half.jpg")
    out = tmp_path / "r.json"
    outcome = cli("analyze", path, "--model", tiny_model, "--json", out)
    assert_clean(outcome, status=0)
    (record,) = _records(out)
    assert record["assessable"] is False and record["flagged"] is False and record["p_all"] is None
    assert any("partly decoded" in r and "re-export" in r for r in record["reasons"]), record


def test_an_intact_jpeg_is_not_taken_for_a_partial_one(tmp_path, cli):
    path = write_jpeg(tmp_path / "whole.jpg", field_image(5, 320, 240))
    out = tmp_path / "r.json"
    assert_clean(cli("analyze", path, "--no-model", "--json", out), status=0)
    assert not any("partly" in r for r in _records(out)[0]["reasons"])


@pytest.mark.parametrize("what", ["file", "subfolder"])
def test_unreadable_files_and_folders_are_reported_not_fatal(what, tmp_path):
    """Permission denied (as root: without the capability to ignore file modes)."""
    base = shared_tmp()
    try:
        folder = base / "slide"
        folder.mkdir()
        write_png(folder / "good.png", field_image(1))
        target = (
            write_png(folder / "secret.png", field_image(2))
            if what == "file"
            else folder / "locked"
        )
        if what == "subfolder":
            target.mkdir()
            write_png(target / "inside.png", field_image(2))
        os.chmod(target, 0)
        for path in (base, folder):
            os.chmod(path, 0o777)
        out = base / "r.json"
        outcome = run(base, "analyze", folder, "--no-model", "--json", out, permissions_apply=True)
        assert_clean(outcome, target.name, "permission", status=0)
        records = _records(out)
        assert any(r["status"] == "ok" and r["source"].endswith("good.png") for r in records)
        assert any(r["status"] == "error" and target.name in r["source"] for r in records)
    finally:
        for path in base.rglob("*"):
            os.chmod(path, 0o777) if path.is_dir() else None
        shutil.rmtree(base, ignore_errors=True)


def test_a_special_file_named_on_the_command_line_is_reported(tmp_path, cli):
    os.mkfifo(fifo := tmp_path / "pipe.png")
    write_png(good := tmp_path / "good.png", field_image(1))
    out = tmp_path / "r.json"
    outcome = cli("analyze", fifo, good, "--no-model", "--json", out)
    assert_clean(outcome, "pipe.png", "not a regular file", status=0)


def test_a_folder_named_like_an_image_is_searched_as_a_folder(tmp_path, cli):
    folder = tmp_path / "odd.jpg"
    folder.mkdir()
    write_png(folder / "inside.png", field_image(1))
    out = tmp_path / "r.json"
    assert_clean(cli("analyze", folder, "--no-model", "--json", out), status=0)
    assert [r["status"] for r in _records(out)] == ["ok"]


def test_a_folder_without_images_says_so(tmp_path, cli):
    (tmp_path / "empty").mkdir()
    outcome = cli("analyze", tmp_path / "empty", "--no-model", "--json", tmp_path / "r.json")
    assert_clean(outcome, "empty", status=1)


def test_a_missing_input_names_it_and_writes_nothing(tmp_path, cli):
    out = tmp_path / "r.json"
    outcome = cli("analyze", tmp_path / "nowhere", "--no-model", "--json", out)
    assert_clean(outcome, "nowhere", "no such file", status=2)
    assert not out.exists()


NON_UTF8 = b"field-\xff\xfe-\xe9.png"


@pytest.mark.parametrize("option", ["--json", "--csv", "--masks", "--pdf"])
def test_a_file_name_that_is_not_utf8_works_in_every_output(option, tmp_path):
    folder = tmp_path / "share"
    folder.mkdir()
    write_png(Path(os.fsdecode(bytes(folder) + b"/" + NON_UTF8)), field_image(2))
    target = (
        tmp_path
        / {"--json": "r.json", "--csv": "r.csv", "--masks": "masks", "--pdf": "r.pdf"}[option]
    )
    outcome = run(tmp_path, "analyze", folder, "--no-model", option, target)
    assert_clean(outcome, status=0)
    assert "1 fields analysed" in outcome.err and ", 0 unreadable" in outcome.err
    if option == "--masks":
        (mask,) = list(target.iterdir())
        assert (
            mask.suffix == ".png"
            and cv2.imdecode(np.fromfile(mask, np.uint8), cv2.IMREAD_UNCHANGED) is not None
        )
        mask.name.encode("utf-8")  # a valid name on any file system
    elif option == "--json":
        (record,) = json.loads(target.read_text(encoding="utf-8"))["fields"]  # valid UTF-8
        assert record["source"].endswith("field-\\xff\\xfe-\\xe9.png")
    elif option == "--csv":
        assert "field-\\xff\\xfe-\\xe9.png" in target.read_text(encoding="utf-8")
    else:
        assert (
            target.read_bytes().startswith(b"%PDF")
            and target.with_name("r.pdf.manifest.json").is_file()
        )


def _damaged_video(path: Path) -> Path:
    write_video(path, count=30)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 3000 : middle + 3000] = bytes(6000)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("damage", ["zeroed_middle", "cut_short"])
def test_a_damaged_video_reports_the_frames_it_could_not_read(damage, tmp_path, cli):
    path = tmp_path / "clip.avi"
    if damage == "zeroed_middle":
        _damaged_video(path)
    else:
        write_video(path, count=30)
        path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    out = tmp_path / "r.json"
    outcome = cli("analyze", path, "--no-model", "--json", out)
    assert_clean(outcome, "clip.avi", "could not be decoded", status=0)
    records = _records(out)
    analysed = [r for r in records if r["status"] == "ok"]
    errors = [r for r in records if r["status"] == "error"]
    assert 0 < len(analysed) < 30 and errors
    lost = sum(int(e["error"].split("(")[1].split(" of ")[0]) for e in errors)
    assert len(analysed) + lost == 30, (len(analysed), lost)
    assert "0 unreadable" not in outcome.err


@pytest.mark.parametrize(
    "content", [b"", b"not a video at all", b"RIFF\0\0\0\0AVI LIST" + bytes(200)]
)
def test_an_unusable_video_file_is_an_error_row(content, tmp_path, cli):
    (path := tmp_path / "clip.avi").write_bytes(content)
    write_png(good := tmp_path / "good.png", field_image(1))
    out = tmp_path / "r.json"
    outcome = cli("analyze", path, good, "--no-model", "--json", out)
    assert_clean(outcome, "clip.avi", status=0)
    assert [r["status"] for r in _records(out)] == ["ok", "error"]


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (1, 400)])
def test_tiny_images_are_analysed_or_refused_cleanly(shape, tmp_path, cli):
    write_png(path := tmp_path / "tiny.png", np.full((*shape, 3), 200, np.uint8))
    outcome = cli("analyze", path, "--no-model", "--json", tmp_path / "r.json")
    assert_clean(outcome, status=(0, 1))
