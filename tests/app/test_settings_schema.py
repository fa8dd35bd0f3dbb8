"""settings.json checked key by key: one bad value costs only that value, named in words;
groups are checked entry by entry; a setting newer than the schema keeps its default's type."""

from __future__ import annotations

import json

import pytest

from allscope.app.settings import (
    SETTINGS_FILE,
    Settings,
    default_quality,
    load_settings,
    quality_settings,
)
from allscope.app.settings_schema import quality_field_names, validate_settings
from allscope.core.quality import QualitySettings

DEFAULTS = Settings().to_dict()


def test_every_group_keeps_its_good_entries_and_names_each_bad_one():
    data = {
        "camera": {"exposure": -6, "auto_white_balance": False, "fourcc": "MJPG", "fps": 12.5,
                   "roi": [0, 0, 10, 10]},
        "microns_per_pixel": {"40x": 0.25, "100x oil": 0},
        "quality": {"min_cells": 2, "min_sharpness": 1.5, "from_a_later_version": 1},
        "session_info": {"operator": "Dr. Ō", "lab": "x" * 1001},
    }
    values, problems = validate_settings(data, DEFAULTS)
    assert values["camera"] == {"exposure": -6, "auto_white_balance": False, "fourcc": "MJPG",
                                "fps": 12.5}
    assert values["microns_per_pixel"] == {"40x": 0.25}
    assert values["quality"] == {**default_quality(), "min_cells": 2}
    assert values["session_info"]["operator"] == "Dr. Ō"
    assert values["session_info"]["lab"] == ""
    assert [p.split(":")[0] for p in problems] == [
        "session_info.lab", "camera.roi", "quality.min_sharpness", "microns_per_pixel.100x oil",
    ]
    assert "must be a finite number, true/false or a short text (got [0, 0, 10, 10])" in problems[1]
    assert "min_sharpness must be within 0..1, got 1.5" in problems[2]


def test_a_group_that_is_not_an_object_takes_its_defaults():
    values, problems = validate_settings({"policy": [0.5], "quality": "strict"}, DEFAULTS)
    assert values["policy"] == DEFAULTS["policy"] and values["quality"] == DEFAULTS["quality"]
    assert problems == ["policy: must be an object (got list)",
                        "quality: must be an object (got str)"]


def test_a_setting_newer_than_the_schema_keeps_a_value_of_its_defaults_type():
    defaults = {**DEFAULTS, "zoom": 1.0, "pinned": False}
    values, problems = validate_settings({"zoom": 2, "pinned": "yes"}, defaults)
    assert values == {"zoom": 2.0, "pinned": False}
    assert problems == ["pinned: must be a bool (got 'yes')"]
    values, problems = validate_settings({"zoom": True}, defaults)  # a bool is not a number
    assert values == {"zoom": 1.0} and problems == ["zoom: must be a float (got True)"]


def test_the_gate_settings_come_back_with_a_warning_when_invalid():
    assert quality_settings({"min_cells": 4}) == (QualitySettings(min_cells=4), None)
    settings, warning = quality_settings({"min_sharpness": 3.0})
    assert settings == QualitySettings()
    assert warning.startswith("The saved field-quality settings are invalid (")
    assert warning.endswith("); defaults are in use.")
    assert quality_settings({"no_such_limit": 1})[0] == QualitySettings()
    assert quality_field_names() == list(QualitySettings().to_dict())


@pytest.mark.parametrize(
    ("data", "wording"),
    [({"plot_seconds": 1}, "This value is back to the default"),
     ({"plot_seconds": 1, "display_mode": "sepia"}, "These values are back to the default")],
)
def test_the_warning_says_how_many_values_went_back(tmp_path, data, wording):
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(data), encoding="utf-8")
    settings, [warning] = load_settings(tmp_path)
    assert settings == Settings()
    assert wording in warning and "change it in the app to save a new value" in warning


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"[1, 2]", "the top level is not a JSON object"),
     (b"\xff\xfe not utf-8", "codec can't decode"),
     (b"[" * 100_000 + b"]" * 100_000, "recursion")],
    ids=["a-list", "not-utf8", "nested-too-deep"],
)
def test_a_file_that_is_not_a_settings_object_is_set_aside(tmp_path, content, why):
    (tmp_path / SETTINGS_FILE).write_bytes(content)
    settings, [warning] = load_settings(tmp_path)
    assert settings == Settings()
    assert why in warning and "The old file was kept as settings.json.corrupt." in warning
    assert (tmp_path / (SETTINGS_FILE + ".corrupt")).read_bytes() == content
