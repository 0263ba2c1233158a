"""Atomic writes: the target holds the old file or the whole new one, never a part."""

from __future__ import annotations

import os

import pytest

from nri.atomic import atomic_path, write_json_atomic, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    write_json_atomic(target, {"acc": 0.5})
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_text('{"acc": 0.')  # half a file, then the writer dies
            raise RuntimeError("disk full")
    assert target.read_text() == '{\n  "acc": 0.5\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_successful_write_replaces_the_file_with_the_usual_permissions(tmp_path):
    target = tmp_path / "table.md"
    target.write_text("old")
    os.chmod(target, 0o600)
    mask = os.umask(0o022)
    try:
        write_text_atomic(target, "new ✓\n")
    finally:
        os.umask(mask)
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert target.stat().st_mode & 0o777 == 0o644  # 0o666 less the umask
    assert len(list(tmp_path.iterdir())) == 1


def test_the_temporary_file_lies_beside_the_target(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    with atomic_path(sub / "a.bin") as tmp:
        assert tmp.parent == sub and tmp.name.startswith(".a.bin.")
        tmp.write_bytes(b"\x00\x01")
    assert (sub / "a.bin").read_bytes() == b"\x00\x01"
