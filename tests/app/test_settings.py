"""Settings: round trip, unknown keys, wrong types, corrupt files, directory resolution."""

import json

from allscope.app.settings import (
    SETTINGS_FILE,
    Settings,
    load_settings,
    save_settings,
    settings_dir,
)


def test_saved_settings_load_back_equal(tmp_path):
    settings = Settings(last_source="slide:/data/s1", display_mode="masked", plot_seconds=30.0)
    settings.policy["threshold"] = 0.7
    settings.session_info["operator"] = "Dr. Ēmilija Žukauskaitė"
    save_settings(settings, tmp_path)
    loaded, warnings = load_settings(tmp_path)
    assert warnings == []
    assert loaded == settings


def test_missing_file_gives_defaults_without_warning(tmp_path):
    assert load_settings(tmp_path / "nowhere") == (Settings(), [])


def test_corrupt_file_gives_defaults_a_warning_and_is_kept_aside(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text("{not json", encoding="utf-8")
    loaded, warnings = load_settings(tmp_path)
    assert loaded == Settings()
    assert len(warnings) == 1 and "could not be read" in warnings[0]
    assert (tmp_path / (SETTINGS_FILE + ".corrupt")).read_text(encoding="utf-8") == "{not json"
    assert not (tmp_path / SETTINGS_FILE).exists()


def test_unknown_keys_are_ignored_and_wrong_types_fall_back(tmp_path):
    data = {"future_option": 1, "last_source": "demo", "plot_seconds": "long",
            "policy": {"threshold": 0.8, "colour": "red"}, "display_mode": "sepia"}
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(data), encoding="utf-8")
    loaded, warnings = load_settings(tmp_path)
    assert loaded.last_source == "demo"
    assert loaded.plot_seconds == Settings().plot_seconds
    assert loaded.policy == {**Settings().policy, "threshold": 0.8}
    assert loaded.display_mode == "overlay"
    assert len(warnings) == 1 and "plot_seconds" in warnings[0] and "sepia" in warnings[0]


def test_directory_argument_beats_environment_beats_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLSCOPE_CONFIG_DIR", str(tmp_path / "env"))
    assert settings_dir(tmp_path / "arg") == tmp_path / "arg"
    assert settings_dir() == tmp_path / "env"
    monkeypatch.delenv("ALLSCOPE_CONFIG_DIR")
    assert settings_dir().name == "allscope"
