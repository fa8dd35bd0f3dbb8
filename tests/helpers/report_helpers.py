"""Helpers for the report tests: poppler checks and the multilingual names used."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

PERSIAN = "محمد رضایی"
CHINESE = "王小明"
ACCENTED = "Zoë Ñúñez-Dvořák"
LONG_COMMENT = "Long remark. " + "z" * 100_000


def needs(tool: str):
    return pytest.mark.skipif(
        shutil.which(tool) is None, reason=f"{tool} (poppler-utils) is not installed"
    )


def pdf_text(path: Path, page: int | None = None) -> str:
    """pdftotext output, NFKC-normalised (Arabic presentation forms and ligatures to letters)."""
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(path), "-"], capture_output=True, check=True).stdout.decode(
        "utf-8"
    )
    return unicodedata.normalize("NFKC", out)
