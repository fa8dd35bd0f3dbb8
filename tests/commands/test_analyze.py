"""``allscope analyze`` end to end: real files, real masks, a real tiny model."""

import json

import cv2
import numpy as np
import pytest

from allscope.cli import main
from allscope.core.sources.demo.slide import render_field
from allscope.testing import write_tiny_package


@pytest.fixture(scope="module")
def fields():
    return [render_field(320, 240, seed=s, n_wbc=2)[0] for s in range(3)]


@pytest.fixture()
def model(tmp_path):
    return write_tiny_package(tmp_path / "model", threshold=0.5).path


def write_video(path, frames, fps=10.0):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()


def analyze(*args) -> int:
    return main(["analyze", *map(str, args)])


def test_images_folders_and_videos_give_one_record_per_field(tmp_path, fields, model):
    folder = tmp_path / "slide" / "nested"
    folder.mkdir(parents=True)
    for i, field in enumerate(fields):
        cv2.imwrite(str(folder / f"f{i}.png"), field)
    single = tmp_path / "single.jpg"
    cv2.imwrite(str(single), fields[0])
    video = tmp_path / "scan.avi"
    write_video(video, [fields[1]] * 6)
    out = tmp_path / "out.json"
    assert (
        analyze(
            tmp_path / "slide", single, video, "--model", model, "--json", out, "--masks",
            tmp_path / "m",
        )
        == 0
    )
    document = json.loads(out.read_text())
    assert document["model"]["name"] == "tiny-color" and len(document["model"]["sha256"]) == 64
    assert len(document["fields"]) == 3 + 1 + 6
    video_frames = [f["frame"] for f in document["fields"] if f["source"].endswith("scan.avi")]
    assert video_frames == list(range(6))
    for record in document["fields"]:
        assert record["status"] == "ok" and record["wbc_count"] >= 1
        assert set(record["probabilities"]) == {"Benign", "Early Pre-B", "Pre-B", "Pro-B"}
        assert record["p_all"] == pytest.approx(1 - record["probabilities"]["Benign"])
    masks = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert masks == sorted(
        ["f0.png", "f1.png", "f2.png", "single.png"] + [f"scan_{i}.png" for i in range(6)]
    )
    mask = cv2.imread(str(tmp_path / "m" / "f0.png"), cv2.IMREAD_UNCHANGED)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}


def test_a_still_video_dwell_is_flagged_once_with_its_frame_range(tmp_path, fields, model):
    video = tmp_path / "dwell.avi"
    write_video(video, [fields[0]] * 8)
    out = tmp_path / "out.json"
    # the field model's decision (the dwell policy is the subject, not the shipped cell model)
    assert analyze(video, "--model", model, "--no-cell-model", "--json", out,
                   "--threshold", "0.05") == 0
    flags = json.loads(out.read_text())["flags"]
    assert len(flags) == 1
    assert flags[0]["start_frame"] == 0 and flags[0]["end_frame"] == 7


def test_bad_files_are_reported_per_file_and_the_run_continues(tmp_path, fields, model):
    folder = tmp_path / "mixed"
    folder.mkdir()
    cv2.imwrite(str(folder / "good.png"), fields[0])
    cv2.imwrite(str(folder / "grey.png"), cv2.cvtColor(fields[1], cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "rgba.png"), cv2.cvtColor(fields[2], cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(folder / "deep.tif"), fields[0].astype(np.uint16) * 257)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.bmp").write_text("not an image")
    jpeg = cv2.imencode(".jpg", fields[1])[1].tobytes()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    out = tmp_path / "out.json"
    assert analyze(folder, "--model", model, "--json", out) == 0
    records = {r["source"].split("/")[-1]: r for r in json.loads(out.read_text())["fields"]}
    assert {n for n, r in records.items() if r["status"] == "ok"} == {
        "good.png",
        "grey.png",
        "rgba.png",
        "deep.tif",
    }
    for name in ("empty.jpg", "text.bmp", "truncated.jpg"):
        assert records[name]["status"] == "error" and records[name]["error"]
    assert "empty" in records["empty.jpg"]["error"]


def test_without_a_model_masks_and_counts_are_still_written(tmp_path, fields, capsys):
    cv2.imwrite(str(tmp_path / "a.png"), fields[0])
    out = tmp_path / "out.json"
    assert analyze(tmp_path / "a.png", "--model", tmp_path / "none", "--json", out) == 2
    assert "not a directory" in capsys.readouterr().err
    assert (
        analyze(tmp_path / "a.png", "--no-model", "--json", out, "--csv", tmp_path / "out.csv") == 0
    )
    record = json.loads(out.read_text())["fields"][0]
    assert record["wbc_count"] >= 1 and record["probabilities"] is None
    header = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("source,frame,status")


def test_nothing_analysable_or_missing_input_is_a_failure(tmp_path, capsys):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    assert analyze(tmp_path / "bad.png", "--no-model") == 1
    assert analyze(tmp_path / "nowhere", "--no-model") == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_normalize_colours_each_field_before_masking_and_says_so(tmp_path, fields, model):
    """A field under a strong camera cast: --normalize changes what the mask finds and the JSON
    names the normalisation; without it the document says the colours were raw."""
    cast = np.clip(fields[0].astype(np.float32) * (1.25, 0.8, 0.7), 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "cast.png"), cast)
    for name, extra in (("raw", ("--no-normalize",)), ("normalised", ("--normalize",))):
        code = analyze(tmp_path / "cast.png", "--model", model, "--json", tmp_path / f"{name}.json",
                       "--masks", tmp_path / name, *extra)
        assert code == 0
    raw = json.loads((tmp_path / "raw.json").read_text())
    normalised = json.loads((tmp_path / "normalised.json").read_text())
    assert raw["colour_normalisation"] is None
    assert normalised["colour_normalisation"] == "reinhard"
    raw_mask = cv2.imread(str(tmp_path / "raw" / "cast.png"), cv2.IMREAD_UNCHANGED)
    normalised_mask = cv2.imread(str(tmp_path / "normalised" / "cast.png"), cv2.IMREAD_UNCHANGED)
    assert raw_mask.shape == normalised_mask.shape
    assert np.count_nonzero(raw_mask != normalised_mask) > 0  # the normaliser ran before the mask
    assert normalised["fields"][0]["status"] == "ok"
