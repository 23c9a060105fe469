"""deepstep._files.atomic_write: complete files only, usual permissions, nothing left on failure."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from deepstep._files import atomic_write


def test_writes_and_creates_folders(tmp_path):
    path = atomic_write(tmp_path / "a" / "b.txt", lambda f: f.write("hello"), binary=False)
    assert path.read_text() == "hello"
    assert atomic_write(path, lambda f: f.write(b"\x00\x01")) == path
    assert path.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.txt"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_permissions_are_those_of_a_plain_open(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    path = atomic_write(tmp_path / "atomic.txt", lambda f: f.write(b"x"))
    assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


def test_failure_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "keep.txt"
    path.write_text("old")

    def fail(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, fail)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_folder_as_target_is_refused_before_writing(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(IsADirectoryError, match="cannot write .*out: it is a folder"):
        atomic_write(tmp_path / "out", lambda f: f.write(b"x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
