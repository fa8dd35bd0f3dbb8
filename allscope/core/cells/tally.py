"""The slide tally, like a manual differential: white cells examined, count per type, blasts.

A cell's type in the tally is ``blast`` when it is called a blast (P(blast) at or above the
threshold in force), else its most probable other class (``called_label``); so the counts
per type add up to the white cells examined and the blast count is the ``blast`` entry.
The blast fraction comes with a Wilson score 95% interval, which stays inside 0..1 and is
honest for small counts (a 0/20 tally is not "0% ± 0").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TARGET = 100  # cells, as in a manual 100-cell differential
Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95% interval


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def called_label(
    probabilities: Mapping[str, float], is_blast: bool, blast_class: str = "blast"
) -> str:
    """``blast_class`` for a cell called a blast, else its most probable other class."""
    if is_blast:
        return blast_class
    others = {k: v for k, v in probabilities.items() if k != blast_class}
    return max(others, key=lambda k: others[k]) if others else blast_class


@dataclass(frozen=True)
class Tally:
    """Counts of one slide (or one batch of fields)."""

    wbc: int
    blasts: int
    per_class: dict[str, int] = field(default_factory=dict)
    target: int = DEFAULT_TARGET

    @property
    def blast_fraction(self) -> float | None:
        return self.blasts / self.wbc if self.wbc else None

    @property
    def ci95(self) -> tuple[float, float]:
        """Wilson 95% interval of the blast fraction; (0, 1) before any cell is counted."""
        return wilson_interval(self.blasts, self.wbc)

    @property
    def complete(self) -> bool:
        """The target count of white cells has been reached ("count complete")."""
        return self.wbc >= self.target

    def announcement(self) -> str | None:
        return f"count complete: {self.wbc} white cells examined" if self.complete else None

    def to_dict(self) -> dict[str, Any]:
        """The ``tally`` object of the JSON exports."""
        ci = self.ci95 if self.wbc else None
        return {
            "wbc": self.wbc,
            "blasts": self.blasts,
            "blast_fraction": None
            if self.blast_fraction is None
            else round(self.blast_fraction, 6),
            "ci95": None if ci is None else [round(ci[0], 6), round(ci[1], 6)],
            "per_class": dict(self.per_class),
            "target": self.target,
            "complete": self.complete,
        }


def tally_of(
    labels: Iterable[str],
    classes: Iterable[str] = (),
    blast_class: str = "blast",
    target: int = DEFAULT_TARGET,
) -> Tally:
    """The tally of cells given by their called labels (``called_label``), each counted once.

    ``classes`` lists types to show with a zero count when none was seen.
    """
    if target < 1:
        raise ValueError(f"the target count must be at least 1, got {target}")
    per_class = dict.fromkeys(classes, 0)
    for label in labels:
        per_class[label] = per_class.get(label, 0) + 1
    wbc = sum(per_class.values())
    return Tally(wbc, per_class.get(blast_class, 0), per_class, target)
