"""Frozen-trunk features of every cell view, for one or several crop variants in one pass.

Each cell gets a ``clean`` view (the application's crop); cells of the train split also get
``augmented`` views, cells of val/test a ``shifted`` view (one of three fixed camera/stain
shifts, for the robustness figures). Features are computed by the OpenVINO-compiled trunk on
the CPU and stored as float16 with one metadata row per view.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from allscope.core.model_package import CropSpec, InputSpec
from allscope.training.architectures import INPUT_MEAN, INPUT_STD
from allscope.training.cells.backbone import Trunk, to_openvino
from allscope.training.cells.sources import SOURCES, FieldCells
from allscope.training.cells.views import clean_view, shifted_view, train_view

SPLITS = ("train", "val", "test")
VIEW_KINDS = ("clean", "augmented", "shifted")


@dataclass(frozen=True)
class Variant:
    """One way of presenting cells to the trunk: the crop spec and per-crop standardisation."""

    name: str
    crop: CropSpec
    standardise: bool = False
    grey: bool = False


@dataclass(frozen=True)
class Budget:
    """How many cells and views to compute (the B-ALL fields hold ~10 cells each)."""

    train_cells_per_field: int = 3  # fields of the train split
    eval_cells_per_field: int = 4  # fields of val and test
    augmented_views: int = 1
    seed: int = 0


@dataclass
class FeatureTable:
    """Features per variant (float16, rows aligned) and one metadata row per view."""

    features: dict[str, np.ndarray]
    meta: dict[str, np.ndarray]
    names: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {f"f_{k}": v for k, v in self.features.items()}
        arrays.update({f"m_{k}": v for k, v in self.meta.items()})
        np.savez(path, names=np.array(self.names), **arrays)

    @classmethod
    def load(cls, path: Path) -> FeatureTable:
        with np.load(path) as data:
            features = {k[2:]: data[k] for k in data.files if k.startswith("f_")}
            meta = {k[2:]: data[k] for k in data.files if k.startswith("m_")}
            return cls(features, meta, [str(n) for n in data["names"]])


def compiled_trunk(variant: Variant, size: int):
    """The trunk compiled for u8 NHWC BGR batches (the application's preprocessing)."""
    import openvino as ov

    from allscope.core.classifier import _with_preprocessing

    model = to_openvino(Trunk(variant.standardise, grey=variant.grey), size, ("features",))
    spec = InputSpec(width=size, height=size, mean=INPUT_MEAN, std=INPUT_STD)
    return ov.Core().compile_model(
        _with_preprocessing(model, spec), "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"}
    )


def extract(
    fields: Iterable[FieldCells],
    variants: list[Variant],
    size: int,
    budget: Budget,
    total: int | None = None,
    batch: int = 64,
) -> FeatureTable:
    """Run every variant's trunk over every chosen view of every cell of ``fields``."""
    rng = np.random.default_rng(budget.seed)
    trunks = {v.name: compiled_trunk(v, size) for v in variants}
    pending: dict[str, list[np.ndarray]] = {v.name: [] for v in variants}
    out: dict[str, list[np.ndarray]] = {v.name: [] for v in variants}
    rows: list[tuple[int, ...]] = []
    names: list[str] = []
    started = time.perf_counter()

    def flush() -> None:
        for v in variants:
            if pending[v.name]:
                result = trunks[v.name](np.stack(pending[v.name]))[0]
                out[v.name].append(np.asarray(result, np.float16))
                pending[v.name] = []

    for item in tqdm(fields, total=total, desc="cells", mininterval=10):
        names.append(f"{item.source}/{item.name}")
        for index in _chosen(item, budget, rng):
            cell, label = item.cells[index], item.labels[index]
            for kind, draw in _views(item, budget, rng):
                for v in variants:
                    pending[v.name].append(_view(item, cell, size, v.crop, kind, draw))
                rows.append(
                    (
                        SOURCES.index(item.source),
                        SPLITS.index(item.split),
                        label,
                        len(names) - 1,
                        index,
                        VIEW_KINDS.index(kind),
                        int(cell.touches_border),
                        draw,
                    )
                )
            if len(pending[variants[0].name]) >= batch:
                flush()
    flush()
    table = np.array(rows, np.int32).reshape(-1, 8)
    keys = ("source", "split", "label", "field", "cell", "kind", "border", "draw")
    meta = {k: table[:, i] for i, k in enumerate(keys)}
    meta["seconds"] = np.array([time.perf_counter() - started])
    return FeatureTable({k: np.concatenate(v) for k, v in out.items()}, meta, names)


def _chosen(item: FieldCells, budget: Budget, rng: np.random.Generator) -> list[int]:
    """The cells of a field to compute, at most the budget's cap per field (a PBC image has
    one; a BCCD field a few; a B-ALL field ~10 that share one label)."""
    cap = budget.train_cells_per_field if item.split == "train" else budget.eval_cells_per_field
    indices = list(range(len(item.cells)))
    if len(indices) > cap:
        indices = sorted(rng.choice(len(indices), cap, replace=False).tolist())
    return indices


def _views(item: FieldCells, budget: Budget, rng: np.random.Generator) -> list[tuple[str, int]]:
    """(kind, random draw) per view; the draw seeds the augmentation or picks the shift."""
    views = [("clean", 0)]
    if item.split == "train":
        views += [("augmented", int(rng.integers(1 << 30))) for _ in range(budget.augmented_views)]
    else:
        views.append(("shifted", int(rng.integers(3))))
    return views


def _view(item: FieldCells, cell, size: int, crop: CropSpec, kind: str, draw: int) -> np.ndarray:
    if kind == "clean":
        return clean_view(item.image, cell, size, crop)
    if kind == "shifted":
        return shifted_view(item.image, cell, size, crop, draw)
    return train_view(item.image, cell, size, crop, np.random.default_rng(draw))
