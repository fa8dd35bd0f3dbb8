"""Where the shipped data lives: ``models/`` and ``resources/`` beside the package, or in a bundle.

From a source checkout (plain or editable install) they sit in the project root, one level
above the ``allscope`` package. In a PyInstaller bundle the spec (``installer/allscope.spec``)
puts them at the top of the bundle's data folder, ``sys._MEIPASS``. Resolving both in one place
keeps every caller correct whichever way the app was started.

The data and weights that are never shipped (training fields, BCCD, ImageNet weights) live in
one folder named by the ``ALLSCOPE_SHARED`` environment variable, by default ``../shared``
beside the checkout; ``shared_dir`` is the only place that knows this.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SHARED_ENV = "ALLSCOPE_SHARED"


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


def default_cell_model_dir() -> Path:
    """``models/cells``: the cell classifier package used when none is named."""
    return resource_root() / "models" / "cells"


def fonts_dir() -> Path:
    """``resources/fonts``: the fonts the PDF report embeds."""
    return resources_dir() / "fonts"


def shared_dir() -> Path:
    """The folder of unshipped data and weights: ``$ALLSCOPE_SHARED``, else ``../shared``.

    May not exist (an installed app, a CI without data); callers check and say what is missing.
    """
    configured = os.environ.get(SHARED_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(__file__).resolve().parents[1].parent / "shared"


def shared_data_dir() -> Path:
    """``<shared>/data``: training fields (``all-fields``), ``bccd`` and the splits."""
    return shared_dir() / "data"


def shared_weights_dir() -> Path:
    """``<shared>/weights``: ImageNet weights used to initialise training and the bench."""
    return shared_dir() / "weights"
