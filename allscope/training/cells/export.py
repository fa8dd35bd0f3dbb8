"""Trunk + trained head → OpenVINO IR → NNCF INT8 → a cells model package.

The IR takes float NCHW RGB in [-1, 1]; ``model.json``'s input spec tells the runtime how to
get there from u8 BGR crops (the same preprocessing as the field model). Outputs: ``logits``
(output 0) and ``features`` (the pooled trunk features that site adaptation fits on).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from allscope.core.model_package import InputSpec, ModelPackage, write_package
from allscope.training.architectures import INPUT_MEAN, INPUT_STD
from allscope.training.cells.backbone import CellNet, Head, Trunk, to_openvino
from allscope.training.cells.features import Variant
from allscope.training.cells.sources import CLASSES

ARCHITECTURE = (
    "MobileNetV2 1.0 trunk (ImageNet, frozen) → pooled block-13 + final features "
    "(1376) → standardise → linear head → 7 classes"
)


def to_ir_input(crops_bgr: np.ndarray) -> np.ndarray:
    """u8 BGR NHWC crops → the IR's float NCHW RGB in [-1, 1]."""
    rgb = crops_bgr[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(((rgb - 127.5) / 127.5).transpose(0, 3, 1, 2))


def quantize(ov_model, calibration: Iterable[np.ndarray]):
    """NNCF post-training INT8 (mixed preset, full bias correction, as the field model)."""
    import nncf

    batches = list(calibration)
    return nncf.quantize(
        ov_model,
        nncf.Dataset(batches),
        subset_size=len(batches),
        preset=nncf.QuantizationPreset.MIXED,
        fast_bias_correction=False,
    )


def describe_variant(variant: Variant) -> str:
    extras = [
        text
        for on, text in ((variant.grey, "grey"), (variant.standardise, "per-crop standardised"))
        if on
    ]
    return ARCHITECTURE + (f" ({', '.join(extras)} input)" if extras else "")


def package_meta(
    size: int,
    variant: Variant,
    precision: str,
    temperature: float,
    threshold: float,
    summary: dict,
    version: str = "1.0.0",
) -> dict:
    return {
        "kind": "cells",
        "name": "allscope-cells",
        "version": version,
        "architecture": describe_variant(variant),
        "classes": list(CLASSES),
        "blast_class": "blast",
        "input": InputSpec(
            width=size,
            height=size,
            color_order="RGB",
            layout="NCHW",
            mean=INPUT_MEAN,
            std=INPUT_STD,
        ),
        "crop": variant.crop,
        "output": "logits",
        "temperature": float(temperature),
        "precision": precision,
        "threshold": float(threshold),
        "summary": summary,
    }


def export_cells(
    out: Path,
    head: Head,
    variant: Variant,
    size: int,
    meta: dict,
    calibration: list[np.ndarray] | None = None,
) -> ModelPackage:
    """Write the package to ``out``: INT8 when calibration batches (IR input) are given."""
    trunk = Trunk(variant.standardise, grey=variant.grey)
    model = to_openvino(CellNet(trunk, head.eval()).eval(), size, ("logits", "features"))
    if calibration:
        model = quantize(model, calibration)
    return write_package(out, model, meta)
