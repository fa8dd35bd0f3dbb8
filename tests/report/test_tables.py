"""The one CSV/JSON writer: formula-safe cells, atomic files, no silent overwrite."""

import csv
import json

from allscope.report.tables import write_csv_table, write_json_document


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def test_cells_a_spreadsheet_would_run_are_quoted_and_booleans_are_numbers(tmp_path):
    path = write_csv_table(tmp_path / "t.csv", ["name", "ok", "p"],
                           [["=HYPERLINK(1)", True, 0.5], ["-2", False, None]])
    assert read_rows(path) == [
        ["name", "ok", "p"], ["'=HYPERLINK(1)", "1", "0.5"], ["'-2", "0", ""],
    ]


def test_a_taken_name_gets_a_new_one_unless_overwrite_is_asked(tmp_path):
    first = write_json_document(tmp_path / "d.json", {"a": 1})
    second = write_json_document(tmp_path / "d.json", {"a": 2})
    assert second != first and json.loads(first.read_text(encoding="utf-8")) == {"a": 1}
    again = write_json_document(tmp_path / "d.json", {"a": 3}, overwrite=True)
    assert again == first and json.loads(first.read_text(encoding="utf-8")) == {"a": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d (2).json", "d.json"]
