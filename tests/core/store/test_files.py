"""Crash-safe writes (``allscope.core.store.files``): a file is absent or complete, an existing
one is replaced only when asked, every failure names the file and what to do, and no
temporary file is left behind."""

from __future__ import annotations

import errno
import os
import time

import pytest

from allscope.core.store.files import (
    WriteFailedError,
    atomic_write,
    free_name,
    fsync_dir,
    remove_stale_temp_files,
    write_new,
)


def failing(code: int, written: int = 3):
    """A file writer that writes ``written`` bytes, then fails with OS error ``code``."""

    def write(handle, data):
        handle.write(data[:written])
        raise OSError(code, os.strerror(code))

    return write


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_writes_the_bytes_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "field.png"
    assert atomic_write(target, b"\x89PNG data") == target
    assert target.read_bytes() == b"\x89PNG data"
    assert leftovers(tmp_path) == []


def test_atomic_write_replaces_an_existing_file_by_default(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"


def test_atomic_write_without_overwrite_keeps_the_existing_file(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError, match="already exists; it was not replaced") as caught:
        atomic_write(target, b"new", overwrite=False)
    assert caught.value.errno == errno.EEXIST
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_write_without_overwrite_creates_a_new_file(tmp_path):
    target = tmp_path / "new.csv"
    atomic_write(target, b"a,b\n", overwrite=False)
    assert target.read_bytes() == b"a,b\n"
    assert leftovers(tmp_path) == []


def test_a_name_taken_while_writing_is_not_replaced(tmp_path):
    """Another writer creates the name between the check and the final link: it keeps it."""
    target = tmp_path / "export.json"

    def racing(handle, data):
        handle.write(data)
        target.write_bytes(b"the other writer's file")

    with pytest.raises(FileExistsError):
        atomic_write(target, b"mine", overwrite=False, writer=racing)
    assert target.read_bytes() == b"the other writer's file"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (errno.ENOSPC, "the disk is full; free some space and try again"),
        (errno.EACCES, "the folder is not writable; choose another location"),
        (errno.EROFS, "the folder is not writable; choose another location"),
        (errno.EIO, "nothing was written there"),
    ],
)
def test_a_failed_write_names_the_file_says_what_to_do_and_leaves_nothing(tmp_path, code, hint):
    target = tmp_path / "field.png"
    target.write_bytes(b"the saved image")
    with pytest.raises(WriteFailedError) as caught:
        atomic_write(target, b"a new image, cut short", writer=failing(code))
    message = str(caught.value)
    assert f"Could not write {target}" in message
    assert hint in message
    assert caught.value.errno == code
    assert target.read_bytes() == b"the saved image"  # the destination is unchanged
    assert leftovers(tmp_path) == []


def test_writing_into_a_missing_folder_says_the_folder_does_not_exist(tmp_path):
    target = tmp_path / "gone" / "report.pdf"
    with pytest.raises(WriteFailedError, match="the folder does not exist; choose another"):
        atomic_write(target, b"pdf")
    assert not target.parent.exists()


def test_an_interrupted_write_removes_its_temporary_file_and_raises_as_is(tmp_path):
    def interrupted(handle, data):
        handle.write(data[:2])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "field.png", b"image bytes", writer=interrupted)
    assert list(tmp_path.iterdir()) == []


def test_a_file_system_without_hard_links_still_never_replaces_an_existing_file(
    tmp_path, monkeypatch
):
    """FAT and some network shares refuse ``link``: the write falls back to check-and-rename."""

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    fresh = tmp_path / "fresh.csv"
    atomic_write(fresh, b"x", overwrite=False)
    assert fresh.read_bytes() == b"x"
    taken = tmp_path / "taken.csv"
    taken.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        atomic_write(taken, b"y", overwrite=False)
    assert taken.read_bytes() == b"keep"
    assert leftovers(tmp_path) == []


def test_fsync_of_a_folder_that_cannot_be_opened_is_a_no_op(tmp_path):
    fsync_dir(tmp_path / "missing")  # nothing to make durable, and no error either
    fsync_dir(tmp_path)


def test_only_stale_temporaries_of_killed_writers_are_removed(tmp_path):
    old = time.time() - 3600
    stale = tmp_path / ".field.png.abc123.tmp"
    fresh = tmp_path / ".field.png.def456.tmp"
    other = tmp_path / "notes.tmp"  # not named like atomic_write's temporaries
    folder = tmp_path / ".folder.tmp"  # a folder, never a writer's temporary file
    for path in (stale, fresh, other):
        path.write_bytes(b"partial")
    folder.mkdir()
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    os.utime(folder, (old, old))
    assert remove_stale_temp_files(tmp_path, older_than_s=60) == 1
    assert not stale.exists()
    assert fresh.exists() and other.exists() and folder.is_dir()


@pytest.mark.parametrize(
    ("name", "second", "third"),
    [
        ("report.pdf", "report (2).pdf", "report (3).pdf"),
        ("session.manifest.json", "session (2).manifest.json", "session (3).manifest.json"),
        ("README", "README (2)", "README (3)"),
        (".hidden", ".hidden (2)", ".hidden (3)"),
    ],
)
def test_free_name_numbers_a_taken_name_before_its_suffix(tmp_path, name, second, third):
    first = tmp_path / name
    assert free_name(first) == first
    first.write_bytes(b"")
    assert free_name(first) == tmp_path / second
    (tmp_path / second).write_bytes(b"")
    assert free_name(first) == tmp_path / third


def test_write_new_picks_a_free_name_and_keeps_the_existing_file(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"first")
    written = write_new(target, b"second")
    assert written == tmp_path / "report (2).pdf"
    assert target.read_bytes() == b"first"
    assert written.read_bytes() == b"second"


def test_write_new_with_overwrite_replaces_the_file(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"first")
    assert write_new(target, b"second", overwrite=True) == target
    assert target.read_bytes() == b"second"


def test_write_new_moves_on_when_another_writer_takes_the_free_name(tmp_path):
    target = tmp_path / "report.pdf"
    taken: list[str] = []

    def racing_once(handle, data):
        handle.write(data)
        if not taken:  # the other writer wins the first name only
            taken.append(handle.name)
            target.write_bytes(b"other")

    written = write_new(target, b"mine", writer=racing_once)
    assert written == tmp_path / "report (2).pdf"
    assert written.read_bytes() == b"mine"
    assert target.read_bytes() == b"other"


def test_write_new_gives_up_with_a_message_when_every_name_is_taken_meanwhile(tmp_path):
    target = tmp_path / "report.pdf"

    def always_beaten(handle, data):
        handle.write(data)
        free_name(target).write_bytes(b"other")

    with pytest.raises(WriteFailedError, match="Could not find a free file name next to"):
        write_new(target, b"mine", writer=always_beaten)
    assert leftovers(tmp_path) == []
    assert all(p.read_bytes() == b"other" for p in tmp_path.iterdir())
