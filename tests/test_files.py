import os

import pytest

from handgrad._files import atomic_file


def test_atomic_file_replaces_the_target_at_once(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with atomic_file(path, "w", encoding="utf-8") as f:
        f.write("new")
        assert path.read_text() == "old"                    # not visible until the block ends
    assert path.read_text() == "new" and os.listdir(tmp_path) == ["a.txt"]


def test_atomic_file_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_file(path, "wb") as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.bin"]


def test_atomic_file_mode():
    with pytest.raises(ValueError, match="expected mode 'w' or 'wb', got 'a'"):
        with atomic_file("x", "a"):
            pass
