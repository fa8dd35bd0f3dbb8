"""Where the shipped data lives: ``models/`` and ``resources/`` beside the package, or in a bundle.

From a source checkout (plain or editable install) they sit in the project root, one level
above the ``allscope`` package. In a PyInstaller bundle the spec (``installer/allscope.spec``)
puts them at the top of the bundle's data folder, ``sys._MEIPASS``. Resolving both in one place
keeps every caller correct whichever way the app was started.
"""

from __future__ import annotations

import sys
from pathlib import Path


def is_frozen() -> bool:
    """True when running from a PyInstaller bundle rather than from Python sources."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def resource_root() -> Path:
    """The folder that holds ``models/`` and ``resources/``."""
    if is_frozen():
        return Path(sys._MEIPASS)  # type: ignore[attr-defined]  # set by the PyInstaller bootloader
    return Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """``resources/``: fonts, icons and ``colour_target.json``."""
    return resource_root() / "resources"


def default_model_dir() -> Path:
    """``models/default``: the model package the app uses when none is named."""
    return resource_root() / "models" / "default"
