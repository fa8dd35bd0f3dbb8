"""The capture writer on a real in-memory store: fields land in order in the store that was
current when they were taken, a full queue refuses instead of blocking, and every failure
reaches the outbox with words the user can read."""

from __future__ import annotations

import logging
import threading

from gui_helpers import field_with_cells, result

from allscope.app.capture import FieldWriter
from allscope.app.field_store import MemoryFieldStore

WAIT = 30.0  # seconds; only a hung writer gets near it


def settled(writer: FieldWriter) -> list:
    """Close the writer (it stores what is queued first) and return every outcome."""
    writer.close(timeout=WAIT)
    assert not writer.thread.is_alive()
    return writer.drain()


class Gate:
    """A classify step that holds the writer thread until the test opens the gate."""

    def __init__(self, value) -> None:
        self.value = value
        self.entered = threading.Event()
        self.open = threading.Event()

    def __call__(self):
        self.entered.set()
        assert self.open.wait(WAIT)
        return self.value


def test_fields_are_stored_in_order_and_drained_once():
    store = MemoryFieldStore()
    writer = FieldWriter(store)
    image, mask = field_with_cells()
    assert writer.submit("flag", image, mask, result(0.9, frame_id=1))
    assert writer.submit("manual", image, None, result(0.2, frame_id=2))
    outcomes = settled(writer)
    assert [(o.request.kind, o.record.id, o.error) for o in outcomes] == [
        ("flag", 1, None), ("manual", 2, None)
    ]
    assert [o.record.result.frame_id for o in outcomes] == [1, 2]
    assert writer.drain() == []
    assert len(store) == 2 and store.mask(2) is None


def test_a_hand_capture_is_stored_with_the_classification_made_on_the_writer_thread():
    store = MemoryFieldStore()
    writer = FieldWriter(store)
    image, mask = field_with_cells()
    threads = []

    def classify():
        threads.append(threading.current_thread())
        return result(0.75, frame_id=9)

    assert writer.submit("manual", image, mask, result(None, frame_id=9), classify=classify)
    [outcome] = settled(writer)
    assert threads == [writer.thread]
    assert outcome.record.result.p_all == 0.75
    assert store.record(outcome.record.id).result.p_all == 0.75


def test_a_full_queue_refuses_and_counts_without_blocking():
    writer = FieldWriter(MemoryFieldStore(), max_pending=1)
    image, mask = field_with_cells()
    gate = Gate(result(0.9))
    assert writer.submit("manual", image, mask, result(None), classify=gate)
    assert gate.entered.wait(WAIT)  # the writer holds the first request
    assert writer.submit("flag", image, mask, result(0.9))  # fills the queue of one
    assert writer.pending() == 1
    assert not writer.submit("flag", image, mask, result(0.9))
    assert not writer.submit("flag", image, mask, result(0.9))
    assert writer.refused == 2
    gate.open.set()
    assert [o.error for o in settled(writer)] == [None, None]


def test_a_field_taken_before_a_session_switch_lands_in_its_own_store():
    before, after = MemoryFieldStore(), MemoryFieldStore()
    writer = FieldWriter(before)
    image, mask = field_with_cells()
    gate = Gate(result(0.9, frame_id=1))
    assert writer.submit("manual", image, mask, result(None), classify=gate)
    assert gate.entered.wait(WAIT)
    writer.store = after  # the session changed while the first field was still being stored
    assert writer.submit("flag", image, mask, result(0.8, frame_id=2))
    gate.open.set()
    settled(writer)
    assert [r.result.frame_id for r, *_ in before.take_all()] == [1]
    assert [r.result.frame_id for r, *_ in after.take_all()] == [2]


def test_a_store_that_refuses_a_field_gives_an_outcome_with_its_reason(caplog):
    writer = FieldWriter(MemoryFieldStore(max_fields=1))
    image, mask = field_with_cells()
    with caplog.at_level(logging.ERROR, logger="allscope.app.capture"):
        assert writer.submit("flag", image, mask, result(0.9))
        assert writer.submit("flag", image, mask, result(0.9))
        first, second = settled(writer)
    assert first.record is not None and first.error is None
    assert second.record is None
    assert "1 fields are already held in memory without a session" in second.error
    assert "storing a flag field failed" in caplog.text


def test_an_exception_without_a_message_is_named_by_its_type():
    writer = FieldWriter(MemoryFieldStore())
    image, mask = field_with_cells()

    def classify():
        raise RuntimeError()

    assert writer.submit("manual", image, mask, result(None), classify=classify)
    [outcome] = settled(writer)
    assert outcome.error == "RuntimeError" and outcome.record is None


def test_after_close_nothing_more_is_taken_and_a_second_close_does_nothing():
    store = MemoryFieldStore()
    writer = FieldWriter(store)
    image, mask = field_with_cells()
    settled(writer)
    assert not writer.submit("flag", image, mask, result(0.9))
    writer.close()  # already closed: returns at once
    assert len(store) == 0 and writer.refused == 0


def test_a_writer_that_does_not_finish_in_time_is_logged(caplog):
    writer = FieldWriter(MemoryFieldStore())
    image, mask = field_with_cells()
    gate = Gate(result(0.9))
    assert writer.submit("manual", image, mask, result(None), classify=gate)
    assert gate.entered.wait(WAIT)
    with caplog.at_level(logging.ERROR, logger="allscope.app.capture"):
        writer.close(timeout=0.2)
    assert "field writer did not finish within 0.2 s" in caplog.text
    assert writer.thread.is_alive()
    gate.open.set()
    writer.thread.join(WAIT)
    assert not writer.thread.is_alive()
    [outcome] = writer.drain()
    assert outcome.error is None  # the field still reached the store


def test_the_outbox_keeps_only_the_newest_outcomes():
    writer = FieldWriter(MemoryFieldStore(), max_outbox=2)
    image, mask = field_with_cells()
    for frame in range(3):
        assert writer.submit("flag", image, mask, result(0.9, frame_id=frame))
    assert [o.request.result.frame_id for o in settled(writer)] == [1, 2]
