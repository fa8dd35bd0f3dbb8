"""Outside text made safe (``allscope.core.text``): undecodable file names, terminal control
characters, direction overrides and spreadsheet formulas are shown, never obeyed."""

from __future__ import annotations

import os

import pytest

from allscope.core.text import for_terminal, printable, spreadsheet_cell, without_bidi

# "field_" + the Latin-1 byte 0xE9 + ".png", as Python decodes a non-UTF-8 file name
UNDECODABLE = os.fsdecode(b"field_\xe9.png")


def test_valid_text_is_returned_unchanged():
    assert printable("Zelle µm 細胞.png") == "Zelle µm 細胞.png"


def test_an_undecodable_file_name_shows_its_bad_byte():
    shown = printable(UNDECODABLE)
    assert shown == "field_\\xe9.png"
    shown.encode("utf-8")  # valid UTF-8 now: JSON, CSV, SQLite and PDFs take it


def test_direction_overrides_are_made_visible():
    assert without_bidi("slide\u202egnp.exe") == "slide<U+202E>gnp.exe"
    assert without_bidi("a\u2066b\u2069c") == "a<U+2066>b<U+2069>c"
    assert without_bidi("plain") == "plain"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("name\x1b[2Jcleared", "name\\x1b[2Jcleared"),  # ESC: an escape sequence is not run
        ("line\rover", "line\\x0dover"),
        ("bell\x07", "bell\\x07"),
        ("tab\tand\nnewline", "tab\\x09and\\x0anewline"),
        ("zero\u200bwidth", "zero<U+200B>width"),  # a format character beyond Latin-1
        ("rtl\u202eoverride", "rtl<U+202E>override"),
        ("emoji \U0001f469\u200d\U0001f52c", "emoji \U0001f469\u200d\U0001f52c"),  # ZWJ kept
        ("Grüße", "Grüße"),
    ],
)
def test_terminal_text_shows_control_characters_as_codes(raw, shown):
    assert for_terminal(raw) == shown


def test_terminal_text_also_shows_undecodable_bytes():
    assert for_terminal(UNDECODABLE) == "field_\\xe9.png"


@pytest.mark.parametrize("formula", ["=1+1", "+41 79", "-2", "@SUM(A1)", "\tx", "\rx", "\nx"])
def test_spreadsheet_formulas_are_quoted(formula):
    assert spreadsheet_cell(formula) == "'" + formula


def test_spreadsheet_plain_text_and_numbers_are_kept():
    assert spreadsheet_cell("P-0042") == "P-0042"
    assert spreadsheet_cell("a=b") == "a=b"
    assert spreadsheet_cell(-2.5) == -2.5  # a number is a value, not a formula
    assert spreadsheet_cell(None) is None
    assert spreadsheet_cell(UNDECODABLE) == "field_\\xe9.png"
