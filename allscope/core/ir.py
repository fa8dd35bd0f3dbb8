"""A model package's OpenVINO IR, read and compiled with its input preprocessing in the graph.

The field classifier (``allscope.core.classifier``) and the cell classifier
(``allscope.core.cells.classifier``) load their packages the same way: the package of the
right kind, its IR read, checked by the caller, then compiled for u8 BGR NHWC input. Every
refusal is a ``ModelPackageError`` naming the file and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openvino as ov
from openvino.preprocess import ColorFormat, PrePostProcessor

from allscope.core.model_package import (
    InputSpec,
    ModelPackage,
    ModelPackageError,
    load_package,
    require_kind,
)


def with_preprocessing(model: ov.Model, spec: InputSpec) -> ov.Model:
    """Put colour conversion, normalisation and layout change into the graph: u8 NHWC BGR in."""
    ppp = PrePostProcessor(model)
    inp = ppp.input(0)
    inp.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(
        ColorFormat.BGR
    )
    inp.model().set_layout(ov.Layout(spec.layout))
    steps = inp.preprocess()
    if spec.color_order == "RGB":
        steps.convert_color(ColorFormat.RGB)
    if model.input(0).get_element_type() != ov.Type.u8:
        steps.convert_element_type(ov.Type.f32)
        if any(m != 0.0 for m in spec.mean):
            steps.mean(list(map(float, spec.mean)))
        if any(s != 1.0 for s in spec.std):
            steps.scale(list(map(float, spec.std)))
    for index in range(len(model.outputs)):
        ppp.output(index).tensor().set_element_type(ov.Type.f32)
    return ppp.build()


def package_of(package: ModelPackage | str | Path, kind: str) -> ModelPackage:
    """``package`` itself, or loaded (and verified) from its folder; refused if of another kind."""
    if isinstance(package, ModelPackage):
        return require_kind(package, kind)
    return load_package(package, kind=kind)


def read_ir(package: ModelPackage, core: ov.Core) -> ov.Model:
    """The package's IR as OpenVINO reads it."""
    try:
        return core.read_model(str(package.xml))
    except RuntimeError as exc:
        raise ModelPackageError(f"{package.xml}: OpenVINO cannot read it ({exc}).") from exc


def compile_ir(
    core: ov.Core,
    model: ov.Model,
    package: ModelPackage,
    device: str,
    hint: str,
    inference_precision: str | None = None,
) -> ov.CompiledModel:
    """``model`` compiled for ``device`` with the package's input preprocessing, under the
    performance ``hint`` ("LATENCY" or "THROUGHPUT") and an optional inference precision."""
    config: dict[str, Any] = {"PERFORMANCE_HINT": hint}
    if inference_precision:
        config["INFERENCE_PRECISION_HINT"] = inference_precision
    try:
        return core.compile_model(with_preprocessing(model, package.input), device, config)
    except RuntimeError as exc:
        raise ModelPackageError(
            f"{package.xml}: OpenVINO cannot compile it ({exc}); reinstall the model."
        ) from exc
