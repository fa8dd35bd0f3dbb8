"""GUI tests keep sessions in a temporary data folder, never in the user's."""

import pytest


@pytest.fixture(autouse=True)
def session_data_dir(tmp_path, monkeypatch):
    """``ALLSCOPE_DATA_DIR`` for the test (subprocesses inherit it): the app's session store."""
    folder = tmp_path / "allscope-data"
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(folder))
    return folder
