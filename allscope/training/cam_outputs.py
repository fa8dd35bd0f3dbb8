"""Give a shipped IR the extra outputs that CAM and feature-space OOD need, and its folded head.

``add_cam_outputs`` finds the global average pooling (a ReduceMean over the two spatial axes
of a 4-D tensor) and exports its input as "feature_map" and its output as "features". The
folded head (W', b') is read from the IR itself: everything after the pooling is cut off onto
a new input and evaluated on the zero vector and the unit vectors; a random probe checks that
the head is indeed affine. In an INT8 IR the activation quantizers of the head are bypassed
for this, so the CAM is that of the float head (its mean matches the INT8 logits up to the
rounding of the pooled features). Needs only OpenVINO (no torch), so it works on any exported
package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import openvino as ov
import openvino.opset13 as ops

from allscope.core.cam import CAM_HEAD_FILE, FEATURE_MAP, FEATURES, CamHead
from allscope.core.model_package import MANIFEST_FILE, file_sha256, load_package, write_package


def global_pool(model: ov.Model) -> ov.Node:
    """The ReduceMean over H and W of the last 4-D feature map (the head's pooling)."""
    pools = []
    for node in model.get_ordered_ops():
        if (
            node.get_type_name() != "ReduceMean"
            or node.input_value(0).get_partial_shape().rank.get_length() != 4
        ):
            continue
        axes = node.input_value(1).get_node()
        if axes.get_type_name() == "Constant" and sorted(
            int(a) % 4 for a in axes.get_data().ravel()
        ) == [2, 3]:
            pools.append(node)
    if not pools:
        raise ValueError(
            "no global average pooling (ReduceMean over axes 2 and 3 of a 4-D tensor) in the "
            "model; "
            "CAM needs a pooling → batch norm → dense head"
        )
    return pools[-1]


def add_cam_outputs(model: ov.Model) -> ov.Model:
    """A clone of ``model`` with extra outputs "feature_map" (N, C, h, w) and "features" (N, C)."""
    model = model.clone()
    pool = global_pool(model)
    fmap, pooled = pool.input_value(0), pool.output(0)
    fmap.get_tensor().set_names({FEATURE_MAP})
    pooled.get_tensor().set_names({FEATURES})
    model.add_outputs([fmap, pooled])
    return model


def folded_head(model: ov.Model, check_seed: int = 0) -> CamHead:
    """(W', b') with logits = W' · pooled + b', read by probing the IR's head."""
    probe = model.clone()
    pool = global_pool(probe)
    channels = pool.output(0).get_partial_shape()[1].get_length()
    features = ops.parameter([channels + 2, channels], np.float32, name="pooled_features")
    for target in list(pool.output(0).get_target_inputs()):
        target.replace_source_output(features.output(0))
    head = ov.Model([probe.output(0)], [features], "head")
    _bypass_activation_quantizers(head)
    rng = np.random.default_rng(check_seed)
    random = rng.normal(0, 1, channels).astype(np.float32)
    inputs = np.vstack([np.zeros(channels, np.float32), np.eye(channels, dtype=np.float32), random])
    compiled = ov.Core().compile_model(head, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    logits = np.asarray(compiled({0: inputs})[0], np.float64)
    bias = logits[0]
    weights = (logits[1 : channels + 1] - bias).T
    if not np.allclose(weights @ random + bias, logits[-1], rtol=1e-3, atol=1e-3):
        raise ValueError(
            "the head after the pooling is not affine (not pooling → batch norm → dense); no "
            "exact CAM"
        )
    return CamHead(weights.astype(np.float32), bias.astype(np.float32))


def _bypass_activation_quantizers(head: ov.Model) -> None:
    """Let activations pass the head's FakeQuantize nodes unrounded (an INT8 IR's head is then
    the float head it was quantized from; weight quantization stays, it is constant)."""
    for node in head.get_ordered_ops():
        if (
            node.get_type_name() == "FakeQuantize"
            and node.input_value(0).get_node().get_type_name() != "Constant"
        ):
            for target in list(node.output(0).get_target_inputs()):
                target.replace_source_output(node.input_value(0))


def augment_package(source: str | Path, destination: str | Path) -> Path:
    """Write ``source``'s package to ``destination`` with the CAM outputs and ``cam_head.npz``.

    Logits stay output 0; model.json gains a "cam" entry (file, SHA-256, output names).
    """
    source, destination = Path(source), Path(destination)
    if destination.resolve() == source.resolve():
        raise ValueError(
            f"{destination}: write the augmented package to a new folder, not over its source"
        )
    package = load_package(source)
    meta = json.loads((source / "model.json").read_text(encoding="utf-8"))
    model = ov.Core().read_model(str(package.xml))
    head = folded_head(model)
    augmented = add_cam_outputs(model)
    destination.mkdir(parents=True, exist_ok=True)
    head_path = head.save(destination / CAM_HEAD_FILE)
    meta = {k: v for k, v in meta.items() if k not in ("files", "format")}
    meta["cam"] = {
        "file": CAM_HEAD_FILE,
        "sha256": file_sha256(head_path),
        "feature_map": FEATURE_MAP,
        "features": FEATURES,
        "head": "global average pooling → batch norm → dense, folded",
    }
    for (
        extra
    ) in source.iterdir():  # first, so that the manifest written with the package covers them
        if (
            extra.is_file()
            and extra.name
            not in ("model.xml", "model.bin", "model.json", CAM_HEAD_FILE, MANIFEST_FILE)
            and not (destination / extra.name).exists()
        ):
            shutil.copy2(extra, destination / extra.name)
    write_package(destination, augmented, meta)
    return destination
