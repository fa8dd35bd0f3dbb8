"""Persistent application settings: one JSON file in the user's config directory.

Settings never block start-up: a missing file gives defaults, unknown keys are ignored, a
value of the wrong type falls back to its default, and a corrupt file is set aside (renamed
``settings.json.corrupt``) and replaced by defaults with a warning the window shows.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from allscope.app.settings_schema import validate_settings
from allscope.core.quality import QualitySettings
from allscope.core.store.files import atomic_write

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
    normalize_colour: bool = True  # mask and field model on training-like colours (cells: recorded)
    lab_logo: str = ""  # image file drawn in the report header (optional)
    # objective name -> µm per pixel
    microns_per_pixel: dict[str, float] = field(default_factory=dict[str, float])
    objective: str = ""  # the objective in use (a key of microns_per_pixel)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> tuple[Settings, list[str]]:
        """Settings from parsed JSON, each key checked on its own (``settings_schema``); a bad
        value falls back to its default. Returns the settings and one entry per bad key."""
        values, problems = validate_settings(data, cls().to_dict())
        return cls(**values), problems


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
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        kept = _set_aside(path)
        message = f"Settings file {path} could not be read ({exc}); defaults are in use."
        if kept:
            message += f" The old file was kept as {kept.name}."
        log.warning(message)
        return Settings(), [message]
    settings, problems = Settings.from_dict(data)
    if not problems:
        return settings, []
    message = (
        f"Settings file {path}: {'; '.join(problems)}. "
        f"{'This value is' if len(problems) == 1 else 'These values are'} back to the default; "
        "change it in the app to save a new value."
    )
    log.warning(message)
    return settings, [message]


def save_settings(settings: Settings, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write settings atomically (temporary file, then rename); returns the file's path."""
    folder = settings_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SETTINGS_FILE
    data = json.dumps(settings.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return atomic_write(path, data.encode("utf-8"), overwrite=True)


def _set_aside(path: Path) -> Path | None:
    """Rename a corrupt file so it is neither lost nor read again; None if that fails."""
    target = path.with_name(path.name + ".corrupt")
    n = 2
    while target.exists() or target.is_symlink():  # an earlier unusable file is kept too
        target = path.with_name(f"{path.name}.corrupt-{n}")
        n += 1
    try:
        os.replace(path, target)
    except OSError:
        return None
    return target
