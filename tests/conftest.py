"""Shared test set-up: Qt runs without a display unless a test provides one."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
