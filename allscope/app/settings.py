"""Persistent application settings: one JSON file in the user's config directory.

Settings never block start-up: a missing file gives defaults, unknown keys are ignored, a
value of the wrong type falls back to its default, and a corrupt file is set aside (renamed
``settings.json.corrupt``) and replaced by defaults with a warning the window shows.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from allscope.core.quality import QualitySettings

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
ENV_DIR = "ALLSCOPE_CONFIG_DIR"
DISPLAY_MODES = ("raw", "overlay", "masked")


def default_policy() -> dict[str, Any]:
    """The flag policy the app starts with (the keys of ``allscope.core.flags.FlagPolicy``)."""
    return {"threshold": 0.5, "consecutive": 3, "release": 0.1, "require_still": True}


def default_quality() -> dict[str, Any]:
    """The quality gate's thresholds (the keys of ``allscope.core.quality.QualitySettings``)."""
    return QualitySettings().to_dict()


def quality_settings(data: dict[str, Any]) -> tuple[QualitySettings, str | None]:
    """The gate settings from the saved dict; defaults and a warning when a value is invalid."""
    try:
        return QualitySettings.from_dict(data), None
    except (TypeError, ValueError) as exc:
        return (
            QualitySettings(),
            f"The saved field-quality settings are invalid ({exc}); defaults are in use.",
        )


def default_session_info() -> dict[str, Any]:
    return {"patient_id": "", "slide_id": "", "operator": "", "lab": ""}


@dataclass
class Settings:
    """Everything the app remembers between runs."""

    geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()
    last_source: str = ""
    display_mode: str = "overlay"
    plot_seconds: float = 60.0
    policy: dict[str, Any] = field(default_factory=default_policy)
    session_info: dict[str, Any] = field(default_factory=default_session_info)
    camera: dict[str, Any] = field(default_factory=dict)  # control name -> value, resolution, fps
    # QualitySettings.to_dict() keys
    quality: dict[str, Any] = field(default_factory=default_quality)
    normalize_colour: bool = True  # bring frames toward the training colours before analysis
    lab_logo: str = ""  # image file drawn in the report header (optional)
    # objective name -> µm per pixel
    microns_per_pixel: dict[str, float] = field(default_factory=dict[str, float])
    objective: str = ""  # the objective in use (a key of microns_per_pixel)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> tuple[Settings, list[str]]:
        """Build settings from parsed JSON; returns them with a list of what was ignored."""
        defaults = cls()
        values, ignored = {}, []
        for f in fields(cls):
            if f.name not in data:
                continue
            value, default = data[f.name], getattr(defaults, f.name)
            if (
                isinstance(default, float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                value = float(value)
            if type(value) is not type(default):
                ignored.append(f"{f.name} (expected {type(default).__name__})")
                continue
            if isinstance(default, dict) and f.name in ("policy", "session_info", "quality"):
                value = {**default, **{k: v for k, v in value.items() if k in default}}
            values[f.name] = value
        settings = cls(**values)
        if settings.display_mode not in DISPLAY_MODES:
            ignored.append(f"display_mode {settings.display_mode!r}")
            settings.display_mode = defaults.display_mode
        return settings, ignored


def settings_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where settings live: the argument, else $ALLSCOPE_CONFIG_DIR, else the platform's dir."""
    if override:
        return Path(override)
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    return Path(platformdirs.user_config_dir("allscope"))


def load_settings(directory: str | os.PathLike[str] | None = None) -> tuple[Settings, list[str]]:
    """Read settings; returns (settings, warnings). Never raises for a bad or missing file."""
    path = settings_dir(directory) / SETTINGS_FILE
    if not path.exists():
        return Settings(), []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the top level is not a JSON object")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        kept = _set_aside(path)
        message = f"Settings file {path} could not be read ({exc}); defaults are in use."
        if kept:
            message += f" The old file was kept as {kept.name}."
        log.warning(message)
        return Settings(), [message]
    settings, ignored = Settings.from_dict(data)
    warnings = [f"Settings file {path}: ignored {', '.join(ignored)}."] if ignored else []
    return settings, warnings


def save_settings(settings: Settings, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write settings atomically (temporary file, then rename); returns the file's path."""
    folder = settings_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SETTINGS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps(settings.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, path)
    return path


def _set_aside(path: Path) -> Path | None:
    """Rename a corrupt file so it is neither lost nor read again; None if that fails."""
    target = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target
