"""A signal that lands inside an extension module's initialisation still reads as a stop."""

from __future__ import annotations

import signal

import pytest

from allscope import cli
from allscope.commands.interrupts import Interrupted


def _import_interrupted(name: str, rest: list[str]) -> int:
    try:
        raise Interrupted(signal.SIGINT)
    except Interrupted as stop:
        raise ImportError("initialization failed") from stop


def _import_broken(name: str, rest: list[str]) -> int:
    raise ImportError("No module named 'openvino'")


def test_a_signal_during_start_up_imports_is_reported_as_a_stop(monkeypatch, capsys):
    monkeypatch.setattr(cli, "run_subcommand", _import_interrupted)
    assert cli.main(["analyze", "x"]) == 128 + signal.SIGINT
    err = capsys.readouterr().err
    assert "allscope analyze was stopped (SIGINT)" in err and "Traceback" not in err


def test_an_import_error_without_a_signal_is_not_hidden(monkeypatch):
    monkeypatch.setattr(cli, "run_subcommand", _import_broken)
    with pytest.raises(ImportError, match="openvino"):
        cli.main(["analyze", "x"])
