"""A source that cannot be opened: its error stays up, and it is never remembered."""

import json

from test_main_window import WAIT_MS, open_window, wait_for_frames  # noqa: F401 - fixture

from allscope.app.settings import SETTINGS_FILE
from allscope.core.frames import SourceError
from allscope.core.sources import open_source


def test_a_file_that_is_neither_video_nor_image_says_so(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    try:
        open_source(str(notes))
    except SourceError as exc:
        assert "neither a video" in str(exc) and "notes.txt" in str(exc)
    else:
        raise AssertionError("a text file must not open as a source")


def test_failed_source_stays_on_the_banner_and_is_not_saved_as_last_source(
    qtbot, open_window, tmp_path  # noqa: F811 - the fixture imported above
):
    settings_dir = tmp_path / "settings"
    missing = tmp_path / "missing.avi"
    window = open_window("--source", str(missing), settings_dir=settings_dir)
    qtbot.waitUntil(lambda: "Could not open" in window.banner.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT_MS)  # the demo, meanwhile
    wait_for_frames(qtbot, window, 5)
    assert str(missing) in window.banner.text()  # still up after the demo started
    assert window.settings.last_source == ""
    window.close()
    saved = json.loads((settings_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert saved["last_source"] == ""
