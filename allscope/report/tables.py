"""The one writer of CSV and JSON exports (``allscope analyze`` and session exports).

Files are written atomically and never overwrite silently: without ``overwrite`` a taken name
becomes ``name (2).ext`` and the path actually written is returned for the user to see. CSV
cells that a spreadsheet would run as a formula are prefixed with a quote, booleans are 0/1,
numbers keep six significant digits, and a byte-order mark makes spreadsheets read UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from allscope.core.store.files import FileWriter, write_new

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A CSV cell: empty for None, 0/1 for booleans, quoted text where it could be a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def number(value: float | None) -> str:
    """A probability or measure with six significant digits; empty when there is none."""
    return "" if value is None else f"{value:.6g}"


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The table as UTF-8 CSV with a byte-order mark; every cell passes through ``cell``."""
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow([cell(h) for h in header])
    for row in rows:
        table.writerow([cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def json_bytes(document: Any) -> bytes:
    """The document as indented UTF-8 JSON (non-ASCII names kept as they are)."""
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def write_csv_table(
    path: Path | str, header: Sequence[str], rows: Iterable[Sequence[object]], *,
    overwrite: bool = False, writer: FileWriter | None = None,
) -> Path:
    """Write the table atomically; returns the path written."""
    return write_new(Path(path), csv_bytes(header, rows), overwrite=overwrite, writer=writer)


def write_json_document(
    path: Path | str, document: Any, *, overwrite: bool = False, writer: FileWriter | None = None
) -> Path:
    """Write the document atomically; returns the path written."""
    return write_new(Path(path), json_bytes(document), overwrite=overwrite, writer=writer)
