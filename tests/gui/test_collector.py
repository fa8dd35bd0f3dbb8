"""Cycles dropped on worker threads are collected on the GUI thread while a window is open."""

from __future__ import annotations

import gc
import threading

from allscope.gui.app import create_app
from allscope.gui.collector import GuiThreadCollector


class _Cycle:
    """A reference cycle that records the thread its finaliser ran on."""

    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def _drop_cycles_and_allocate(seen: list[str], kept: list) -> None:
    for _ in range(20):
        _Cycle(seen)
    # keep container objects allocated well past the youngest generation's threshold
    kept.extend([i] for i in range(gc.get_threshold()[0] * 50))


def test_cycles_from_a_worker_thread_die_on_the_gui_thread(qtbot, qapp):
    gc.collect()
    seen: list[str] = []
    kept: list = []
    collector = GuiThreadCollector(qapp)
    try:
        assert not gc.isenabled()
        worker = threading.Thread(
            target=_drop_cycles_and_allocate, args=(seen, kept), name="allscope-process"
        )
        worker.start()
        worker.join()
        assert seen == []  # the worker allocated past the thresholds and collected nothing
        qtbot.waitUntil(lambda: len(seen) == 20, timeout=10_000)
        assert set(seen) == {threading.main_thread().name}
    finally:
        collector.stop()
    assert gc.isenabled()


def test_collection_is_back_on_only_when_the_last_window_closes(qapp):
    first, second = GuiThreadCollector(qapp), GuiThreadCollector(qapp)
    first.stop()
    first.stop()  # idempotent: does not count twice
    assert not gc.isenabled()
    second.stop()
    assert gc.isenabled()


def test_a_window_collects_on_its_thread_and_hands_collection_back(qtbot, tmp_path):
    args = ["--demo", "--settings-dir", str(tmp_path / "settings"),
            "--model", str(tmp_path / "no-model"), "--no-cell-model"]
    _, window = create_app(args, source_options={"width": 640, "height": 360})
    qtbot.addWidget(window)
    try:
        assert not gc.isenabled()
    finally:
        window.shutdown()
    assert gc.isenabled()
