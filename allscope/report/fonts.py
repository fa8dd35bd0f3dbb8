"""The shipped report fonts (resources/fonts): Latin, Arabic/Persian and CJK in one family list.

Registering them makes a report look the same on every machine and render names in any of
these scripts, whatever fonts the system has. Qt picks, per character, the first family in
:func:`report_font`'s list that has the glyph.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase

from allscope.paths import fonts_dir

FONT_FILES = (
    "NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoSansArabic-Regular.ttf",
    "NotoSansArabic-Bold.ttf", "DroidSansFallbackFull.ttf",
)

_lock = threading.Lock()
_families: list[str] | None = None


def font_dir() -> Path:
    """resources/fonts in a source tree, or in the data folder of a frozen bundle."""
    return fonts_dir()


def register_fonts() -> list[str]:
    """Register the shipped fonts once; return their family names in fallback order.

    Needs a QGuiApplication. Missing font files are skipped (the system's fonts are then used
    for those scripts) so a damaged install still produces a report.
    """
    global _families
    with _lock:
        if _families is not None:
            return _families
        families: list[str] = []
        for name in FONT_FILES:
            path = font_dir() / name
            if not path.is_file():
                continue
            font_id = QFontDatabase.addApplicationFont(str(path))
            for family in QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []:
                if family not in families:
                    families.append(family)
        _families = families
        return families


def report_font(point_size: float, bold: bool = False) -> QFont:
    """A font for report text, falling back across the shipped families by script."""
    font = QFont()
    families = register_fonts()
    if families:
        font.setFamilies(families)
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font
