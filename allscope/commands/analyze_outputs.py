"""Where ``allscope analyze`` writes: destinations checked before the analysis, and the masks
written atomically (encoded in memory, temporary file, fsync, rename), every write checked.
JSON and CSV go through the one table writer, ``allscope.report.tables`` (atomic too).

A destination that cannot take the file (missing folder, read-only, a folder in the way) is
refused before any field is analysed; a write that fails later (a full disk) leaves the
previous file of that name untouched and stops the run with a message naming the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2

from allscope.core.frames import Frame
from allscope.core.results import MaskResult
from allscope.core.store.files import WriteFailedError, atomic_write
from allscope.core.text import printable


def check_file_destination(path: Path, option: str) -> str | None:
    """Why ``path`` cannot receive the ``option`` file, or None when it can."""
    shown = printable(str(path))
    if path.is_dir():
        example = f"{shown}/results{_suffix(option)}"
        return f"{option} {shown}: is a folder; give a file name, e.g. {example}"
    if path.exists() and not path.is_file():
        return f"{option} {shown}: exists and is not a regular file; choose another name"
    return _probe(path.parent if str(path.parent) else Path("."), option, shown)


def check_folder_destination(folder: Path, option: str) -> str | None:
    """Why masks cannot be written into ``folder`` (created when missing), or None."""
    shown = printable(str(folder))
    if folder.exists() and not folder.is_dir():
        return f"{option} {shown}: exists and is not a folder; give a folder name"
    if not folder.exists():
        problem = _probe(folder.parent if str(folder.parent) else Path("."), option, shown)
        if problem:
            return problem
        try:
            folder.mkdir()
        except OSError as exc:
            return (
                f"{option} {shown}: the folder cannot be created ({exc.strerror}); "
                "choose another location"
            )
    return _probe(folder, option, shown)


def _probe(folder: Path, option: str, shown: str) -> str | None:
    """Create and remove a file in ``folder``: the only test that sees read-only mounts and ACLs."""
    if not folder.is_dir():
        where = printable(str(folder))
        return f"{option} {shown}: the folder {where} does not exist; create it or choose another"
    try:
        fd, name = tempfile.mkstemp(prefix=".allscope-probe-", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        where = printable(str(folder))
        return (
            f"{option} {shown}: cannot write in {where} ({exc.strerror}); choose another location"
        )
    return None


def _suffix(option: str) -> str:
    return {"--json": ".json", "--csv": ".csv", "--pdf": ".pdf"}.get(option, "")


class MaskWriter:
    """Writes ``<stem>.png`` (images) or ``<stem>_<frame>.png`` (video frames) atomically; never
    overwrites a mask written earlier in the same run (a repeated name gets ``-2``, ``-3``...).

    The PNG is encoded in memory and written through Python, never through an OpenCV path API,
    so names that are not valid UTF-8 are safe; a name's undecodable bytes become U+FFFD.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._used: set[str] = set()
        self.written = 0

    def __call__(self, frame: Frame, mask: MaskResult) -> None:
        stem = _safe_stem(frame.name or f"frame_{frame.id}")
        name, n = stem, 1
        while name in self._used:
            n += 1
            name = f"{stem}-{n}"
        self._used.add(name)
        path = self.folder / f"{name}.png"
        ok, encoded = cv2.imencode(".png", mask.mask)
        if not ok:
            raise WriteFailedError(0, f"Could not encode the mask for {path}.", str(path))
        atomic_write(path, encoded.tobytes(), overwrite=True)
        self.written += 1


def _safe_stem(stem: str) -> str:
    stem = os.fsencode(stem).decode("utf-8", "replace").replace("/", "_").replace("\x00", "_")
    return stem[:200] or "field"
