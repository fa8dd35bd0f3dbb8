"""The tally of a batch run, each white cell counted once, with the cells it counted.

An image file (or a frame without a slide position) is a field of its own: each of its judged
cells is counted once. A video's frames show one slide: its cells are tracked there
(``CellTracker``, one per video) and each distinct cell is counted once. Every counted cell
gets one id for the whole run, and each field's cells carry theirs (``FieldCells.track_ids``,
None for a cell not counted), as the live pipeline's do. So a session that saves the run
(``SessionStore.record_tally`` with the counted cells, ``add_field`` with some fields) counts
the same cells as the run, and a review of a saved cell changes that cell's count.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from allscope.core.cells.classifier import CellCall
from allscope.core.cells.field import FieldCells
from allscope.core.cells.tally import DEFAULT_TARGET, Tally, tally_of
from allscope.core.cells.tracking import CellTracker, Track
from allscope.core.results import FieldResult


class BatchTally:
    """Counts the cells of a run's fields, given in input order; see the module docstring."""

    def __init__(
        self,
        classes: Sequence[str] = (),
        blast_class: str = "blast",
        target: int = DEFAULT_TARGET,
    ) -> None:
        self.classes, self.blast_class, self.target = tuple(classes), blast_class, target
        # by run id: an image cell's own track, or a video's tracker and its track id there
        self._counted: list[Track | tuple[CellTracker, int]] = []
        self._videos: dict[str, tuple[CellTracker, dict[int, int]]] = {}

    def add(self, result: FieldResult) -> FieldResult:
        """Count the field's judged cells; the result with each cell's run id."""
        cells = result.cells
        if cells is None or not cells.judged or not cells.calls:
            return result
        ids: list[int | None]
        if result.frame_index is None or result.origin is None:
            ids = [self._field_cell(call, cells.threshold) for call in cells.calls]
        else:
            ids = self._slide_cells(result.path or result.source, result.origin, cells)
        return dataclasses.replace(result, cells=dataclasses.replace(cells, track_ids=tuple(ids)))

    def _field_cell(self, call: CellCall, threshold: float) -> int:
        x, y = call.cell.centroid  # no slide position: the cell's place in its field
        track = Track(len(self._counted), float(x), float(y), float(call.cell.diameter_px))
        track.vote(call.probabilities, call.p_blast, threshold)
        self._counted.append(track)
        return track.id

    def _slide_cells(
        self, video: str, origin: tuple[float, float], cells: FieldCells
    ) -> list[int | None]:
        tracker, run_ids = self._videos.setdefault(
            video, (CellTracker(self.classes, self.blast_class), {})
        )
        ids: list[int | None] = []
        for track_id in tracker.update(origin, cells):
            if track_id is not None and track_id not in run_ids:
                run_ids[track_id] = len(self._counted)
                self._counted.append((tracker, track_id))
            ids.append(None if track_id is None else run_ids[track_id])
        return ids

    @property
    def tracks(self) -> list[Track]:
        """Every counted cell, its ``id`` the run id, in the order first seen."""
        tracks = []
        for run_id, entry in enumerate(self._counted):
            if isinstance(entry, Track):
                tracks.append(entry)
            else:
                tracker, track_id = entry
                tracks.append(dataclasses.replace(tracker.tracks[track_id], id=run_id))
        return tracks

    def tally(self) -> Tally:
        """Every counted cell seen whole, once, by its type."""
        labels = [t.label(self.blast_class) for t in self.tracks if t.sightings]
        return tally_of(labels, self.classes, self.blast_class, self.target)
