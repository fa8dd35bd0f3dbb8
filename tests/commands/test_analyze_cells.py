"""``allscope analyze`` with a cell model: the cells CSV, the JSON cells and tally, crops."""

from __future__ import annotations

import csv
import json

import cv2
import pytest

from allscope.cli import main
from allscope.core.sources.demo.slide import render_field
from allscope.testing import CELL_CLASSES, write_tiny_cells_package, write_tiny_package

HEADER = ["source", "frame", "cell", "x", "y", "width", "height", "label", "p_blast", "is_blast"]


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    """Three rendered fields on disk and the painted white cells of each (ground truth)."""
    folder = tmp_path_factory.mktemp("slide")
    truth = {}
    for seed in range(3):
        image, _, wbcs = render_field(320, 240, seed=seed, n_wbc=3, kinds=("blast", "lymphocyte"))
        cv2.imwrite(str(folder / f"f{seed}.png"), image)
        truth[str(folder / f"f{seed}.png")] = wbcs
    return folder, truth


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return write_tiny_package(root / "field").path, write_tiny_cells_package(root / "cells").path


def test_one_csv_row_and_one_json_cell_per_detected_cell(tmp_path, slide, models):
    folder, truth = slide
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            str(folder),
            "--model",
            str(models[0]),
            "--cell-model",
            str(models[1]),
            "--cells",
            str(tmp_path / "cells.csv"),
            "--json",
            str(tmp_path / "a.json"),
            "--cell-crops",
            str(out),
            "--um-per-px",
            "0.25",
        ]
    )
    assert code == 0
    with open(tmp_path / "cells.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    others = [f"p_{c}" for c in CELL_CLASSES if c != "blast"]
    assert rows[0] == [*HEADER, *others, "diameter_um"]
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    document = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    cells = [c for f in document["fields"] for c in f["cells"]]
    assert len(records) == len(cells) >= 9
    for record, cell in zip(records, cells, strict=True):
        assert int(record["x"]) == cell["x"] and record["source"] == cell["source"]
        assert record["is_blast"] == str(int(float(record["p_blast"]) >= 0.5))
        x, y, w, h = (int(record[k]) for k in ("x", "y", "width", "height"))
        centre = (x + w / 2, y + h / 2)
        painted = truth[record["source"]]
        assert any(
            b.bbox[0] <= centre[0] <= b.bbox[0] + b.bbox[2]
            and b.bbox[1] <= centre[1] <= b.bbox[1] + b.bbox[3]
            for b in painted
        )
        assert float(record["diameter_um"]) == pytest.approx(
            0.25 * 2 * (w * h / 3.1416) ** 0.5, rel=0.5
        )
    tally = document["tally"]
    assert tally["wbc"] == len(cells) and tally["blasts"] == sum(c["is_blast"] for c in cells)
    assert tally["ci95"][0] <= tally["blast_fraction"] <= tally["ci95"][1]
    assert sum(tally["per_class"].values()) == tally["wbc"]
    assert document["cell_model"]["name"] == "tiny-cells"
    crops = sorted(out.glob("*.png"))
    assert len(crops) == len(cells) and all(cv2.imread(str(p)) is not None for p in crops)


def test_cells_without_a_cell_model_is_refused_with_what_to_do(tmp_path, slide, capsys):
    code = main(
        [
            "analyze",
            str(slide[0]),
            "--no-model",
            "--no-cell-model",
            "--cells",
            str(tmp_path / "c.csv"),
        ]
    )
    assert code == 2 and "--cell-model DIR" in capsys.readouterr().err
    assert not (tmp_path / "c.csv").exists()


def test_video_cells_carry_their_frame_and_the_tally_counts_each_cell_once(tmp_path, slide, models):
    image = cv2.imread(str(slide[0] / "f0.png"))
    writer = cv2.VideoWriter(
        str(tmp_path / "v.avi"),
        cv2.VideoWriter_fourcc(*"MJPG"),
        10.0,
        (image.shape[1], image.shape[0]),
    )
    for _ in range(8):
        writer.write(image)
    writer.release()
    assert (
        main(
            [
                "analyze",
                str(tmp_path / "v.avi"),
                "--no-model",
                "--cell-model",
                str(models[1]),
                "--cells",
                str(tmp_path / "c.csv"),
                "--json",
                str(tmp_path / "v.json"),
            ]
        )
        == 0
    )
    document = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    per_frame = [len(f["cells"]) for f in document["fields"] if f["cells_judged"]]
    assert len(per_frame) >= 6 and len(set(per_frame)) == 1  # the same cells in every frame
    assert document["tally"]["wbc"] == per_frame[0]  # ... counted once, not once per frame
    with open(tmp_path / "c.csv", newline="", encoding="utf-8-sig") as handle:
        frames = {row["frame"] for row in csv.DictReader(handle)}
    assert len(frames) == len(per_frame) and "" not in frames
