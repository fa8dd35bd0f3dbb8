"""The cell classifier: one batched OpenVINO inference per field over its cells' crops.

The IR of a cells package (``kind: "cells"`` in model.json, see ``model_package``) takes a
batch of crops and gives two outputs: class scores (output 0) and the pooled ``features``
vector. P(blast) is the probability of the package's ``blast_class``; a cell is called a
blast when P(blast) reaches the package's threshold. A package adapted to one laboratory
carries a ``site_head`` (logistic weights on the features) that replaces P(blast) and the
threshold, so an adapted package works wherever the base package does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import openvino as ov

from allscope.core.cells.batching import FixedBatches
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import Cell
from allscope.core.classifier import softmax
from allscope.core.ir import compile_ir, package_of, read_ir
from allscope.core.model_package import CropSpec, ModelPackage, ModelPackageError

FEATURES_OUTPUT = "features"


@dataclass(frozen=True, slots=True)
class CellCall:
    """The classifier's verdict on one cell."""

    cell: Cell
    probabilities: dict[str, float]  # class name → probability, in the package's class order
    label: str  # most probable class
    p_blast: float  # P(blast), from the site head when the package has one
    is_blast: bool  # p_blast >= the threshold in force
    features: np.ndarray = field(
        repr=False
    )  # float32 (F,) pooled features: what site adaptation fits on


@dataclass(frozen=True)
class SiteHead:
    """A logistic decision on the features: p = sigmoid(((f - mean) / scale) @ w + b)."""

    w: np.ndarray
    b: float
    threshold: float
    mean: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0

    @classmethod
    def load(cls, path: Path) -> SiteHead:
        try:
            with np.load(path) as data:
                return cls(
                    np.asarray(data["w"], np.float64).ravel(),
                    float(data["b"]),
                    float(data["threshold"]),
                    np.asarray(data["mean"], np.float64) if "mean" in data else 0.0,
                    np.asarray(data["scale"], np.float64) if "scale" in data else 1.0,
                )
        except (OSError, KeyError, ValueError) as exc:
            raise ModelPackageError(
                f"{path}: not a readable site head (needs w, b, threshold): {exc}"
            ) from exc

    def p_blast(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.w + self.b
        p: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))
        return p


