"""The model package: an OpenVINO IR plus ``model.json`` describing how to use it.

A package is a directory::

    model.xml, model.bin    OpenVINO IR; input 0 takes the field, output 0 gives class scores
    model.json              this module's ``ModelPackage`` fields, plus SHA-256 of the IR files
    MODEL_CARD.md           optional, human-readable

``model.json`` keys: ``format`` (1), ``name``, ``version``, ``architecture``, ``classes``
(ordered display names), ``benign_class``, ``input`` (``width``, ``height``,
``color_order`` "RGB"/"BGR", ``layout`` "NCHW"/"NHWC", ``mean`` and ``std`` per channel on the
0-255 scale in ``color_order``, ``masked``: whether the model expects the masked field),
``output`` ("logits" or "probabilities"), ``temperature`` (divides logits before softmax),
``precision``, ``threshold`` (recommended P(ALL) flag threshold), ``summary`` (free-form
training and evaluation figures, each naming its data split) and ``files`` (file name →
SHA-256 hex).

``kind`` says what the package judges: "fields" (the default; whole fields, needs
``benign_class``) or "cells" (one crop per white cell, see ``allscope.core.cells``). A cells
package needs ``blast_class`` instead of ``benign_class``; its ``threshold`` applies to
P(blast); ``crop`` (``scale``: crop side over the cell's equivalent diameter,
``suppress_background``, ``fill``) says how crops are cut; its IR has a second output named
``features`` (the pooled feature vector); an optional ``site_head`` (``file``, ``sha256``,
free-form ``summary``) names an ``.npz`` with ``w``, ``b``, ``threshold`` and optionally
``mean``, ``scale``: a logistic decision on the features fitted at one laboratory, which then
replaces P(blast) and the threshold.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from allscope.paths import default_model_dir

FORMAT_VERSION = 1
IR_FILES = ("model.xml", "model.bin")
DEFAULT_MODEL_DIR = default_model_dir()


class ModelPackageError(ValueError):
    """The package is missing, malformed or does not match its description."""


@dataclass(frozen=True)
class InputSpec:
    width: int = 224
    height: int = 224
    color_order: str = "RGB"
    layout: str = "NCHW"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (255.0, 255.0, 255.0)
    masked: bool = False


@dataclass(frozen=True)
class CropSpec:
    """How a cells package's crops are cut (see ``allscope.core.cells.crops``)."""

    scale: float = 1.5  # crop side = scale × the cell's equivalent diameter
    suppress_background: bool = False  # outside the (dilated) cell mask painted with ``fill``
    fill: tuple[int, int, int] = (208, 208, 208)  # BGR


@dataclass(frozen=True)
class SiteHeadSpec:
    """A site-fitted decision on a cells package's features, stored beside the IR."""

    file: str
    sha256: str
    summary: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass(frozen=True)
