"""The desktop app's command line, shared by ``allscope`` (cli) and ``gui.app`` without a cycle."""

from __future__ import annotations

import argparse

from allscope import DISCLAIMER, __version__

SUBCOMMANDS = ("analyze", "adapt", "bench", "train", "sessions", "trust")


def gui_parser() -> argparse.ArgumentParser:
    """Options of the desktop app (``allscope`` with no sub-command)."""
    parser = argparse.ArgumentParser(
        prog="allscope",
        description=f"Live B-ALL screening at the microscope. {DISCLAIMER} "
        f"Sub-commands: {', '.join(SUBCOMMANDS)} (allscope COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"allscope {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="use the built-in demo slide instead of a camera"
    )
    parser.add_argument(
        "--source",
        help='source to open: "demo", "camera:N", a video, an image folder, "slide:FOLDER"',
    )
    parser.add_argument("--model", help="model package directory (default: the shipped model)")
    parser.add_argument(
        "--cell-model",
        help="cell model package directory (default: the shipped models/cells, when present)",
    )
    parser.add_argument(
        "--no-cell-model", action="store_true", help="judge whole fields only (no cell model)"
    )
    parser.add_argument(
        "--settings-dir", help="folder for settings (default: the platform's config folder)"
    )
    parser.add_argument("--quit-after", type=float, metavar="SECONDS",
                        help="run for SECONDS after the first frame is shown, print one JSON "
                        "line of performance figures, exit")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    return parser
