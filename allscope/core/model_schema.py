"""The schema of ``model.json``, declared once: every key's type and range.

``validate_meta`` returns the checked document or raises ``ValueError`` whose message names
each bad key ("temperature: must be greater than 0 (got 0)"). Numbers must be finite (no NaN,
no Infinity); text is never accepted where a number is expected; class names are unique; every
file a package names (IR, OOD statistics, CAM head) is a plain name inside the package.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from allscope.core.validation import (
    NonEmptyText,
    Number,
    Positive,
    Probability,
    Sha256,
    StrictBool,
    StrictInt,
    StrictStr,
    describe,
)

FORMAT_VERSION = 1
IR_FILES = ("model.xml", "model.bin")
MAX_INPUT_SIDE = 4096


def _plain_name(name: str) -> str:
    """A file of the package: no folders, no '..', no absolute path, no hidden name."""
    if (
        not name
        or "/" in name
        or "\\" in name
        or name in (".", "..")
        or name.startswith(".")
        or "\x00" in name
    ):
        raise ValueError(f"must be a file name inside the package, not a path ({name!r})")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class InputSchema(_Strict):
    width: StrictInt = Field(224, ge=1, le=MAX_INPUT_SIDE)
    height: StrictInt = Field(224, ge=1, le=MAX_INPUT_SIDE)
    color_order: Literal["RGB", "BGR"] = "RGB"
    layout: Literal["NCHW", "NHWC"] = "NCHW"
    mean: tuple[Number, Number, Number] = (0.0, 0.0, 0.0)
    std: tuple[Positive, Positive, Positive] = (255.0, 255.0, 255.0)
    masked: StrictBool = False


class OodSchema(_Strict):
    kind: Literal["energy", "feature"]
    threshold: Number
    temperature: Positive | None = None
    file: StrictStr | None = None
    sha256: Sha256 | None = None

    @field_validator("file")
    @classmethod
    def _inside(cls, name: str | None) -> str | None:
        return name if name is None else _plain_name(name)

    @model_validator(mode="after")
    def _feature_needs_file(self) -> OodSchema:
        if self.kind == "feature" and self.sha256 is None:
            raise ValueError("a 'feature' detector needs the sha256 of its statistics file")
        return self


class CamSchema(_Strict):
    file: StrictStr = "cam_head.npz"
    sha256: Sha256

    @field_validator("file")
    @classmethod
    def _inside(cls, name: str) -> str:
        return _plain_name(name)


class CropSchema(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True)  # a misspelt crop key changes crops

    scale: Number = Field(1.5, ge=0.5, le=6.0)
    suppress_background: StrictBool = False
    fill: tuple[StrictInt, StrictInt, StrictInt] = (208, 208, 208)


class SiteHeadSchema(_Strict):
    file: StrictStr
    sha256: Sha256
    summary: dict[str, Any] = Field(default_factory=dict)

    @field_validator("file")
    @classmethod
    def _inside(cls, name: str) -> str:
        return _plain_name(name)


class ModelSchema(_Strict):
    format: StrictInt = Field(FORMAT_VERSION, ge=1)
    name: NonEmptyText
    version: NonEmptyText
    architecture: NonEmptyText = "unknown"
    classes: list[NonEmptyText] = Field(min_length=2, max_length=100)
    kind: Literal["fields", "cells"] = "fields"
    benign_class: NonEmptyText = ""
    blast_class: NonEmptyText | None = None
    input: InputSchema
    output: Literal["logits", "probabilities"] = "logits"
    temperature: Positive = 1.0
    precision: NonEmptyText = "FP32"
    threshold: Probability = 0.5
    summary: dict[str, Any] = Field(default_factory=dict)
    files: dict[StrictStr, Sha256]
    ood: OodSchema | None = None
    cam: CamSchema | None = None
    crop: CropSchema | None = None
    site_head: SiteHeadSchema | None = None

    @field_validator("classes")
    @classmethod
    def _unique(cls, classes: list[str]) -> list[str]:
        repeated = sorted({c for c in classes if classes.count(c) > 1})
        if repeated:
            raise ValueError(f"class names must be unique; repeated: {', '.join(repeated)}")
        return classes

    @field_validator("files")
    @classmethod
    def _ir_files(cls, files: dict[str, str]) -> dict[str, str]:
        for name in files:
            _plain_name(name)
        missing = [n for n in IR_FILES if n not in files]
        if missing:
            raise ValueError(f"must give the SHA-256 of {', '.join(missing)}")
        return files

    @model_validator(mode="after")
    def _benign_is_a_class(self) -> ModelSchema:
        if self.kind == "cells":
            if self.blast_class is None or self.blast_class not in self.classes:
                raise ValueError(
                    f"blast_class {self.blast_class!r} is not one of the classes {self.classes}"
                )
            if self.crop is None:
                return self.model_copy(update={"crop": CropSchema.model_validate({})})
            return self
        if self.benign_class not in self.classes:
            raise ValueError(
                f"benign_class {self.benign_class!r} is not one of the classes {self.classes}"
            )
        return self


def validate_meta(text: str) -> ModelSchema:
    """Parse and check model.json's text; ValueError names every bad key and the rule it breaks."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise ValueError("the top level must be a JSON object")
    newer = raw.get("format")
    if isinstance(newer, int) and not isinstance(newer, bool) and newer > FORMAT_VERSION:
        raise ValueError(
            f"format {newer} is newer than this allscope understands ({FORMAT_VERSION}); "
            "update allscope"
        )
    try:
        return ModelSchema.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(describe(exc)) from exc
