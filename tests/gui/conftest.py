"""GUI tests keep sessions in a temporary data folder, never in the user's, and open main
windows that leave no thread behind."""

import threading

import pytest


@pytest.fixture(autouse=True)
def session_data_dir(tmp_path, monkeypatch):
    """``ALLSCOPE_DATA_DIR`` for the test (subprocesses inherit it): the app's session store."""
    folder = tmp_path / "allscope-data"
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(folder))
    return folder


def python_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()}


@pytest.fixture
def window_opener(qtbot):
    """``open(args, **create_app_options)``: a main window from ``create_app``, shown; after the
    test the windows are closed and no thread they started may be left running."""
    from allscope.gui.app import create_app

    before = python_threads()
    windows = []

    def _open(args, **options):
        _, window = create_app(args, **options)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield _open
    for window in windows:
        window.close()
    assert python_threads() <= before, f"threads left running: {python_threads() - before}"
