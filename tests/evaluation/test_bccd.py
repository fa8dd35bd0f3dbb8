"""The WBC mask on BCCD: normal smears from another laboratory, camera and stain."""

from __future__ import annotations

import numpy as np
import pytest

from allscope.core.results import MaskResult, WbcCandidate
from allscope.evaluation.bccd import bccd_mask_recall, read_voc_annotation, score_field
from allscope.paths import shared_data_dir

BCCD = shared_data_dir() / "bccd"

VOC_XML = """<annotation><filename>field.jpg</filename>
<object><name>WBC</name><bndbox><xmin>10</xmin><ymin>20</ymin><xmax>60</xmax><ymax>80</ymax></bndbox></object>
<object><name> RBC
</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object>
</annotation>"""


def test_voc_annotation_is_read_by_class(tmp_path):
    (tmp_path / "a.xml").write_text(VOC_XML)
    field = read_voc_annotation(tmp_path / "a.xml", tmp_path / "JPEGImages")
    assert field.image == tmp_path / "JPEGImages" / "field.jpg"
    assert field.boxes == {"WBC": ((10.0, 20.0, 60.0, 80.0),), "RBC": ((1.0, 2.0, 3.0, 4.0),)}


def test_malformed_voc_annotation_names_the_file(tmp_path):
    (tmp_path / "bad.xml").write_text("<annotation><object><name>WBC</name></object>")
    with pytest.raises(ValueError, match="bad.xml"):
        read_voc_annotation(tmp_path / "bad.xml", tmp_path)


def candidate_at(x: float, y: float) -> WbcCandidate:
    return WbcCandidate(area=100, bbox=(int(x) - 5, int(y) - 5, 10, 10), centroid=(x, y))


def test_a_box_counts_as_found_when_it_holds_a_component_centroid():
    empty = np.zeros((1, 1), np.uint8)
    candidates = (candidate_at(30, 40), candidate_at(200, 200))
    result = MaskResult(empty, empty, candidates, np.zeros(7), 0.0)
    boxes = ((10.0, 20.0, 60.0, 80.0), (100.0, 100.0, 120.0, 120.0))
    assert score_field(result, boxes) == (1, 1)


def test_mask_recall_on_all_bccd_fields():
    if not (BCCD / "Annotations").is_dir():
        pytest.skip(f"BCCD not found at {BCCD}")
    figures = bccd_mask_recall(BCCD)
    print("BCCD (all 364 fields, 372 WBC boxes):", figures)
    assert figures["fields"] == 364 and figures["wbc_boxes"] == 372
    # Requirement (issue 10, "Cells"): the mask keeps its recall on the BCCD WBC boxes at
    # 370 of 372. Every white cell the mask misses is a cell the classifier never sees, so no
    # change may lose one. Components outside the boxes (2.75 per field when the requirement
    # was set) are reported, not limited: issue 10 asks for that figure, not for a bound.
    assert figures["wbc_found"] >= 370

