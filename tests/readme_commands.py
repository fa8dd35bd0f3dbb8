"""The command lines of README.md, and a way to run its ``allscope`` lines as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def readme_commands() -> list[str]:
    """Every indented (code) command of the README, in order; backslash continuations joined."""
    text = re.sub(r"\\\n\s*", "", README.read_text(encoding="utf-8"))
    return [m.group(1) for m in re.finditer(r"^    (\S.*)$", text, re.M)]


def allscope_commands(word: str) -> list[str]:
    return [c for c in readme_commands() if c.startswith(".venv/bin/allscope") and word in c]


def run_allscope(command: str, cwd: Path, *extra: str, env: dict | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a README ``.venv/bin/allscope ...`` line with this interpreter, in ``cwd``."""
    args = shlex.split(command, comments=True)
    assert args[0] == ".venv/bin/allscope", command
    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "allscope", *args[1:], *extra], cwd=cwd, env=full_env,
        capture_output=True, text=True, timeout=timeout,
    )