class ModelPackage:
    path: Path
    name: str
    version: str
    architecture: str
    classes: tuple[str, ...]
    benign_class: str
    input: InputSpec
    threshold: float = 0.5
    output: str = "logits"
    temperature: float = 1.0
    precision: str = "FP32"
    summary: dict[str, Any] = field(default_factory=dict[str, Any])
    files: dict[str, str] = field(default_factory=dict)
    kind: str = "fields"  # "fields" or "cells"
    blast_class: str | None = None  # cells packages: the class whose probability is P(blast)
    crop: CropSpec | None = None  # cells packages: how crops are cut
    site_head: SiteHeadSpec | None = None  # cells packages: a site-fitted decision, if any

    @property
    def xml(self) -> Path:
        return self.path / "model.xml"

    @property
    def benign_index(self) -> int:
        return self.classes.index(self.benign_class)

    @property
    def sha256(self) -> str:
        """One digest for the whole IR (of the per-file digests, in file order)."""
        joined = "".join(self.files[name] for name in IR_FILES)
        return hashlib.sha256(joined.encode()).hexdigest()

    @property
    def card(self) -> str | None:
        card = self.path / "MODEL_CARD.md"
        return card.read_text(encoding="utf-8") if card.is_file() else None

    def describe(self) -> str:
        return f"{self.name} {self.version} ({self.architecture}, {self.precision})"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_package(path: str | Path, verify: bool = True, kind: str | None = None) -> ModelPackage:
    """Read and check ``model.json``; with ``verify`` also check the IR files' SHA-256
    (and a site head's); with ``kind`` refuse a package of another kind."""
    path = Path(path)
    meta_path = path / "model.json"
    if not path.is_dir():
        raise ModelPackageError(f"Model package not found: {path} is not a directory.")
    if not meta_path.is_file():
        raise ModelPackageError(f"{meta_path}: missing; a model package needs model.json.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelPackageError(f"{meta_path}: not valid JSON ({exc}).") from exc
    package = _from_meta(path, meta, meta_path)
    if kind is not None and package.kind != kind:
        raise ModelPackageError(
            f"{path}: a {package.kind!r} model package, but a {kind!r} package is needed here; "
            f"choose a {kind} package (models/{'cells' if kind == 'cells' else 'default'})."
        )
    if package.site_head is not None:
        _check_file(path / package.site_head.file, package.site_head.sha256, verify)
    for name in IR_FILES:
        _check_file(path / name, package.files.get(name), verify)
    return package


def _check_file(file: Path, expected: str | None, verify: bool) -> None:
    if not file.is_file():
        raise ModelPackageError(f"{file}: missing from the model package.")
    if verify:
        actual = file_sha256(file)
        if expected != actual:
            raise ModelPackageError(
                f"{file}: SHA-256 mismatch (model.json says {expected}, file is {actual}); "
                "the file is damaged or was replaced."
            )


def _from_meta(path: Path, meta: dict[str, Any], meta_path: Path) -> ModelPackage:
    if meta.get("format", FORMAT_VERSION) > FORMAT_VERSION:
        raise ModelPackageError(
            f"{meta_path}: format {meta['format']} is newer than this allscope understands "
            f"({FORMAT_VERSION}); update allscope."
        )
    kind = meta.get("kind", "fields")
    if kind not in ("fields", "cells"):
        raise ModelPackageError(f"{meta_path}: kind must be 'fields' or 'cells', not {kind!r}.")
    named = "blast_class" if kind == "cells" else "benign_class"
    missing = [k for k in ("name", "version", "classes", named, "input", "files") if k not in meta]
    if missing:
        raise ModelPackageError(f"{meta_path}: missing keys {', '.join(missing)}.")
    classes = tuple(meta["classes"])
    if len(classes) < 2:
        raise ModelPackageError(f"{meta_path}: needs at least two classes, has {len(classes)}.")
    if meta[named] not in classes:
        raise ModelPackageError(
            f"{meta_path}: {named} {meta[named]!r} is not one of the classes {list(classes)}."
        )
    try:
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in meta["input"].items()
        }
        spec = InputSpec(**fields)
    except TypeError as exc:
        raise ModelPackageError(f"{meta_path}: bad input spec ({exc}).") from exc
    if spec.color_order not in ("RGB", "BGR") or spec.layout not in ("NCHW", "NHWC"):
        raise ModelPackageError(
            f"{meta_path}: input color_order must be RGB/BGR and layout NCHW/NHWC."
        )
    if meta.get("output", "logits") not in ("logits", "probabilities"):
        raise ModelPackageError(f"{meta_path}: output must be 'logits' or 'probabilities'.")
    return ModelPackage(
        path=path, name=str(meta["name"]), version=str(meta["version"]),
        architecture=str(meta.get("architecture", "unknown")), classes=classes,
        benign_class=str(meta.get("benign_class", "")), input=spec,
        threshold=float(meta.get("threshold", 0.5)),
        output=meta.get("output", "logits"), temperature=float(meta.get("temperature", 1.0)),
        precision=str(meta.get("precision", "FP32")), summary=dict(meta.get("summary", {})),
        files=dict(meta["files"]), kind=kind, blast_class=meta.get("blast_class"),
        crop=_crop_spec(meta, meta_path) if kind == "cells" else None,
        site_head=_site_head(meta, meta_path),
    )


def _crop_spec(meta: dict[str, Any], meta_path: Path) -> CropSpec:
    try:
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in meta.get("crop", {}).items()
        }
        crop = CropSpec(**values)
    except TypeError as exc:
        raise ModelPackageError(f"{meta_path}: bad crop spec ({exc}).") from exc
    if not 0.5 <= float(crop.scale) <= 6.0:
        raise ModelPackageError(
            f"{meta_path}: crop scale {crop.scale} is outside 0.5..6 cell diameters."
        )
    return crop


def _site_head(meta: dict[str, Any], meta_path: Path) -> SiteHeadSpec | None:
    head = meta.get("site_head")
    if head is None:
        return None
    if not isinstance(head, dict) or not {"file", "sha256"} <= head.keys():
        raise ModelPackageError(f"{meta_path}: site_head needs 'file' and 'sha256'.")
    return SiteHeadSpec(str(head["file"]), str(head["sha256"]), dict(head.get("summary", {})))


def write_package(path: str | Path, model: Any, meta: dict[str, Any]) -> ModelPackage:
    """Save ``model`` (an ``openvino.Model``) as IR in ``path`` with ``model.json``.

    ``meta`` holds every model.json key except ``files`` and ``format``, which are filled in.
    """
    import openvino as ov

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    compress = meta.get("precision", "FP32") == "FP16"
    ov.save_model(model, str(path / "model.xml"), compress_to_fp16=compress)
    meta = dict(meta)
    meta["input"] = asdict(meta["input"]) if isinstance(meta["input"], InputSpec) else meta["input"]
    if isinstance(meta.get("crop"), CropSpec):
        meta["crop"] = asdict(meta["crop"])
    meta["format"] = FORMAT_VERSION
    meta["files"] = {name: file_sha256(path / name) for name in IR_FILES}
    (path / "model.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return load_package(path)
