"""Site adaptation with generated cell images (the demo renderer) and real tiny OpenVINO cell
packages: it fits, reports cross-validated figures, refuses what it should, and the derived
package works in ``allscope analyze``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from allscope.app.adaptation import AdaptationRefused, LabelledSetError, evaluate, write
from allscope.app.adaptation.fit import auc, fit_logistic, hanley_mcneil, out_of_fold
from allscope.app.adaptation.labelled import read_labelled
from allscope.cli import main
from allscope.core.cells.classifier import CellClassifier
from allscope.core.model_package import load_package
from allscope.core.sources.demo.slide import render_field
from allscope.testing import CELL_CLASSES, write_tiny_cells_package


def write_cells(folder, kind, n, seed):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image, _, _ = render_field(96, 96, seed=seed + i, n_wbc=1, kinds=(kind,), px_per_um=2.0)
        cv2.imwrite(str(folder / f"{kind}{i}.png"), image)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    write_cells(root / "blast", "blast", 15, 0)
    write_cells(root / "normal", "lymphocyte", 8, 100)
    write_cells(root / "neutrophil", "neutrophil", 8, 200)
    return root


@pytest.fixture(scope="module")
def blind_base(tmp_path_factory):
    """A base package whose P(blast) ignores the cell (all weights zero): AUC 0.5."""
    path = tmp_path_factory.mktemp("base") / "cells"
    return CellClassifier(write_tiny_cells_package(path, np.zeros((3, len(CELL_CLASSES)))))


def test_adapting_a_blind_base_package_learns_the_site_decision(tmp_path, labelled, blind_base):
    plan = evaluate(blind_base, labelled)
    local, base = plan.record["local"], plan.record["base_on_same_cells"]
    assert base["auc"] == 0.5 and local["auc"] > 0.7  # measured 0.78 (C = 0.05, 3 features)
    assert local["auc_ci95"][0] <= local["auc"] <= local["auc_ci95"][1]
    assert local["sensitivity"] >= 0.98 and plan.record["counts"] == {"blast": 15, "other": 16}
    out = write(plan, tmp_path / "site")
    package = load_package(out)  # every hash verified
    meta = json.loads((out / "model.json").read_text())
    assert meta["base"]["sha256"] == blind_base.package.sha256
    files = json.loads((out / "labelled_set.json").read_text())
    first = files[0]
    assert first["sha256"] == hashlib.sha256((labelled / first["file"]).read_bytes()).hexdigest()
    assert package.site_head is not None and "## Site adaptation" in package.card
    adapted = CellClassifier(out)
    assert adapted.threshold == pytest.approx(plan.threshold)
    features = plan.cells.features.astype(np.float32)
    p_adapted = adapted.p_blast(np.zeros((31, 7)), features)
    np.testing.assert_allclose(p_adapted, plan.model.p(features), atol=1e-6)  # the fitted head


def test_analyze_uses_the_adapted_package_and_names_it(tmp_path, labelled, blind_base):
    out = write(evaluate(blind_base, labelled), tmp_path / "site")
    field, _, _ = render_field(320, 240, seed=5, n_wbc=3, kinds=("blast", "lymphocyte"))
    cv2.imwrite(str(tmp_path / "f.png"), field)
    assert (
        main(
            [
                "analyze",
                str(tmp_path / "f.png"),
                "--no-model",
                "--cell-model",
                str(out),
                "--json",
                str(tmp_path / "a.json"),
            ]
        )
        == 0
    )
    document = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert document["cell_model"]["name"] == "tiny-cells-site"
    assert document["cell_model"]["site_head"] is True
    calls = [c for f in document["fields"] for c in f["cells"]]
    assert calls and all(
        c["is_blast"] == int(c["p_blast"] >= document["cell_model"]["threshold"]) for c in calls
    )


def test_worse_than_the_base_package_is_refused_and_nothing_is_written(tmp_path, labelled):
    base = CellClassifier(write_tiny_cells_package(tmp_path / "good"))  # blue over green: 0.94
    code = main(
        [
            "adapt",
            "--base",
            str(base.package.path),
            "--cells",
            str(labelled),
            "--out",
            str(tmp_path / "site"),
        ]
    )
    assert code == 3 and not (tmp_path / "site").exists()
    with pytest.raises(AdaptationRefused, match="worse than the base package"):
        evaluate(base, labelled)


def test_too_few_cells_and_unknown_folders_are_refused_with_the_reason(tmp_path, blind_base):
    write_cells(tmp_path / "few" / "blast", "blast", 4, 0)
    write_cells(tmp_path / "few" / "normal", "lymphocyte", 12, 50)
    with pytest.raises(AdaptationRefused, match="4 blasts and 12 other cells"):
        evaluate(blind_base, tmp_path / "few")
    (tmp_path / "few" / "myeloblasts").mkdir()
    with pytest.raises(LabelledSetError, match="unknown class folder"):
        evaluate(blind_base, tmp_path / "few")


def test_logistic_fit_and_auc_interval_agree_with_references():
    sklearn = pytest.importorskip("sklearn.linear_model")
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = (x[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    ours = fit_logistic(x, y, l2=1.0)
    xs = (x - x.mean(0)) / x.std(0)
    reference = sklearn.LogisticRegression(C=1.0, tol=1e-10, max_iter=1000).fit(xs, y)
    np.testing.assert_allclose(ours.w, reference.coef_[0], atol=1e-4)
    oof = out_of_fold(x, y)
    assert auc(oof, y) == pytest.approx(metrics.roc_auc_score(y, oof))
    low, high = hanley_mcneil(0.9, 20, 20)
    assert low < 0.9 < high and high - low == pytest.approx(2 * 1.96 * 0.0487, abs=0.01)
    wide = fit_logistic(rng.normal(size=(20, 300)), np.r_[np.ones(10), np.zeros(10)])
    assert wide.w.shape == (300,)  # more features than cells: fitted in their span


@pytest.fixture(scope="module")
def plan(labelled, blind_base):
    return evaluate(blind_base, labelled)


def test_a_labelled_set_must_be_a_folder_with_blasts_and_other_cells(tmp_path, blind_base):
    with pytest.raises(LabelledSetError, match="not a folder"):
        evaluate(blind_base, tmp_path / "missing")
    write_cells(tmp_path / "only" / "blast", "blast", 3, 0)
    with pytest.raises(LabelledSetError, match="needs a 'blast' folder and at least one folder"):
        evaluate(blind_base, tmp_path / "only")
    write_cells(tmp_path / "noblast" / "lymphocyte", "lymphocyte", 3, 0)
    with pytest.raises(LabelledSetError, match="needs a 'blast' folder"):
        evaluate(blind_base, tmp_path / "noblast")


def test_unreadable_and_empty_images_are_skipped_and_named(tmp_path, blind_base):
    root = tmp_path / "lab"
    write_cells(root / "blast", "blast", 3, 0)
    write_cells(root / "normal", "lymphocyte", 3, 100)
    (root / "blast" / "damaged.png").write_bytes(b"not an image")
    cv2.imwrite(str(root / "normal" / "glass.png"), np.full((96, 96, 3), 230, np.uint8))
    seen = []
    with pytest.raises(AdaptationRefused, match=r"\(2 image\(s\) skipped: no white cell found or "
                                                r"unreadable\.\)"):
        evaluate(blind_base, root, progress=lambda done, total: seen.append((done, total)))
    # progress counts every file, reported for each usable one
    assert [total for _, total in seen] == [8] * 6 and seen[-1][0] == 8
    cells = read_labelled(root, blind_base)
    assert sorted((Path(f).name, why.split(":")[0]) for f, why in cells.skipped) == [
        ("damaged.png", "unreadable"), ("glass.png", "no white cell found by the mask")]
    assert cells.counts == {"blast": 3, "other": 3}


def test_a_set_without_a_single_usable_cell_is_refused(tmp_path, blind_base):
    root = tmp_path / "lab"
    for name in ("blast", "normal"):
        (root / name).mkdir(parents=True)
        cv2.imwrite(str(root / name / "glass.png"), np.full((96, 96, 3), 230, np.uint8))
    with pytest.raises(LabelledSetError, match="no usable cell image"):
        evaluate(blind_base, root)


def test_the_adapted_package_goes_only_into_a_new_or_empty_folder(tmp_path, plan):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="already exists and is not empty"):
        write(plan, taken)
    assert [p.name for p in taken.iterdir()] == ["mine.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write(plan, empty) == empty
    assert load_package(empty).site_head is not None


def test_a_failed_write_leaves_no_half_package(tmp_path, plan):
    broken = dataclasses.replace(plan, record={**plan.record, "skipped": [object()]})
    with pytest.raises(TypeError, match="not JSON serializable"):
        write(broken, tmp_path / "site")
    assert list(tmp_path.iterdir()) == []  # neither the package nor its staging folder
