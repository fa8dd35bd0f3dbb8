"""The ``allscope`` command: the desktop app by default, and analyze / bench / train / sessions."""

from __future__ import annotations

import argparse
import logging
import sys

from . import DISCLAIMER, __version__

SUBCOMMANDS = ("analyze", "bench", "train", "sessions", "trust")


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allscope",
        description=f"Live B-ALL screening at the microscope. {DISCLAIMER} "
        f"Sub-commands: {', '.join(SUBCOMMANDS)} (allscope COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"allscope {__version__}")
    parser.add_argument("--demo", action="store_true", help="use the built-in demo slide instead of a camera")
    parser.add_argument("--source", help='source to open: "demo", "camera:N", a video, an image folder, "slide:FOLDER"')
    parser.add_argument("--model", help="model package directory (default: the shipped model)")
    parser.add_argument("--settings-dir", help="folder for settings (default: the platform's config folder)")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS",
                        help="run for SECONDS, print one JSON line of performance figures, exit")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if argv and argv[0] in SUBCOMMANDS:
        return run_subcommand(argv[0], argv[1:])
    args = gui_parser().parse_args(argv)
    if args.self_test:
        from .selftest import run_self_test
        return run_self_test(args.model)
    try:
        from .gui.app import run_gui
    except ImportError as exc:
        print(f"The desktop app cannot start: {exc}", file=sys.stderr)
        return 1
    return run_gui(args)


def run_subcommand(name: str, argv: list[str]) -> int:
    if name == "train":
        try:
            from .training.cli import main as train_main
        except ImportError as exc:
            print(f"Training needs the train extra (pip install -e '.[train]'): {exc}", file=sys.stderr)
            return 2
        return train_main(argv)
    if name == "sessions":
        from .core.sessions_cli import sessions_main
        return sessions_main(argv)
    if name == "trust":
        from .commands.trust import main as trust_main
        return trust_main(argv)
    from .commands import analyze, bench

    module = {"analyze": analyze, "bench": bench}[name]
    parser = argparse.ArgumentParser(prog=f"allscope {name}", description=module.__doc__)
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
