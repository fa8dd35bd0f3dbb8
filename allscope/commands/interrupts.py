"""Ctrl+C and SIGTERM during a command: an orderly stop, never a half-written file.

Inside ``interruptible()`` both signals raise :class:`Interrupted` in the main thread, so
``finally`` blocks run (inference is waited for, temporaries are removed) and the command
exits with 128 + the signal number instead of dying by the signal or printing a traceback.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(BaseException):
    """The user or the system asked the command to stop (not an error of the input)."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = signal_number
        self.signal_name = signal.Signals(signal_number).name


def _raise(signal_number: int, _frame: object) -> None:
    raise Interrupted(signal_number)


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted while inside; the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt as exc:  # a handler installed by a library may still raise this
        raise Interrupted(signal.SIGINT) from exc
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
