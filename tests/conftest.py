"""Shared test set-up: Qt runs without a display unless a test provides one, and the helper
modules in ``tests/helpers`` (sample fields, stores, tiny models) import by their plain names."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
