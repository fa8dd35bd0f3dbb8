"""Flag policy: one flag per still dwell whose evidence stays above threshold, with hysteresis.

The evidence of a field is, when its cells were judged, its strongest P(blast) against the
cell package's threshold in force (suspicious = at least one cell called a blast); without
cells it is P(ALL) against the policy's threshold.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from allscope.core.results import FieldResult, Flag


@dataclass(frozen=True)
class FlagPolicy:
    """When a field is flagged.

    A dwell is flagged once P(ALL) ≥ ``threshold`` on ``consecutive`` classified, assessable
    frames in a row while the stage is still (when ``require_still``). The streak restarts
    only when P(ALL) falls below ``threshold - release`` (hysteresis), so a value hovering at
    the threshold neither flickers nor raises twice; a new flag needs a new dwell.
    """

    threshold: float = 0.5
    consecutive: int = 3
    release: float = 0.1
    require_still: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be within 0..1, got {self.threshold}")
        if self.consecutive < 1:
            raise ValueError(f"consecutive must be at least 1, got {self.consecutive}")
        if not 0.0 <= self.release <= 1.0:
            raise ValueError(f"release must be within 0..1, got {self.release}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlagPolicy:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class FlagTracker:
    """Feeds classified results through a FlagPolicy; not thread-safe (one per stream)."""

    def __init__(self, policy: FlagPolicy | None = None) -> None:
        self.policy = policy or FlagPolicy()
        self.flags: list[Flag] = []
        self._streak: list[FieldResult] = []
        self._raised = False
        self._above = False

    def new_dwell(self) -> None:
        """The stage moved: the next still field may be flagged again."""
        self._streak.clear()
        self._raised = False
        self._above = False

    def update(self, result: FieldResult, moving: bool = False) -> Flag | None:
        """Account for one result; return the new Flag when this result raises one."""
        if moving and self.policy.require_still:
            self.new_dwell()
            return None
        found = evidence(result, self.policy)
        if found is None:
            return None
        score, threshold = found
        policy = self.policy
        if score >= threshold:
            self._above = True
        elif score < threshold - policy.release:
            self._above = False
        if not self._above:
            self._streak.clear()
            return None
        if self._raised:
            self._extend(result)
            return None
        self._streak.append(result)
        if len(self._streak) < policy.consecutive:
            return None
        self._raised = True
        first = self._streak[0]
        flag = Flag(
            source=result.source, start_frame=first.frame_id, end_frame=result.frame_id,
            start_index=first.frame_index, end_index=result.frame_index,
            label=flag_label(result),
            p_all=result.p_all if result.p_all is not None else 0.0, result=result,
            p_blast=result.cells.p_blast_max if result.cells_judged and result.cells else None,
        )
        self.flags.append(flag)
        return flag

    def _extend(self, result: FieldResult) -> None:
        """Keep the open flag's end (and its strongest result) up to date during its dwell."""
        last = self.flags[-1]
        found, kept = evidence(result, self.policy), evidence(last.result, self.policy)
        best = result if found and (kept is None or found[0] > kept[0]) else last.result
        self.flags[-1] = dataclasses.replace(
            last, end_frame=result.frame_id, end_index=result.frame_index,
            p_all=best.p_all if best.p_all is not None else last.p_all,
            label=flag_label(best) or last.label, result=best,
            p_blast=best.cells.p_blast_max if best.cells_judged and best.cells else last.p_blast,
        )


def flag_label(result: FieldResult) -> str:
    """What a flag says it found: with cells, the subtype the field model reads (or "blast"
    when it cannot read one); without cells, the field model's class."""
    if result.cells is not None:
        return result.subtype or "blast"
    return result.label or ""


def evidence(result: FieldResult, policy: FlagPolicy) -> tuple[float, float] | None:
    """(score, threshold) of an assessable field: its strongest P(blast) against the cell
    threshold in force when a cell model ran, else P(ALL) against the policy's."""
    if not result.assessable:
        return None
    if result.cells is not None:  # cells not judged: "needs a look", shown, never flagged
        return (result.cells.p_blast_max, result.cells.threshold) if result.cells.judged else None
    if result.classified and result.p_all is not None:
        return result.p_all, policy.threshold
    return None
