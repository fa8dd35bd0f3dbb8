"""Each white cell counted once per slide: cells placed in slide coordinates and re-identified.

The live pipeline measures the stage motion between consecutive frames (phase correlation,
``allscope.core.motion``); summing those shifts gives each frame's ``origin``, the slide
position of its top-left pixel, so a cell's slide position is ``origin + centroid``.

A cell seen again is the track whose last position lies within ``gate`` × the larger of the
two diameters and whose diameter differs by at most the factor ``size_ratio``; pairs are
taken nearest first, one track per cell and one cell per track. The last position of a track
follows every sighting, so slow drift of the summed shifts does not break a track while it
stays in view. A cell touching the frame border is partly hidden (its centre and size are
wrong): it may continue a track but never starts one and never votes, so a cell entering the
view is counted once it is whole. A track's type comes from the mean of its whole sightings.

Limits: a view that jumps further than phase correlation can follow (more than about half a
frame between two processed frames), or a return to an area after long drift, can count a
cell twice; neighbouring cells closer than ``gate`` × diameter can be merged.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from allscope.core.cells.field import FieldCells
from allscope.core.cells.tally import DEFAULT_TARGET, Tally, called_label, tally_of

GATE = 0.6  # re-identification radius as a fraction of the cell diameter
SIZE_RATIO = 1.6  # the largest diameter ratio of two sightings of one cell


@dataclass
class Track:
    """One distinct cell of the slide and what its whole sightings said."""

    id: int
    x: float
    y: float
    diameter: float
    sightings: int = 0
    probability_sums: dict[str, float] = field(default_factory=dict)
    p_blast_sum: float = 0.0
    threshold: float = 0.5

    @property
    def p_blast(self) -> float:
        return self.p_blast_sum / self.sightings if self.sightings else 0.0

    def label(self, blast_class: str) -> str:
        mean = {k: v / self.sightings for k, v in self.probability_sums.items()}
        return called_label(mean, self.p_blast >= self.threshold, blast_class)

    def vote(self, probabilities: dict[str, float], p_blast: float, threshold: float) -> None:
        """Add one whole sighting's verdict."""
        self.sightings += 1
        for name, p in probabilities.items():
            self.probability_sums[name] = self.probability_sums.get(name, 0.0) + p
        self.p_blast_sum += p_blast
        self.threshold = threshold


class CellTracker:
    """Re-identifies cells across frames and dwells; thread-safe. See the module docstring."""

    def __init__(
        self,
        classes: Sequence[str] = (),
        blast_class: str = "blast",
        *,
        gate: float = GATE,
        size_ratio: float = SIZE_RATIO,
        target: int = DEFAULT_TARGET,
    ) -> None:
        self.classes, self.blast_class = tuple(classes), blast_class
        self.gate, self.size_ratio, self.target = gate, size_ratio, target
        self._lock = threading.Lock()
        self.tracks: list[Track] = []
        self._xy = np.empty((0, 2))
        self._d = np.empty(0)

    def reset(self) -> None:
        """A new slide: forget every cell."""
        with self._lock:
            self.tracks, self._xy, self._d = [], np.empty((0, 2)), np.empty(0)

    def update(self, origin: tuple[float, float], cells: FieldCells) -> list[int | None]:
        """Account for one field's judged cells; the track id of each (None: not counted)."""
        if not cells.judged or not cells.calls:
            return [None] * len(cells.calls)
        with self._lock:
            return self._update(origin, cells)

    def _update(self, origin: tuple[float, float], cells: FieldCells) -> list[int | None]:
        calls = cells.calls
        xy = np.array([c.cell.centroid for c in calls], np.float64) + np.asarray(origin)
        d = np.array([c.cell.diameter_px for c in calls], np.float64)
        border = np.array([c.cell.touches_border for c in calls])
        ids: list[int | None] = [None] * len(calls)
        for i, t in self._pairs(xy, d, border):
            ids[i] = self.tracks[t].id
        for i, call in enumerate(calls):
            if ids[i] is None and not border[i]:
                ids[i] = self._new_track(xy[i], d[i])
            index = ids[i]
            if index is None:
                continue
            track = self.tracks[index]
            track.x, track.y = float(xy[i][0]), float(xy[i][1])
            self._xy[index] = xy[i]
            if not border[i]:
                track.diameter = self._d[index] = float(d[i])
                track.vote(call.probabilities, call.p_blast, cells.threshold)
        return ids

    def _pairs(self, xy: np.ndarray, d: np.ndarray, border: np.ndarray) -> list[tuple[int, int]]:
        """(cell, track) pairs that pass the gates, nearest first, each side used once."""
        if not self.tracks:
            return []
        distance = np.linalg.norm(xy[:, None, :] - self._xy[None, :, :], axis=2)
        larger = np.maximum(d[:, None], self._d[None, :])
        ratio = larger / np.maximum(np.minimum(d[:, None], self._d[None, :]), 1e-6)
        ok = (distance <= self.gate * larger) & ((ratio <= self.size_ratio) | border[:, None])
        cells, tracks = np.nonzero(ok)
        order = np.argsort(distance[cells, tracks], kind="stable")
        used_cells, used_tracks, pairs = set(), set(), []
        for k in order:
            i, t = int(cells[k]), int(tracks[k])
            if i not in used_cells and t not in used_tracks:
                used_cells.add(i)
                used_tracks.add(t)
                pairs.append((i, t))
        return pairs

    def _new_track(self, xy: np.ndarray, diameter: float) -> int:
        track = Track(len(self.tracks), float(xy[0]), float(xy[1]), float(diameter))
        self.tracks.append(track)
        self._xy = np.vstack([self._xy, xy[None, :]])
        self._d = np.append(self._d, diameter)
        return track.id

    def counted(self) -> int:
        """Distinct cells seen whole so far (cheaper than ``tally().wbc``)."""
        with self._lock:
            return sum(1 for t in self.tracks if t.sightings)

    def tally(self) -> Tally:
        """Every distinct cell seen whole so far, once, by its type."""
        with self._lock:
            labels = [t.label(self.blast_class) for t in self.tracks if t.sightings]
        return tally_of(labels, self.classes, self.blast_class, self.target)
