"""A model package's recorded figures (model.json ``summary``), and the rule that decides
whether a figure measured again with the shipped runtime agrees with the recorded one.

The rule: each recorded rate carries the 95% interval of its own measurement (``ci95``). A
re-measurement on the same fields can move only through fields whose score sits at the
threshold and moves with the CPU's kernels; on a deterministic subsample of ``m`` of those
fields it moves further by sampling. It agrees when its count lies inside the central 95% of
Binomial(m, p) for some p inside the recorded interval: from the 2.5th percentile at its low
end to the 97.5th at its high end. On the full split (m = n, no sampling) that is the recorded
interval itself. A larger change is more than the figure's own uncertainty: the package, the
runtime or the data has changed, and the card no longer describes what ships.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binom


@dataclass(frozen=True)
class Recorded:
    """One recorded rate: what it measures, on which split, k of n, and its 95% interval."""

    metric: str
    split: str
    hits: int
    n: int
    ci95: tuple[float, float]

    def agreeing_counts(self, m: int) -> tuple[int, int]:
        """The counts out of ``m`` that agree with this figure (see the module's rule)."""
        low, high = self.ci95
        if m == self.n:
            return math.ceil(low * m - 1e-9), math.floor(high * m + 1e-9)
        return int(binom.ppf(0.025, m, low)), int(binom.ppf(0.975, m, high))

    def check(self, hits: int, m: int) -> str:
        """A one-line comparison, printed by the tests so that a log shows both figures."""
        low, high = self.agreeing_counts(m)
        return (f"{self.metric} [{self.split}]: measured {hits}/{m}, recorded "
                f"{self.hits}/{self.n} (95% CI {self.ci95[0]:.3f}-{self.ci95[1]:.3f}); "
                f"agreeing counts {low}..{high}")

    def agrees(self, hits: int, m: int) -> bool:
        low, high = self.agreeing_counts(m)
        return low <= hits <= high


def recorded(entries: Sequence[dict], metric: str, split: str) -> Recorded:
    """The entry whose metric starts with ``metric`` and whose split starts with ``split``.

    ``k/n`` comes from its ``count`` (``"327/330"``), else from its value and the field count
    its split names (``"test blocks (330 ALL fields)"``).
    """
    found = [e for e in entries
             if e["metric"].startswith(metric) and e["split"].startswith(split)]
    assert len(found) == 1, (
        f"model.json should record one {metric!r} on {split!r}, found {len(found)}: "
        f"{[(e['metric'], e['split']) for e in entries]}")
    entry = found[0]
    assert "ci95" in entry, f"{metric!r} on {split!r} is recorded without its 95% interval"
    if "count" in entry:
        hits, n = (int(x) for x in str(entry["count"]).split("/"))
    else:
        size = re.search(r"\((\d+) [^)]*\)", entry["split"])
        assert size, f"{entry['split']!r} names no field count"
        n = int(size.group(1))
        hits = round(float(entry["value"]) * n)
    assert abs(hits / n - float(entry["value"])) < 1e-6, entry
    low, high = (float(x) for x in entry["ci95"])
    return Recorded(entry["metric"], entry["split"], hits, n, (low, high))
