"""Site adaptation on real cells from ../shared with the shipped cell model (models/cells).

Adapt on 20 PBC lymphocytes (Barcelona, CellaVision) and 20 blasts cut from the B-ALL fields
(Tehran), then score the remaining cells of the same two sources. This is NOT a test on a
foreign laboratory's blasts: the blasts come from the laboratory the base model was trained
on, and only the normal cells are foreign (even a mean-colour model separates these two
sources). It records whether the adaptation is refused (the base package is already near
perfect on the labelled cells) and what the site decision scores on the remaining cells.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from allscope.app.adaptation import AdaptationRefused, evaluate, write
from allscope.app.adaptation.fit import auc, fit_logistic
from allscope.app.adaptation.labelled import nearest_centre, read_labelled
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops, crop_box
from allscope.core.cells.detect import detect_cells
from allscope.core.model_loading import has_cell_package, load_cell_classifier
from allscope.paths import shared_data_dir

DATA = shared_data_dir()
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not (DATA / "pbc-cells").is_dir(), reason="../shared/data is absent"),
    pytest.mark.skipif(not has_cell_package(), reason="models/cells is not installed"),
]
N = 20


def blast_images(count: int, skip: int = 0) -> list[np.ndarray]:
    """The cell nearest the centre of ALL fields spread over the three malignant classes, cut
    as a square of 2.5 diameters (one cell per image, as a site would label them)."""
    files = sorted(p for c in ("Early", "Pre", "Pro") for p in (DATA / "all-fields" / c).iterdir())
    chosen = files[skip::max(1, len(files) // (count + skip))][:count]
    out = []
    for path in chosen:
        field = cv2.imread(str(path))
        cell = nearest_centre(detect_cells(field), field.shape)
        if cell is not None:
            side = crop_box(cell, 2.5)[2]
            out.append(cell_crops(field, [cell], side, _plain(2.5))[0])
    return out


def _plain(scale: float):
    from allscope.core.model_package import CropSpec

    return CropSpec(scale=scale, suppress_background=False)


def features_and_p(model: CellClassifier, images: list[np.ndarray]):
    crops = []
    for image in images:
        cell = nearest_centre(detect_cells(image), image.shape)
        if cell is not None:
            crops.append(cell_crops(image, [cell], model.size, model.crop)[0])
    probabilities, features = model.predict_crops(np.stack(crops))
    return features, model.p_blast(probabilities, features)


def test_adaptation_on_pbc_lymphocytes_and_all_blasts(tmp_path):
    """Adapt (or be refused), then score the remaining cells with the base package and with
    the site decision fitted on the 40 labelled cells (scored even when the adaptation is
    refused, so the refusal can be checked against what it would have done)."""
    base = load_cell_classifier()
    lymphocytes = sorted((DATA / "pbc-cells" / "lymphocyte").iterdir())
    labelled = tmp_path / "labelled"
    (labelled / "blast").mkdir(parents=True)
    (labelled / "normal").mkdir()
    for i, image in enumerate(blast_images(N)):
        cv2.imwrite(str(labelled / "blast" / f"b{i}.png"), image)
    for path in lymphocytes[:N]:
        (labelled / "normal" / path.name).write_bytes(path.read_bytes())
    figures: dict = {}
    try:
        plan = evaluate(base, labelled)
        figures["decision"] = "adapted"
        figures["cross_validated_on_labelled"] = plan.record["local"]
        CellClassifier(write(plan, tmp_path / "site"))  # the package loads
    except AdaptationRefused as exc:
        figures["decision"] = f"refused: {exc}"
    cells = read_labelled(labelled, base)
    site = fit_logistic(cells.features, cells.y)
    rest_normal = [cv2.imread(str(p)) for p in lymphocytes[N:]]
    rest_blast = blast_images(200, skip=N)
    f_normal, p_normal = features_and_p(base, rest_normal)
    f_blast, p_blast = features_and_p(base, rest_blast)
    y = np.r_[np.zeros(len(p_normal)), np.ones(len(p_blast))].astype(int)
    base_p = np.r_[p_normal, p_blast]
    site_p = site.p(np.vstack([f_normal, f_blast]).astype(np.float64))
    figures["remaining"] = {"normal": int((y == 0).sum()), "blast": int((y == 1).sum()),
                            "auc_base": round(auc(base_p, y), 4),
                            "auc_site_decision": round(auc(site_p, y), 4)}
    print(json.dumps(figures))
    refused = figures["decision"].startswith("refused")
    assert refused or figures["remaining"]["auc_site_decision"] >= 0.9
