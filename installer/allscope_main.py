"""The bundle's entry point: the ``allscope`` command, frozen by ``installer/allscope.spec``."""

import multiprocessing
import sys

from allscope.cli import main

if __name__ == "__main__":
    # A frozen child process (Windows and macOS spawn) must not start the app a second time.
    multiprocessing.freeze_support()
    sys.exit(main())
