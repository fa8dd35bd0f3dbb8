"""Checkpoint → OpenVINO model package (FP32, FP16 or NNCF INT8), with the shipping decision.

The IR takes float NCHW RGB already normalised; ``model.json``'s input spec tells the core's
classifier how to get there from u8 BGR, so normalisation is not baked into the graph.
With data at hand, ``export_and_choose`` evaluates FP32 and INT8 side by side (accuracy on
val/test blocks and batch-1 latency in one process) and ships INT8 unless it loses more than
``MAX_INT8_LOSS_PT`` points of test accuracy, else FP16.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from allscope.core.model_package import InputSpec, ModelPackage, write_package
from allscope.training.data import BENIGN_CLASS, CLASSES, FieldStore, read_split

MAX_INT8_LOSS_PT = 0.5
ARCH_NAMES = {"mobilenetv2": "MobileNetV2 1.0 + GAP/BN/dense head",
              "efficientnet-lite0": "EfficientNet-Lite0 + GAP/BN/dense head"}


def to_openvino(checkpoint: str | Path):
    """The checkpoint's model as an ``openvino.Model`` (FP32, input 1×3×S×S) and its config."""
    import openvino as ov
    import torch

    from allscope.training.train import load_checkpoint

    model, ckpt = load_checkpoint(checkpoint)
    size = ckpt["config"].get("image_size", 224)
    ov_model = ov.convert_model(
        model, example_input=torch.zeros(1, 3, size, size), input=[(1, 3, size, size)]
    )
    ov_model.outputs[0].get_tensor().set_names({"logits"})
    return ov_model, ckpt


def calibration_inputs(
    data: str | Path, split_path: str | Path, count: int, masked: bool, seed: int = 0,
    size: int = 224,
) -> list[np.ndarray]:
    """``count`` training fields (evenly per class, seeded), prepared and normalised as the IR
    expects."""
    from allscope.training.evaluate import prepare
    from allscope.training.train import to_tensor

    train = read_split(split_path)["train"]
    rng = np.random.default_rng(seed)
    chosen = [
        train[i] for i in sorted(rng.choice(len(train), min(count, len(train)), replace=False))
    ]
    store = FieldStore(data, size)
    return [to_tensor(prepare(store.read(s.name), masked, size)[None]).numpy() for s in chosen]


def quantize_int8(ov_model, calibration: list[np.ndarray]):
    """NNCF post-training INT8 quantization of the FP32 OpenVINO model.

    Full bias correction and the mixed preset (asymmetric activations): with NNCF's defaults
    (fast bias correction, symmetric) MobileNetV2 lost about 1.5 pt of validation accuracy; with
    these it lost none on validation.
    """
    import nncf

    return nncf.quantize(ov_model, nncf.Dataset(calibration), subset_size=len(calibration),
                         preset=nncf.QuantizationPreset.MIXED, fast_bias_correction=False)


def package_meta(
    config: dict, precision: str, temperature: float = 1.0, threshold: float = 0.5,
    summary: dict | None = None, name: str = "allscope-default", version: str = "1.0.0",
) -> dict:
    from allscope.training.architectures import INPUT_MEAN, INPUT_STD

    size = config.get("image_size", 224)
    return {
        "name": name,
        "version": version,
        "architecture": ARCH_NAMES.get(config["arch"], config["arch"]),
        "classes": list(CLASSES),
        "benign_class": BENIGN_CLASS,
        "input": InputSpec(
            width=size, height=size, color_order="RGB", layout="NCHW", mean=INPUT_MEAN,
            std=INPUT_STD, masked=bool(config.get("masked", False)),
        ),
        "output": "logits",
        "temperature": float(temperature),
        "precision": precision,
        "threshold": float(threshold),
        "summary": summary or {},
    }


def export_package(checkpoint: str | Path, out: str | Path, precision: str = "FP32",
                   calibration: list[np.ndarray] | None = None, **meta) -> ModelPackage:
    """Write one package (FP32, FP16, or INT8 when ``calibration`` inputs are given)."""
    ov_model, ckpt = to_openvino(checkpoint)
    if precision == "INT8":
        if not calibration:
            raise ValueError(
                "INT8 export needs calibration fields (--data with a split, --calib N)."
            )
        ov_model = quantize_int8(ov_model, calibration)
    return write_package(out, ov_model, package_meta(ckpt["config"], precision, **meta))


def export_and_choose(
    checkpoint: str | Path, out: str | Path, data: str | Path, split_path: str | Path,
    bccd: str | Path | None = None, calib: int = 300, work: str | Path | None = None,
) -> dict:
    """Export FP32 and INT8, evaluate both, ship INT8 or FP16 into ``out``; returns the
    comparison."""
    import torch

    from allscope.training.evaluate import evaluate, latency_ms, package_scorer

    work = Path(work or Path(out).parent / (Path(out).name + "-candidates"))
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    masked, size = (
        bool(ckpt["config"].get("masked", False)),
        int(ckpt["config"].get("image_size", 224)),
    )
    store = FieldStore(data, size)
    candidates = {
        "FP32": export_package(checkpoint, work / "fp32", "FP32"),
        "INT8": export_package(
            checkpoint, work / "int8", "INT8",
            calibration_inputs(data, split_path, calib, masked, size=size),
        ),
    }
    reports, latency = {}, {}
    for precision, package in candidates.items():
        score, _ = package_scorer(package.path)
        reports[precision] = evaluate(score, store, split_path, masked, bccd, size=size)
        latency[precision] = latency_ms(package.path)
    loss_pt = 100 * (reports["FP32"]["test"]["accuracy"] - reports["INT8"]["test"]["accuracy"])
    shipped = "INT8" if loss_pt <= MAX_INT8_LOSS_PT else "FP16"
    chosen = reports["INT8" if shipped == "INT8" else "FP32"]
    meta = {"temperature": chosen["temperature"], "threshold": chosen["threshold"]}
    if shipped == "INT8":
        package = _repackage(work / "int8", out, ckpt["config"], shipped, meta)
    else:
        package = export_package(checkpoint, out, "FP16", **meta)
        score, _ = package_scorer(package.path)
        reports["FP16"] = evaluate(score, store, split_path, masked, bccd, size=size)
        latency["FP16"] = latency_ms(package.path)
    return {"shipped": shipped, "int8_loss_pt": loss_pt, "reports": reports, "latency_ms": latency,
            "package": str(package.path), "calibration_fields": calib}


def _repackage(
    source: Path, out: str | Path, config: dict, precision: str, meta: dict
) -> ModelPackage:
    """Save an exported IR again as ``out`` with the final model.json (temperature, threshold)."""
    import openvino as ov

    model = ov.Core().read_model(str(source / "model.xml"))
    return write_package(out, model, package_meta(config, precision, **meta))


def update_meta(path: str | Path, **fields: object) -> ModelPackage:
    """Replace top-level fields of a package's model.json (``threshold``, ``version``,
    ``summary``...) and seal it again; the IR and its hashes are untouched."""
    from allscope.core.model_package import load_package, seal_package

    meta_path = Path(path) / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(fields)
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    seal_package(path)
    return load_package(path)


def set_summary(path: str | Path, summary: dict) -> ModelPackage:
    """Replace ``summary`` in a package's model.json (the IR and its hashes are untouched)."""
    return update_meta(path, summary=summary)
