"""Tiny real OpenVINO model packages for tests, the self-test and demonstrations.

The model is a genuine IR: mean colour of the field → dense layer → logits. Its default weights
score purple (nucleus-rich, blast-like) fields as ALL and pink fields as benign, which is enough
to drive the live pipeline end to end without the trained model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from allscope.core.model_package import InputSpec, ModelPackage, write_package

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def tiny_color_model(
    weights: np.ndarray | None = None, bias: np.ndarray | None = None, size: int = 224,
):
    """An ``openvino.Model``: NCHW RGB float in [0, 1] → spatial mean → dense → 4 logits."""
    import openvino as ov
    import openvino.opset13 as ops

    if weights is None:
        # Rows: R, G, B means; columns: classes. Blue minus green raises the ALL classes.
        weights = np.array(
            [[0.0, 0.0, 0.0, 0.0], [20.0, -10.0, -10.0, -10.0], [-20.0, 10.0, 10.0, 10.0]],
            dtype=np.float32,
        )
    if bias is None:
        bias = np.array([0.0, 0.0, -0.5, -1.0], dtype=np.float32)
    x = ops.parameter([1, 3, size, size], np.float32, name="field")
    pooled = ops.reduce_mean(x, ops.constant(np.array([2, 3], dtype=np.int64)), keep_dims=False)
    logits = ops.add(ops.matmul(pooled, ops.constant(weights.astype(np.float32)), False, False),
                     ops.constant(bias.astype(np.float32)))
    logits.output(0).get_tensor().set_names({"logits"})
    return ov.Model([logits], [x], "tiny_color")


def write_tiny_package(
    path: str | Path, weights: np.ndarray | None = None, bias: np.ndarray | None = None, *,
    threshold: float = 0.5, masked: bool = False, size: int = 224,
) -> ModelPackage:
    """Write a tiny model package to ``path`` and return it loaded (hashes verified)."""
    meta = {
        "name": "tiny-color",
        "version": "0",
        "architecture": "mean colour + dense (test model)",
        "classes": list(CLASSES),
        "benign_class": "Benign",
        "input": InputSpec(width=size, height=size, color_order="RGB", layout="NCHW",
                           mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0), masked=masked),
        "output": "logits",
        "temperature": 1.0,
        "precision": "FP32",
        "threshold": threshold,
        "summary": {"note": "Test model; no clinical meaning."},
    }
    return write_package(path, tiny_color_model(weights, bias, size), meta)


CELL_CLASSES = ("blast", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil", "other")


def tiny_cell_model(weights: np.ndarray | None = None, size: int = 32):
    """An ``openvino.Model`` for cell crops: NCHW RGB float in [0, 1], dynamic batch →
    ``features`` (the crop's mean R, G, B) and 7 logits = features @ weights.

    The default weights make purple (blue above green) crops blasts and pink ones lymphocytes.
    """
    import openvino as ov
    import openvino.opset13 as ops

    if weights is None:
        weights = np.zeros((3, len(CELL_CLASSES)), np.float32)
        weights[1, 0], weights[2, 0] = -20.0, 20.0  # blast: blue minus green
        weights[1, 1], weights[2, 1] = 20.0, -20.0  # lymphocyte: green minus blue
    x = ops.parameter([-1, 3, size, size], np.float32, name="crops")
    features = ops.reduce_mean(x, ops.constant(np.array([2, 3], dtype=np.int64)), keep_dims=False)
    logits = ops.matmul(features, ops.constant(weights.astype(np.float32)), False, False)
    logits.output(0).get_tensor().set_names({"logits"})
    features.output(0).get_tensor().set_names({"features"})
    return ov.Model([logits, features], [x], "tiny_cells")


def write_tiny_cells_package(
    path: str | Path, weights: np.ndarray | None = None, *, size: int = 32, threshold: float = 0.5,
    scale: float = 1.5, suppress_background: bool = False,
) -> ModelPackage:
    """Write a tiny cells package (``kind: "cells"``) to ``path`` and return it loaded."""
    meta = {
        "kind": "cells",
        "name": "tiny-cells",
        "version": "0",
        "architecture": "mean colour + dense (test model)",
        "classes": list(CELL_CLASSES),
        "blast_class": "blast",
        "input": InputSpec(width=size, height=size, color_order="RGB", layout="NCHW",
                           mean=(0.0, 0.0, 0.0), std=(255.0, 255.0, 255.0)),
        "crop": {"scale": scale, "suppress_background": suppress_background},
        "output": "logits",
        "temperature": 1.0,
        "precision": "FP32",
        "threshold": threshold,
        "summary": {"note": "Test model; no clinical meaning."},
    }
    return write_package(path, tiny_cell_model(weights, size), meta)
