"""Crash-safe file writes: a file is either absent or complete, never half written.

Every saved field image and every export goes through :func:`atomic_write`: the bytes go to a
temporary file in the destination folder, are flushed to disk (fsync), and only then renamed
over the final name; the folder is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: Writes ``data`` into an open binary file. Tests inject one that fails part-way (disk full).
FileWriter = Callable[[BinaryIO, bytes], None]


class WriteFailedError(OSError):
    """A file could not be written; the destination is unchanged and no partial file remains."""


def remove_stale_temp_files(folder: Path, older_than_s: float) -> int:
    """Delete temporary files that a killed writer left in ``folder``; return how many.

    Only files named like :func:`atomic_write`'s temporaries and untouched for
    ``older_than_s`` seconds are removed, so a write in progress elsewhere is left alone.
    """
    removed = 0
    cutoff = time.time() - older_than_s
    for path in folder.glob(".*.tmp"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def plain_writer(handle: BinaryIO, data: bytes) -> None:
    handle.write(data)


def fsync_dir(folder: Path) -> None:
    """Make a rename or creation inside ``folder`` durable (no-op where folders can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes, *, overwrite: bool = True, writer: FileWriter | None = None,
) -> Path:
    """Write ``data`` to ``path`` all-or-nothing and return the path written.

    With ``overwrite=False`` an existing file is never replaced: :class:`FileExistsError` is
    raised even if the file appeared while writing (the final step is a hard link, which fails
    on an existing name).
    """
    path = Path(path)
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _failed(path, exc) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            (writer or plain_writer)(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        _publish(tmp, path, overwrite)
    except FileExistsError as exc:
        tmp.unlink(missing_ok=True)
        raise FileExistsError(
            errno.EEXIST, f"{path} already exists; it was not replaced.", str(path)
        ) from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _failed(path, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    return path


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        # File systems without hard links (FAT, some network shares): check, then rename.
        if path.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def _failed(path: Path, exc: OSError) -> WriteFailedError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        hint = "the disk is full; free some space and try again"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "the folder is not writable; choose another location"
    elif exc.errno == errno.ENOENT:
        hint = "the folder does not exist; choose another location"
    else:
        hint = "nothing was written there"
    return WriteFailedError(
        exc.errno or 0, f"Could not write {path}: {reason} ({hint}).", str(path)
    )


def free_name(path: Path) -> Path:
    """``path`` if no such file exists, else the first free ``name (2).ext``, ``name (3).ext``..."""
    path = Path(path)
    if not path.exists():
        return path
    stem, suffix = _split_name(path.name)
    n = 2
    while True:
        candidate = path.with_name(f"{stem} ({n}){suffix}")
        if not candidate.exists():
            return candidate
        n += 1


def _split_name(name: str) -> tuple[str, str]:
    # "report.manifest.json" keeps its double suffix; "report.pdf" -> ("report", ".pdf").
    for double in (".manifest.json",):
        if name.endswith(double) and len(name) > len(double):
            return name[: -len(double)], double
    stem, dot, ext = name.rpartition(".")
    return (stem, dot + ext) if stem else (name, "")


def write_new(
    path: Path, data: bytes, *, overwrite: bool = False, writer: FileWriter | None = None
) -> Path:
    """Export helper: write atomically; without ``overwrite`` pick ``name (2).ext`` on collision.

    Returns the path actually written, which callers must show to the user.
    """
    if overwrite:
        return atomic_write(path, data, overwrite=True, writer=writer)
    for _attempt in range(100):
        target = free_name(path)
        try:
            return atomic_write(target, data, overwrite=False, writer=writer)
        except FileExistsError:
            continue  # another writer took that name between the check and the link
    raise WriteFailedError(
        errno.EEXIST, f"Could not find a free file name next to {path}.", str(path)
    )
