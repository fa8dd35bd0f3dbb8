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
replaces P(blast) and the threshold. ``manifest.sha256`` covers every file, model.json included.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from allscope.core.model_schema import FORMAT_VERSION, IR_FILES, ModelSchema, validate_meta
from allscope.paths import default_model_dir

MANIFEST_FILE = "manifest.sha256"
__all__ = [
    "FORMAT_VERSION",
    "IR_FILES",
    "MANIFEST_FILE",
    "CropSpec",
    "ModelPackage",
    "ModelPackageError",
    "load_package",
    "SiteHeadSpec",
    "seal_package",
    "write_package",
]
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
    ood: dict[str, Any] | None = None  # model.json's validated "ood" entry
    cam: dict[str, Any] | None = None  # model.json's validated "cam" entry
    manifest_sha256: str = ""  # SHA-256 of manifest.sha256, which covers model.json and every file
    kind: str = "fields"  # "fields" or "cells"
    blast_class: str | None = None  # cells packages: the class whose probability is P(blast)
    crop: CropSpec | None = None  # cells packages: how crops are cut
    site_head: SiteHeadSpec | None = None  # cells packages: a site-fitted decision, if any

    def referenced_files(self) -> list[str]:
        """model.json, the IR and the OOD/CAM files it names: what the manifest must cover."""
        names = ["model.json", *IR_FILES]
        if self.ood and self.ood["kind"] == "feature":
            names.append(self.ood.get("file") or "ood_features.npz")
        if self.cam:
            names.append(self.cam["file"])
        if self.site_head is not None:
            names.append(self.site_head.file)
        return names

    @property
    def xml(self) -> Path:
        return self.path / "model.xml"

    @property
    def benign_index(self) -> int:
        return self.classes.index(self.benign_class)

    @property
    def sha256(self) -> str:
        """The package's identity: the manifest's digest (it covers model.json and every file)."""
        if self.manifest_sha256:
            return self.manifest_sha256
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
    """Read model.json, check it against the schema and, with ``verify``, check every file of
    the package against its manifest; with ``kind`` refuse a package of another kind.
    ModelPackageError names the file and what to do."""
    path = Path(path)
    meta_path = path / "model.json"
    if not path.is_dir():
        raise ModelPackageError(f"Model package not found: {path} is not a directory.")
    if not meta_path.is_file():
        raise ModelPackageError(f"{meta_path}: missing; a model package needs model.json.")
    try:
        meta = validate_meta(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelPackageError(
            f"{meta_path}: cannot be read ({exc}); reinstall the model."
        ) from exc
    except ValueError as exc:
        raise ModelPackageError(
            f"{meta_path}: {exc}. Fix model.json or reinstall the model."
        ) from exc
    package = _from_meta(path, meta)
    if kind is not None:
        require_kind(package, kind)
    for name in package.referenced_files():
        _inside(path, name)
    digest = check_manifest(path, package.referenced_files()) if verify else ""
    return dataclasses.replace(package, manifest_sha256=digest)


RUNS_IN = {"fields": "Classifier", "cells": "CellClassifier"}


def require_kind(package: ModelPackage, kind: str) -> ModelPackage:
    """``package`` when it judges what ``kind`` says ("fields" or "cells"); else an error that
    says which package to choose."""
    if package.kind != kind:
        raise ModelPackageError(
            f"{package.path}: a {package.kind!r} model package, but a {kind!r} package is needed "
            f"here; choose a {kind} package (models/{'cells' if kind == 'cells' else 'default'})"
            f"; {package.kind} packages run in {RUNS_IN.get(package.kind, 'their own runner')}."
        )
    return package


def _inside(folder: Path, name: str) -> Path:
    file = folder / name
    if not file.is_file():
        raise ModelPackageError(f"{file}: missing from the model package; reinstall the model.")
    if file.resolve().parent != folder.resolve():
        raise ModelPackageError(
            f"{file}: points outside the model package ({file.resolve()}); "
            "a package's files must be inside its folder."
        )
    return file


def _from_meta(path: Path, meta: ModelSchema) -> ModelPackage:
    spec = InputSpec(**meta.input.model_dump(include=set(InputSpec.__dataclass_fields__)))
    return ModelPackage(
        path=path,
        name=meta.name,
        version=meta.version,
        architecture=meta.architecture,
        classes=tuple(meta.classes),
        benign_class=meta.benign_class,
        input=spec,
        threshold=float(meta.threshold),
        output=meta.output,
        temperature=float(meta.temperature),
        precision=meta.precision,
        summary=dict(meta.summary),
        files=dict(meta.files),
        ood=None if meta.ood is None else meta.ood.model_dump(),
        cam=None if meta.cam is None else meta.cam.model_dump(),
        kind=meta.kind,
        blast_class=meta.blast_class,
        crop=None if meta.crop is None else CropSpec(
            scale=float(meta.crop.scale),
            suppress_background=meta.crop.suppress_background,
            fill=(int(meta.crop.fill[0]), int(meta.crop.fill[1]), int(meta.crop.fill[2])),
        ),
        site_head=None if meta.site_head is None else SiteHeadSpec(
            meta.site_head.file, meta.site_head.sha256, dict(meta.site_head.summary)
        ),
    )


def manifest_text(path: Path, names: list[str]) -> str:
    """``sha256sum`` format: one ``<hex>  <name>`` line per file, sorted by name."""
    return "".join(f"{file_sha256(path / n)}  {n}\n" for n in sorted(set(names)))


def seal_package(path: str | Path) -> Path:
    """(Re)write the manifest over every file of the package, model.json included; call it
    after changing any of them (write_package does)."""
    path = Path(path)
    names = [
        p.name
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST_FILE
    ]
    target = path / MANIFEST_FILE
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(manifest_text(path, names), encoding="utf-8")
    os.replace(tmp, target)
    return target


def check_manifest(path: Path, required: list[str]) -> str:
    """Hash every file the manifest lists; return the manifest's own SHA-256 (the package's
    identity)."""
    manifest = path / MANIFEST_FILE
    if not manifest.is_file():
        raise ModelPackageError(
            f"{manifest}: missing, so the package's files cannot be checked; "
            "reinstall the model or export it again (exports write the manifest)."
        )
    try:
        data = manifest.read_bytes()
        lines = [line.split("  ", 1) for line in data.decode("utf-8").splitlines() if line.strip()]
        listed = {name: digest for digest, name in lines}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelPackageError(
            f"{manifest}: unreadable or malformed ({exc}); reinstall the model."
        ) from exc
    unlisted = [n for n in required if n not in listed]
    if unlisted:
        raise ModelPackageError(
            f"{manifest}: does not cover {', '.join(unlisted)}; reinstall the model."
        )
    for name, expected in listed.items():
        actual = file_sha256(_inside(path, name))
        if actual != expected:
            raise ModelPackageError(
                f"{path / name}: SHA-256 mismatch (the manifest says {expected[:12]}…, the file is "
                f"{actual[:12]}…); the file is damaged or was changed. Reinstall the model."
            )
    return hashlib.sha256(data).hexdigest()


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
    seal_package(path)
    return load_package(path)
