"""Text that came from outside (file names, patient IDs, comments) made safe to show or save.

- ``printable``: a file name that is not valid UTF-8 (Python keeps its bytes as surrogates)
  becomes valid text with each bad byte shown as ``\\xNN``; JSON, CSV, SQLite and PDFs accept it.
- ``for_terminal``: control characters and escape sequences are shown, never obeyed, so a
  stored name cannot move the cursor, retitle the window or hide other lines.
- ``without_bidi``: Unicode direction overrides (U+202E and friends) are made visible, so a
  stored name cannot reverse the text around it in a report.
- ``spreadsheet_cell``: text a spreadsheet would run as a formula is prefixed with a quote.
"""

from __future__ import annotations

import os
import re
import unicodedata

#: Directional formatting characters: embeddings, overrides, isolates and marks.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_SURROGATE = re.compile("[\udc80-\udcff]")


def printable(text: str) -> str:
    """``text`` as valid UTF-8: undecodable file-name bytes become ``\\xNN``."""
    if not _SURROGATE.search(text):
        return text
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def without_bidi(text: str) -> str:
    """Direction controls replaced by their visible code (``<U+202E>``)."""
    return "".join(f"<U+{ord(c):04X}>" if c in BIDI_CONTROLS else c for c in printable(text))


def for_terminal(text: str) -> str:
    """Control characters (ESC, CR, BEL, ...) and direction controls shown as codes, not obeyed."""
    out = []
    for char in without_bidi(text):
        if unicodedata.category(char) in ("Cc", "Cf") and char not in "\u200d":
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)


def spreadsheet_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote."""
    if isinstance(value, str):
        value = printable(value)
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value
