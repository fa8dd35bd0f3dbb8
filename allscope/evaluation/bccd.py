"""BCCD (normal blood smears, Pascal VOC boxes) as a check of the WBC mask on a foreign camera.

BCCD is not the paper's data: another laboratory, camera and stain. It tells how well the
LAB K-means mask, tuned on the B-ALL fields, finds white cells elsewhere. Figures:

- recall: the fraction of annotated WBC boxes holding the centroid of a mask component;
- components outside: mask components whose centroid lies in no WBC box, per field.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.results import MaskResult

Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (pixels, inclusive)


@dataclass(frozen=True, slots=True)
class VocField:
    """One annotated field: the image path and its boxes by class name."""

    image: Path
    boxes: dict[str, tuple[Box, ...]]


def read_voc_annotation(xml_path: Path, images_dir: Path) -> VocField:
    """Parse one Pascal VOC XML file; raises ValueError naming the file when malformed."""
    try:
        root = ElementTree.parse(xml_path).getroot()
        boxes: dict[str, list[Box]] = {}
        for obj in root.iter("object"):
            box = obj.find("bndbox")
            if box is None:
                raise ValueError("an object has no bndbox")
            xmin, ymin, xmax, ymax = (
                float(box.findtext(tag, "")) for tag in ("xmin", "ymin", "xmax", "ymax")
            )
            coords = (xmin, ymin, xmax, ymax)
            boxes.setdefault(obj.findtext("name", "").strip(), []).append(coords)
        filename = root.findtext("filename", "").strip() or xml_path.stem + ".jpg"
    except (ElementTree.ParseError, AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"{xml_path}: not a readable Pascal VOC annotation ({error})") from error
    return VocField(images_dir / filename, {name: tuple(b) for name, b in boxes.items()})


def read_voc_dataset(root: str | Path) -> list[VocField]:
    """All fields of a VOC data set with ``Annotations/`` and ``JPEGImages/`` under ``root``."""
    root = Path(root)
    annotations = sorted((root / "Annotations").glob("*.xml"))
    if not annotations:
        raise FileNotFoundError(f"no Pascal VOC annotations in {root / 'Annotations'}")
    return [read_voc_annotation(path, root / "JPEGImages") for path in annotations]


def _inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def score_field(result: MaskResult, wbc_boxes: tuple[Box, ...]) -> tuple[int, int]:
    """(WBC boxes holding a component's centroid, components outside every WBC box)."""
    return score_centroids([candidate.centroid for candidate in result.candidates], wbc_boxes)


def score_centroids(
    centroids: Sequence[tuple[float, float]], wbc_boxes: tuple[Box, ...]
) -> tuple[int, int]:
    """(WBC boxes holding one of the centroids, centroids outside every WBC box)."""
    found = sum(any(_inside(c, box) for c in centroids) for box in wbc_boxes)
    outside = sum(not any(_inside(c, box) for box in wbc_boxes) for c in centroids)
    return found, outside


def bccd_mask_recall(
    root: str | Path, masker: Callable[[np.ndarray], MaskResult] = lab_kmeans_mask
) -> dict[str, float]:
    """Mask the fields of BCCD at ``root`` and report how the components meet the WBC boxes.

    Keys: fields, wbc_boxes, wbc_found, recall, components, components_outside,
    outside_per_field, fields_unreadable.
    """
    return bccd_recall(root, lambda image: [c.centroid for c in masker(image).candidates])


def bccd_recall(
    root: str | Path, locate: Callable[[np.ndarray], Sequence[tuple[float, float]]]
) -> dict[str, float]:
    """Run ``locate`` (a BGR field → object centroids: mask components, detected cells) on
    BCCD at ``root``; report how the objects meet the WBC boxes (keys as ``bccd_mask_recall``).
    """
    found = boxes = components = outside = unreadable = 0
    fields = read_voc_dataset(root)
    for field in fields:
        image = cv2.imread(str(field.image), cv2.IMREAD_COLOR)
        if image is None:
            unreadable += 1
            continue
        centroids = locate(image)
        wbc = field.boxes.get("WBC", ())
        field_found, field_outside = score_centroids(centroids, wbc)
        found, boxes = found + field_found, boxes + len(wbc)
        components, outside = components + len(centroids), outside + field_outside
    scored = len(fields) - unreadable
    return {
        "fields": scored,
        "wbc_boxes": boxes,
        "wbc_found": found,
        "recall": found / boxes if boxes else float("nan"),
        "components": components,
        "components_outside": outside,
        "outside_per_field": outside / scored if scored else float("nan"),
        "fields_unreadable": unreadable,
    }
