"""The desktop app's command line: its options, their defaults, and the sub-commands named in
its help."""

from __future__ import annotations

import pytest

from allscope import __version__
from allscope.app.arguments import SUBCOMMANDS, gui_parser


def test_defaults_open_nothing_and_ask_for_nothing():
    args = gui_parser().parse_args([])
    assert (args.demo, args.source, args.model, args.cell_model, args.no_cell_model,
            args.settings_dir, args.quit_after, args.self_test) == (
        False, None, None, None, False, None, None, False)


def test_every_option_is_read():
    args = gui_parser().parse_args([
        "--source", "camera:1", "--model", "m", "--cell-model", "c", "--no-cell-model",
        "--settings-dir", "s", "--quit-after", "2.5", "--self-test", "--demo",
    ])
    assert (args.source, args.model, args.cell_model, args.settings_dir) == (
        "camera:1", "m", "c", "s")
    assert args.no_cell_model and args.self_test and args.demo and args.quit_after == 2.5


def test_help_names_the_sub_commands_and_the_disclaimer(capsys):
    with pytest.raises(SystemExit) as exit_:
        gui_parser().parse_args(["--help"])
    assert exit_.value.code == 0
    text = "".join(capsys.readouterr().out.split())  # as wrapped to any terminal width
    assert f"Sub-commands:{','.join(SUBCOMMANDS)}(allscopeCOMMAND--help)" in text
    assert "Screeningaid,notadiagnosis." in text


def test_version_and_bad_values_exit_as_argparse_does(capsys):
    with pytest.raises(SystemExit) as exit_:
        gui_parser().parse_args(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"allscope {__version__}"
    with pytest.raises(SystemExit) as exit_:
        gui_parser().parse_args(["--quit-after", "soon"])
    assert exit_.value.code == 2 and "invalid float value: 'soon'" in capsys.readouterr().err
