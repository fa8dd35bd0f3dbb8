"""The schema of settings.json: each key's type and range, checked key by key.

One bad value costs only that value: it falls back to its default and is named in the warning
("policy.threshold: must be less than 1 (got 7)"); every other key keeps what the user saved.
Numeric rules are the shared types of ``allscope.core.validation`` (the same ``Probability``
as model.json's threshold); the quality gate's ranges are those of ``QualitySettings`` itself.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from allscope.core.quality import QualitySettings
from allscope.core.validation import (
    Fraction,
    Number,
    Positive,
    Probability,
    StrictBool,
    StrictInt,
    StrictStr,
    describe,
)

DisplayMode = Literal["raw", "overlay", "masked"]
Text = Annotated[StrictStr, Field(max_length=1000)]


class PolicySchema(BaseModel):
    threshold: Probability = 0.5
    consecutive: StrictInt = Field(default=3, ge=1, le=1000)
    release: Fraction = 0.1
    require_still: StrictBool = True


class SessionInfoSchema(BaseModel):
    patient_id: Text = ""
    slide_id: Text = ""
    operator: Text = ""
    lab: Text = ""


class SettingsSchema(BaseModel):
    geometry: Annotated[StrictStr, Field(max_length=100_000)] = ""
    window_state: Annotated[StrictStr, Field(max_length=100_000)] = ""
    last_source: Text = ""
    display_mode: DisplayMode = "overlay"
    plot_seconds: Annotated[Number, Field(ge=5, le=3600)] = 60.0
    policy: PolicySchema = PolicySchema()
    session_info: SessionInfoSchema = SessionInfoSchema()
    camera: dict[str, Any] = {}  # control name -> value, checked entry by entry
    quality: dict[str, Any] = {}
    normalize_colour: StrictBool = True
    lab_logo: Text = ""
    microns_per_pixel: dict[str, Any] = {}  # objective name -> µm per pixel, entry by entry
    objective: Text = ""


_GROUPS = ("quality", "camera", "microns_per_pixel")  # free-form objects checked entry by entry
_NESTED: dict[str, type[BaseModel]] = {"policy": PolicySchema, "session_info": SessionInfoSchema}
_QUALITY_TYPES: dict[str, Any] = {"float": Number, "int": StrictInt, "bool": StrictBool}


def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    form: Any = Annotated[info.annotation, info]  # the field's type with its constraints
    return TypeAdapter(form)


def validate_settings(
    data: dict[str, Any], defaults: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Each key of ``data`` checked on its own; returns (values to use, one problem per bad key)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name in defaults:
        if name not in data:
            continue
        if name not in SettingsSchema.model_fields:  # a setting newer than this schema
            values[name], problem = _same_type(name, data[name], defaults[name])
            problems += [problem] if problem else []
            continue
        if name in _NESTED or name in _GROUPS:
            sub, sub_problems = _validate_group(name, data[name], defaults[name])
            values[name] = sub
            problems += sub_problems
            continue
        try:
            values[name] = _adapter(SettingsSchema, name).validate_python(data[name])
        except ValidationError as exc:
            problems.append(f"{name}: {_reason(exc)}")
    return values, problems


def _validate_group(
    name: str, group: object, default: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A nested object key by key: a bad entry takes its default, the rest are kept."""
    if not isinstance(group, dict):
        return dict(default), [f"{name}: must be an object (got {type(group).__name__})"]
    merged, problems = dict(default), []
    for key, value in group.items():
        if key not in default and name not in ("camera", "microns_per_pixel"):
            continue  # from another version of allscope
        try:
            merged[key] = _check_entry(name, key, value, merged)
        except (ValidationError, ValueError, TypeError) as exc:
            problems.append(f"{name}.{key}: {_reason(exc)}")
    return merged, problems


def _check_entry(group: str, key: str, value: object, current: dict[str, Any]) -> object:
    if group == "microns_per_pixel":  # objective name -> a scale
        return TypeAdapter(Positive).validate_python(value)
    if group == "camera":  # control name -> a number, a switch or a mode name
        kinds: tuple[Any, ...] = (
            StrictBool,
            StrictInt,
            Number,
            Annotated[StrictStr, Field(max_length=100)],
        )
        for kind in kinds:
            try:
                return TypeAdapter(kind).validate_python(value)
            except ValidationError:
                continue
        raise ValueError(f"must be a finite number, true/false or a short text (got {value!r:.60})")
    if group in _NESTED:
        return _adapter(_NESTED[group], key).validate_python(value)
    kind = get_type_hints(QualitySettings)[key]
    rule: Any = _QUALITY_TYPES[getattr(kind, "__name__", str(kind))]
    value = TypeAdapter(rule).validate_python(value)
    QualitySettings(**{**current, key: value})  # the gate's own range rules
    return value


def _same_type(name: str, value: object, default: object) -> tuple[object, str | None]:
    """A setting the schema does not describe yet: kept if it has its default's type."""
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is type(default):
        return value, None
    return default, f"{name}: must be a {type(default).__name__} (got {value!r:.60})"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return describe(exc).split(": ", 1)[-1]
    return str(exc)


def quality_field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(QualitySettings)]