class CellClassifier:
    """A compiled cells package. ``predict`` judges all cells of one field in one batch.

    Thread-safe (one lock around the inference requests); the crops run in fixed-size
    chunks (``batching``). ``inference_precision`` "f32" forces exact float maths.
    """

    def __init__(
        self,
        package: ModelPackage | str | Path,
        *,
        device: str = "CPU",
        inference_precision: str | None = None,
        core: ov.Core | None = None,
    ) -> None:
        self.package = package_of(package, "cells")
        core = core or ov.Core()
        model = read_ir(self.package, core)
        self._feature_index = self._check_outputs(model)
        self._compile = partial(_compile, core, self.package, device, inference_precision)
        self._batches = FixedBatches(model, partial(self._compile, hint="LATENCY"))
        self._batches.warm_up(self._batches.sizes[-1:])  # a refusal shows at load, not later
        head = self.package.site_head
        self.site_head = SiteHead.load(self.package.path / head.file) if head else None
        self._blast_index = self.classes.index(str(self.package.blast_class))

    @property
    def classes(self) -> tuple[str, ...]:
        return self.package.classes

    @property
    def crop(self) -> CropSpec:
        return self.package.crop or CropSpec()

    @property
    def size(self) -> int:
        """Side of the square crop the model takes, in pixels."""
        return self.package.input.width

    @property
    def threshold(self) -> float:
        """The P(blast) threshold in force: the site head's when there is one."""
        return self.site_head.threshold if self.site_head else self.package.threshold

    def _check_outputs(self, model: ov.Model) -> int:
        spec, xml = self.package.input, self.package.xml
        if spec.width != spec.height:
            raise ModelPackageError(
                f"{xml}: cell crops are square; model.json input is {spec.width}x{spec.height}."
            )
        names = [set(output.get_names()) for output in model.outputs]
        index = next((i for i, n in enumerate(names) if FEATURES_OUTPUT in n), None)
        if index is None or index == 0:
            raise ModelPackageError(
                f"{xml}: a cells model needs class scores as output 0 and a "
                f"second output named {FEATURES_OUTPUT!r}; re-export the package."
            )
        n_out = model.output(0).get_partial_shape()[-1].get_length()
        if n_out != len(self.classes):
            raise ModelPackageError(
                f"{xml}: the model has {n_out} outputs but model.json lists "
                f"{len(self.classes)} classes."
            )
        return index

    def predict(self, bgr: np.ndarray, cells: Sequence[Cell]) -> list[CellCall]:
        """Judge every cell of one BGR field (cells from ``detect_cells`` on that field)."""
        if not cells:
            return []
        probabilities, features = self.predict_crops(cell_crops(bgr, cells, self.size, self.crop))
        return self.calls(cells, probabilities, features)

    def calls(
        self, cells: Sequence[Cell], probabilities: np.ndarray, features: np.ndarray
    ) -> list[CellCall]:
        """Verdicts from the outputs of ``predict_crops`` for ``cells``, in the same order."""
        p_blast = self.p_blast(probabilities, features)
        threshold = self.threshold
        return [
            CellCall(
                cell,
                dict(zip(self.classes, map(float, probs), strict=True)),
                self.classes[int(np.argmax(probs))],
                float(p),
                bool(p >= threshold),
                feats,
            )
            for cell, probs, p, feats in zip(cells, probabilities, p_blast, features, strict=True)
        ]

    def p_blast(self, probabilities: np.ndarray, features: np.ndarray) -> np.ndarray:
        """P(blast) per row: the site head on the features, else the blast class probability."""
        if self.site_head is not None:
            return self.site_head.p_blast(features.astype(np.float64))
        return probabilities[:, self._blast_index]

    def predict_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, C) float64, features (N, F) float32) for a uint8 BGR crop batch
        of shape (N, size, size, 3), already cut by ``cell_crops``."""
        if (
            crops.ndim != 4
            or crops.shape[1:] != (self.size, self.size, 3)
            or crops.dtype != np.uint8
        ):
            raise ValueError(
                f"expected uint8 crops of shape (N, {self.size}, {self.size}, 3), "
                f"got {crops.dtype} {crops.shape}"
            )
        scores, features = self._batches.infer(crops, self.outputs)
        return self.probabilities(scores), features

    def warm_up(self, stop: threading.Event | None = None) -> None:
        """Compile every fixed batch size now (up to a second each on the workstation CPU), so
        that no live field waits for one; ``stop`` set ends it early. A batch run needs none
        of them (``pool``)."""
        self._batches.warm_up(stop=stop)

    @property
    def outputs(self) -> tuple[int, int]:
        """The model's outputs read per crop: class scores, then features."""
        return 0, self._feature_index

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Class probabilities (float64) from the model's class scores, one row per crop."""
        scores = scores.astype(np.float64).reshape(len(scores), len(self.classes))
        if self.package.output == "logits":
            return softmax(scores, self.package.temperature)
        return scores / np.maximum(scores.sum(axis=-1, keepdims=True), 1e-12)

    def throughput_model(self, batch: int) -> ov.CompiledModel:
        """The model compiled for fixed batches of ``batch`` crops in throughput mode (several
        streams: many batches at once), for ``allscope analyze``'s pooled cells."""
        return self._batches.compiled(batch, partial(self._compile, hint="THROUGHPUT"))

    def output_width(self, index: int) -> int:
        """Values per crop of output ``index`` (0 when the IR leaves it open)."""
        return self._batches.width(index)


def _compile(core: ov.Core, package: ModelPackage, device: str, precision: str | None,
             model: ov.Model, *, hint: str) -> ov.CompiledModel:
    """``model`` (the package's IR, reshaped) compiled with a performance ``hint``."""
    return compile_ir(core, model, package, device, hint, precision)
