"""Shared validation rules (pydantic v2), written once for model.json and settings.json.

Each rule is a type: a field declared ``Probability`` accepts only finite numbers strictly
between 0 and 1, wherever it appears. :func:`describe` turns pydantic's errors into one line
per key ("input.width: must be greater than 0 (got -3)") so a message names what to fix.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

#: A finite number; JSON integers are accepted, text and booleans are not.
Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]
#: Strictly between 0 and 1: a probability threshold (0 would flag everything, 1 nothing).
Probability = Annotated[StrictFloat, Field(gt=0, lt=1, allow_inf_nan=False)]
#: Greater than 0 and finite: a temperature, a scale, a standard deviation.
Positive = Annotated[StrictFloat, Field(gt=0, allow_inf_nan=False)]
#: Between 0 and 1 inclusive: a fraction.
Fraction = Annotated[StrictFloat, Field(ge=0, le=1, allow_inf_nan=False)]
NonEmptyText = Annotated[StrictStr, Field(min_length=1, max_length=500)]
Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]

__all__ = [
    "Fraction",
    "NonEmptyText",
    "Number",
    "Positive",
    "Probability",
    "Sha256",
    "StrictBool",
    "StrictInt",
    "StrictStr",
    "describe",
]


def describe(exc: ValidationError, limit: int = 5) -> str:
    """One clause per failed key, e.g. ``temperature: must be greater than 0 (got 0)``."""
    parts = []
    for error in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].replace("Input should be", "must be").replace("Value error, ", "")
        got = error.get("input")
        shown = (
            "" if error["type"] == "missing" or isinstance(got, dict) else f" (got {_short(got)})"
        )
        parts.append(f"{loc}: {message}{shown}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
