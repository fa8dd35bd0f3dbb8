"""``allscope trust`` sub-commands on a small generated data folder (demo-slide fields laid out
as all-fields/ and a Pascal VOC bccd/), a tiny model and small repeat counts: each runs, writes
what it says and reports on the data it was given."""

from __future__ import annotations

import json

import cv2
import pytest

from allscope.commands.trust import main
from allscope.core.sources.demo.slide import render_field
from allscope.testing import write_tiny_package

FOLDERS = ("Benign", "Early", "Pre", "Pro")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust-data")
    for k, folder in enumerate(FOLDERS):
        (root / "all-fields" / folder).mkdir(parents=True)
        for n in range(3):
            image = render_field(224, 224, seed=10 * k + n, n_wbc=1)[0]
            cv2.imwrite(str(root / "all-fields" / folder / f"WBC-{folder}-{n + 1:03d}.jpg"), image)
    for sub in ("JPEGImages", "Annotations"):
        (root / "bccd" / sub).mkdir(parents=True)
    for n in range(3):
        image, _, cells = render_field(320, 240, seed=50 + n, n_wbc=2)
        cv2.imwrite(str(root / "bccd" / "JPEGImages" / f"B{n}.jpg"), image)
        objects = "".join(
            f"<object><name>WBC</name><bndbox><xmin>{x}</xmin><ymin>{y}</ymin>"
            f"<xmax>{x + w - 1}</xmax><ymax>{y + h - 1}</ymax></bndbox></object>"
            for x, y, w, h in (c.bbox for c in cells))
        (root / "bccd" / "Annotations" / f"B{n}.xml").write_text(
            f"<annotation><filename>B{n}.jpg</filename>{objects}</annotation>", encoding="utf-8")
    return root


def report(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_colour_target_writes_the_statistics_it_reports(data, tmp_path, capsys):
    out = tmp_path / "target.json"
    assert main(["--data", str(data), "colour-target", "--out", str(out)]) == 0
    printed = report(capsys)
    assert printed["written"] == str(out)
    assert json.loads(out.read_text(encoding="utf-8")) == {
        k: v for k, v in printed.items() if k != "written"}


def test_calibrate_gate_measures_each_data_set_and_suggests_a_focus_threshold(data, capsys):
    assert main(["--data", str(data), "calibrate-gate"]) == 0
    printed = report(capsys)
    assert [printed[f"all-fields/{f}"]["fields"] for f in FOLDERS] == [3, 3, 3, 3]
    assert printed["bccd"]["fields"] == 3
    assert printed["suggested"]["min_sharpness"] >= 0


def test_bccd_recall_only_scores_the_generated_boxes(data, capsys):
    assert main(["--data", str(data), "bccd", "--recall-only"]) == 0
    printed = report(capsys)
    assert printed["recall_raw"]["fields"] == 3 and printed["recall_raw"]["wbc_boxes"] == 6
    assert {"recall_normalised_white", "recall_normalised_reinhard", "demo_recall"} <= set(printed)


def test_bccd_with_a_model_reports_flag_rates(data, tmp_path, capsys):
    model = write_tiny_package(tmp_path / "tiny").path
    assert main(["--data", str(data), "bccd", "--model", str(model), "--mode", "white"]) == 0
    printed = report(capsys)
    assert printed["model"] and {"flag_rates_normalise_none", "flag_rates_normalise_white"} <= set(
        printed)


def test_cost_times_gate_and_normalisers(capsys):
    assert main(["cost", "--repeats", "2"]) == 0
    printed = report(capsys)
    assert {"gate", "normalise_white", "normalise_reinhard"} <= set(printed)


def test_missing_data_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "nowhere"), "calibrate-gate"]) == 2
    assert "data folder not found; pass --data FOLDER" in capsys.readouterr().err


def test_a_broken_model_package_is_a_clear_error(data, tmp_path, capsys):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.json").write_text("{", encoding="utf-8")
    assert main(["--data", str(data), "bccd", "--model", str(tmp_path / "broken")]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.fixture
def split(data, tmp_path):
    """A split.json naming the generated fields: two per class for val, one for train."""
    parts = {"train": [], "val": [], "test": []}
    for label, folder in enumerate(FOLDERS):
        for n in range(3):
            part = "train" if n == 0 else "val"
            parts[part].append({"name": f"{folder}/WBC-{folder}-{n + 1:03d}.jpg", "label": label,
                                "number": n + 1})
    path = tmp_path / "split.json"
    path.write_text(json.dumps({"splits": parts}), encoding="utf-8")
    return path


def test_sensitivity_counts_the_validation_fields_by_class(data, split, tmp_path, capsys):
    model = write_tiny_package(tmp_path / "tiny").path
    argv = ["--data", str(data), "sensitivity", "--model", str(model), "--split", str(split),
            "--mode", "white"]
    assert main(argv) == 0
    printed = report(capsys)
    assert printed["fields"] == 8 and printed["data"] == "validation blocks of split.json"
    for mode in ("none", "white"):
        figures = printed[f"normalise_{mode}"]
        assert (figures["all_fields"], figures["benign_fields"]) == (6, 2)
        for key in ("sensitivity_model_only", "sensitivity_guarded", "specificity_model_only"):
            assert 0.0 <= figures[key] <= 1.0


def test_ood_fits_a_threshold_and_writes_it_into_the_package(data, split, tmp_path, capsys):
    model = write_tiny_package(tmp_path / "tiny").path
    argv = ["--data", str(data), "ood", "--model", str(model), "--split", str(split),
            "--mode", "none", "--write", "--target-rate", "0.25"]
    assert main(argv) == 0
    printed = report(capsys)
    assert (printed["val_fields"], printed["bccd_fields"]) == (8, 3)
    chosen = printed["chosen"]
    meta = json.loads((model / "model.json").read_text(encoding="utf-8"))
    assert printed["written"] == str(model / "model.json")
    assert meta["ood"]["threshold"] == pytest.approx(printed[chosen]["threshold"])
    assert 0.0 <= printed[chosen]["val_outside"] <= 0.25
