"""The crops the fine-tuned cell model trains on, stored once as a compact bundle.

Each chosen cell is cut by the application's detector and stored as a ``STORE_SIDE``² JPEG of
a square ``CONTEXT_SCALE`` × its diameter (wider than the runtime's 1.5 ×, so that scale
jitter and rotation at training time find real pixels), plus the runtime's background mask
(the cell's contour dilated as in ``allscope.core.cells.crops``) as packed bits. Augmentation
then runs batched in torch (``finetune``), on a GPU when there is one.

Chosen cells: every cell of a Benign (hematogone) field of the train split (the scarce hard
negatives), ``all_train`` cells of a train-split ALL field, ``eval_per_field`` cells of a
val-split field, every PBC cell and every BCCD cell. Test-split B-ALL fields are left out:
they are measured later through the application's runtime, never used for a choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from allscope.core.cells.crops import _cell_mask_in, _cut, crop_box
from allscope.core.model_package import CropSpec
from allscope.training.cells.features import SPLITS
from allscope.training.cells.sources import SOURCES, FieldCells, all_sources

STORE_SIDE = 56
CONTEXT_SCALE = 1.8
JPEG_QUALITY = 95
FILL = CropSpec().fill


@dataclass(frozen=True)
class CropBudget:
    all_train: int = 4  # cells per train-split ALL field
    eval_per_field: int = 4  # cells per val-split B-ALL field
    seed: int = 0


def context_crop(
    image: np.ndarray, cell, fill: tuple[int, int, int] = FILL
) -> tuple[np.ndarray, np.ndarray]:
    """(BGR crop, bool mask), both ``STORE_SIDE``², of the square around ``cell``."""
    x, y, side = crop_box(cell, CONTEXT_SCALE)
    square = _cut(image, x, y, side, fill)
    mask = _cell_mask_in(cell, x, y, side)
    interpolation = cv2.INTER_AREA if side > STORE_SIDE else cv2.INTER_LINEAR
    crop = cv2.resize(square, (STORE_SIDE, STORE_SIDE), interpolation=interpolation)
    small = cv2.resize(mask, (STORE_SIDE, STORE_SIDE), interpolation=cv2.INTER_LINEAR)
    return crop, small >= 128


def _chosen(item: FieldCells, budget: CropBudget, rng: np.random.Generator) -> list[int]:
    n = len(item.cells)
    if item.source != "taleqani" or (item.split == "train" and item.field_class == "Benign"):
        return list(range(n))
    cap = budget.all_train if item.split == "train" else budget.eval_per_field
    return sorted(rng.choice(n, cap, replace=False).tolist()) if n > cap else list(range(n))


def collect(fields, budget: CropBudget = CropBudget(), total: int | None = None) -> dict:
    """The bundle's arrays: JPEG bytes, packed masks, and one metadata row per cell."""
    rng = np.random.default_rng(budget.seed)
    jpegs, masks, rows = [], [], []
    for number, item in enumerate(tqdm(fields, total=total, desc="crops", mininterval=10)):
        if item.source == "taleqani" and item.split == "test":
            continue
        for index in _chosen(item, budget, rng):
            crop, mask = context_crop(item.image, item.cells[index])
            ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            assert ok
            jpegs.append(data.tobytes())
            masks.append(np.packbits(mask.ravel()))
            benign = int(item.field_class == "Benign")
            rows.append(
                (
                    SOURCES.index(item.source),
                    SPLITS.index(item.split),
                    item.labels[index],
                    number,
                    index,
                    benign,
                )
            )
    lengths = np.array([len(j) for j in jpegs], np.int64)
    table = np.array(rows, np.int32).reshape(-1, 6)
    keys = ("source", "split", "label", "field", "cell", "benign_field")
    bundle = {f"m_{k}": table[:, i] for i, k in enumerate(keys)}
    bundle.update(
        jpeg=np.frombuffer(b"".join(jpegs), np.uint8),
        jpeg_offsets=np.concatenate([[0], np.cumsum(lengths)]),
        masks=np.stack(masks) if masks else np.zeros((0, STORE_SIDE**2 // 8), np.uint8),
    )
    return bundle


def build_bundle(
    data: Path, split_json: Path, out: Path, budget: CropBudget = CropBudget()
) -> Path:
    """Every source's crops into ``out`` (an .npz; ``finetune_run.load_bundle`` reads it)."""
    bundle = collect(all_sources(data, split_json), budget, total=2727 + 2007 + 364)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **bundle)
    return out
