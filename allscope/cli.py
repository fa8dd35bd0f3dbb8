"""The ``allscope`` command: the desktop app by default, and analyze / bench / train / sessions."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from allscope.app.arguments import SUBCOMMANDS, gui_parser


def _interruption(exc: BaseException | None):  # -> Interrupted | None
    """The signal's ``Interrupted`` behind ``exc`` (itself or a cause), or None."""
    from allscope.commands.interrupts import Interrupted

    while exc is not None:
        if isinstance(exc, Interrupted):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if argv and argv[0] in SUBCOMMANDS:
        from allscope.commands.interrupts import Interrupted, interruptible
        from allscope.core.model_package import ModelPackageError

        with interruptible():
            try:
                return run_subcommand(argv[0], argv[1:])
            except ModelPackageError as exc:  # one loader, one error type, for every command
                print(f"error: {exc}", file=sys.stderr)
                return 2
            except (Interrupted, ImportError) as exc:
                # a signal during start-up can arrive inside an extension module's
                # initialisation, which turns it into an ImportError caused by it
                stop = _interruption(exc)
                if stop is None:
                    raise
                print(
                    f"\nallscope {argv[0]} was stopped ({stop.signal_name}); "
                    "files it writes are either "
                    "complete or not there.",
                    file=sys.stderr,
                )
                return 128 + stop.signal_number
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the desktop app: the default handling
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = gui_parser().parse_args(argv)
    if args.self_test:
        from allscope.selftest import run_self_test
        return run_self_test(args.model)
    from .display import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 3
    try:
        from allscope.gui.app import run_gui
    except ImportError as exc:
        print(f"The desktop app cannot start: {exc}", file=sys.stderr)
        return 1
    return run_gui(args)


def run_subcommand(name: str, argv: list[str]) -> int:
    if name == "train":
        try:
            from allscope.training.cli import main as train_main
        except ImportError as exc:
            print(
                f"Training needs the train extra (pip install -e '.[train]'): {exc}",
                file=sys.stderr,
            )
            return 2
        return train_main(argv)
    if name == "sessions":
        from allscope.commands.sessions import sessions_main
        return sessions_main(argv)
    if name == "trust":
        from allscope.commands.trust import main as trust_main
        return trust_main(argv)
    from allscope.commands import adapt, analyze, bench

    module = {"analyze": analyze, "adapt": adapt, "bench": bench}[name]
    parser = argparse.ArgumentParser(prog=f"allscope {name}", description=module.__doc__)
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
