"""The live run with a cell model, end to end without Qt: a still field streams through the
real pipeline (tiny OpenVINO field and cell models), the flagged field is saved in a real
session store with its cells, and the store's reviewed tally starts from the live one."""

from __future__ import annotations

import sys
from pathlib import Path

from store_helpers import session_info
from trust_helpers import Repeat

from allscope.app.capture import FieldWriter
from allscope.app.live_run import LiveController
from allscope.app.session_fields import SessionFieldStore
from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier
from allscope.core.flags import FlagPolicy
from allscope.core.store import SessionStore
from allscope.testing import write_tiny_cells_package, write_tiny_package

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field


def test_a_flagged_field_is_saved_with_its_cells_and_the_tally_follows(tmp_path):
    field = Classifier(write_tiny_package(tmp_path / "field"), inference_precision="f32")
    cells = CellClassifier(write_tiny_cells_package(tmp_path / "cells"))
    image = discs_field([(50, 60), (140, 70), (100, 150)], radius=14)
    with SessionStore(tmp_path / "store") as store:
        sid = store.create_session(session_info())
        writer = FieldWriter(SessionFieldStore(store, sid))
        controller = LiveController(Repeat(image, 15), field, FlagPolicy(consecutive=2), writer,
                                    cell_classifier=cells)
        controller.start()
        assert controller.pipeline.wait(timeout=30)
        controller.stop()
        writer.close()
        assert controller.flags == 1
        saved = store.fields(sid)
        assert len(saved) == 1 and saved[0].flag is not None
        kept = store.cells(field_id=saved[0].id)
        assert len(kept) == 3 and all(c.track_id is not None and c.is_blast for c in kept)
        assert saved[0].flag.p_blast == max(c.p_blast for c in kept)
        store.record_tally(sid, controller.pipeline.cell_tracker)
        live = controller.pipeline.tally()
        assert (live.wbc, live.blasts) == (3, 3)
        assert store.cell_tally(sid).per_class == live.per_class
        store.review_cell(kept[0].id, "reclassify", "lymphocyte", reviewer="dr a")
        reviewed = store.cell_tally(sid)
        assert (reviewed.wbc, reviewed.blasts) == (3, 2)
