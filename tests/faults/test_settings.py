"""Settings faults: every key wrong-typed or out of range, and files that cannot be used.

A bad value falls back to its default and is named in one warning (the window's banner);
every other saved value is kept; a file that cannot be used is set aside, never lost; the app
always starts.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from allscope.app.settings import SETTINGS_FILE, Settings, load_settings

from .conftest import env_for

NAN = math.nan
GOOD = {
    "last_source": "slide:/kept",
    "policy": {"consecutive": 5},
    "quality": {"min_cells": 2},
    "session_info": {"operator": "Dr. Kept"},
    "camera": {"fps": 15},
    "microns_per_pixel": {"100x oil": 0.1},
}
KEPT = (
    "last_source",
    "policy.consecutive",
    "quality.min_cells",
    "session_info.operator",
    "camera.fps",
    "microns_per_pixel.100x oil",
)

CASES = [
    ("lab_logo", 5),
    ("objective", []),
    ("microns_per_pixel.40x", -0.2),
    ("microns_per_pixel.40x", "0.25"),
    ("microns_per_pixel.40x", NAN),
    ("microns_per_pixel", "0.1"),
    ("geometry", 5),
    ("window_state", []),
    ("last_source", {}),
    ("last_source", "x" * 5000),
    ("display_mode", "sepia"),
    ("display_mode", 3),
    ("plot_seconds", "long"),
    ("plot_seconds", -5),
    ("plot_seconds", NAN),
    ("plot_seconds", 1e9),
    ("normalize_colour", "yes"),
    ("normalize_colour", 1),
    ("policy.threshold", "abc"),
    ("policy.threshold", 7),
    ("policy.threshold", 0),
    ("policy.threshold", -1),
    ("policy.threshold", None),
    ("policy.threshold", NAN),
    ("policy.release", 2),
    ("policy.release", "x"),
    ("policy.require_still", "no"),
    ("policy", "strict"),
    ("policy", [0.5]),
    ("session_info.patient_id", 5),
    ("session_info.operator", ["x"]),
    ("session_info", "Dr. X"),
    ("camera.width", [1]),
    ("camera.gain", NAN),
    ("camera.exposure", {"auto": 1}),
    ("camera", 640),
    ("quality.min_sharpness", 2),
    ("quality.min_sharpness", "x"),
    ("quality.reblur_fraction", 0),
    ("quality.max_shift", -1),
    ("quality.min_match", 5),
    ("quality.max_highlights", 2),
    ("quality.max_shadows", -0.5),
    ("quality.min_background", 300),
    ("quality.min_background", "bright"),
    ("quality.min_cells", -1),
    ("quality.min_cells", 1.5),
    ("quality.analysis_side", 8),
    ("quality.cell_px", 1),
    ("quality.cell_px", None),
    ("quality.reject_moving", "no"),
    ("quality", True),
]


def _write(folder, data) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SETTINGS_FILE).write_text(json.dumps(data, allow_nan=True), encoding="utf-8")


def _with(key: str, value: object) -> dict:
    data = json.loads(json.dumps(GOOD))
    group, _, sub = key.partition(".")
    if sub:
        data.setdefault(group, {})[sub] = value
    else:
        data[group] = value
    return data


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{k}={json.dumps(v, allow_nan=True)[:16]}" for k, v in CASES]
)
def test_a_bad_value_falls_back_alone_and_is_named_once(case, tmp_path):
    key, value = case
    _write(tmp_path, _with(key, value))
    settings, warnings = load_settings(tmp_path)
    defaults = Settings()
    group, _, sub = key.partition(".")
    if sub:
        assert getattr(settings, group).get(sub) == getattr(defaults, group).get(sub), settings
    elif group not in GOOD:
        assert getattr(settings, group) == getattr(defaults, group)
    assert len(warnings) == 1 and key in warnings[0] and "default" in warnings[0], warnings
    assert str(tmp_path / SETTINGS_FILE) in warnings[0]
    for name in KEPT:
        g, _, s = name.partition(".")
        if g == group and (not sub or not s or s == sub):
            continue  # the value under test, or the whole group it replaced
        now = getattr(settings, g)[s] if s else getattr(settings, g)
        assert now == (GOOD[g][s] if s else GOOD[g]), (name, now)
    assert (
        tmp_path / SETTINGS_FILE
    ).is_file()  # a readable file is not set aside for one bad value


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b"\xff\xfe\x00garbage", b"", b"null", b"[" * 100000],
    ids=["broken", "list", "binary", "empty", "null", "deep"],
)
def test_an_unusable_file_is_set_aside_and_defaults_are_used(content, tmp_path):
    (tmp_path / SETTINGS_FILE).write_bytes(content)
    settings, warnings = load_settings(tmp_path)
    assert settings == Settings()
    assert (
        len(warnings) == 1 and "could not be read" in warnings[0] and SETTINGS_FILE in warnings[0]
    )
    assert (tmp_path / (SETTINGS_FILE + ".corrupt")).read_bytes() == content


def test_a_second_unusable_file_does_not_replace_the_first_one_set_aside(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text("{first")
    load_settings(tmp_path)
    (tmp_path / SETTINGS_FILE).write_text("{second")
    load_settings(tmp_path)
    kept = sorted(
        p.read_text() for p in tmp_path.iterdir() if p.name.startswith(SETTINGS_FILE + ".corrupt")
    )
    assert kept == ["{first", "{second"]


def test_a_folder_in_place_of_the_settings_file_does_not_stop_loading(tmp_path):
    (tmp_path / SETTINGS_FILE).mkdir()
    settings, warnings = load_settings(tmp_path)
    assert settings == Settings() and len(warnings) == 1 and SETTINGS_FILE in warnings[0]


def _start_app(tmp_path, config) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "allscope",
            "--demo",
            "--quit-after",
            "1",
            "--settings-dir",
            str(config),
            "--model",
            str(tmp_path / "no-model"),
        ],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "data",
    [
        {"policy": {"threshold": "abc"}},
        {"quality": {"min_sharpness": "x"}},
        {"plot_seconds": "long", "camera": {"width": [1]}},
    ],
    ids=["threshold-abc", "quality-text", "two-bad-keys"],
)
def test_the_app_always_starts(data, tmp_path):
    """Before the fix, a threshold of "abc" stopped the app on every start."""
    config = tmp_path / "config"
    _write(config, data)
    done = _start_app(tmp_path, config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "display_fps" in json.loads(
        done.stdout.strip().splitlines()[-1]
    )  # it ran, then quit as asked
    saved = json.loads((config / SETTINGS_FILE).read_text())  # saved again, now valid
    assert Settings.from_dict(saved)[1] == []


def test_the_window_names_the_bad_key_in_its_banner(tmp_path, qtbot, monkeypatch):
    from allscope.gui.app import create_app

    config = tmp_path / "config"
    _write(config, {"policy": {"threshold": "abc", "consecutive": 4}})
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    _, window = create_app(
        ["--demo", "--settings-dir", str(config), "--model", str(tmp_path / "none")],
        source_options={"width": 320, "height": 240},
    )
    qtbot.addWidget(window)
    try:
        texts = [m.what for m in window.banner.messages()]
        assert sum("policy.threshold" in t for t in texts) == 1, texts
        assert (
            window.settings.policy["consecutive"] == 4
            and window.settings.policy["threshold"] == 0.5
        )
    finally:
        window.close()
        window.shutdown()
