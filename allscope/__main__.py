"""``python -m allscope``: a stop request (Ctrl+C, SIGTERM) during start-up ends it in order too."""

import signal
import sys


class _Stopped(BaseException):
    """A stop request before the command took over its own handling (not KeyboardInterrupt,
    which Python would turn into death by SIGINT at exit)."""


def _stop(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


for _number in (signal.SIGINT, signal.SIGTERM):  # until the command installs its own handling
    signal.signal(_number, _stop)
try:
    from allscope.cli import main

    code = main()
    for late in (signal.SIGINT, signal.SIGTERM):  # the work is done: a stop request changes nothing
        signal.signal(late, signal.SIG_IGN)
except (_Stopped, KeyboardInterrupt) as exc:
    number = exc.args[0] if exc.args and isinstance(exc.args[0], int) else signal.SIGINT
    print(
        f"\nallscope was stopped ({signal.Signals(number).name}); "
        "files it writes are either complete or not there.",
        file=sys.stderr,
    )
    code = 128 + number
sys.exit(code)
