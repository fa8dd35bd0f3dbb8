"""``python -m allscope.training.cells``: the same as ``allscope train cells``."""

from allscope.training.cells.cli import main

raise SystemExit(main())
