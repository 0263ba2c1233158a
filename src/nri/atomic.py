"""Atomic file writes: every file the library writes (checkpoints, metrics, data sets'
metadata, tables, figures, exports) appears whole under its name or not at all.

:func:`atomic_path` gives a temporary name in the target's directory (so the rename
stays on one file system); when the block succeeds the file is flushed to disk, given
the permissions a new file would get (``0o666`` less the umask) and renamed onto the
target in one step, replacing any older file. If the block fails, the temporary file
is removed and the target is untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nri.errors import OutputPathError

__all__ = [
    "atomic_path",
    "check_out_dir",
    "make_out_dir",
    "write_json_atomic",
    "write_text_atomic",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; write it inside the block, and it
    replaces ``path`` when the block ends without an exception."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:  # the writer may have replaced the file: fsync it
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (non-JSON values as ``str``) to ``path``
    atomically."""
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


def check_out_dir(path: str | Path, flag: str = "--out") -> None:
    """Check, without creating anything, that ``path`` can become an output
    directory: neither it nor a parent is a file, and when it exists it is writable.

    Raises:
        OutputPathError: one line naming the path.
    """
    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            what = "is a file" if p == path else f"is a file, so {path} cannot be made"
            raise OutputPathError(
                f"{flag} {path}: {p} {what}; give a directory (created if needed)"
            )
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{flag} {path}: the directory is not writable; give a directory you can "
            "write to"
        )


def make_out_dir(path: str | Path, flag: str = "--out") -> bool:
    """Create the output directory ``path`` (with its parents) unless it exists, and
    check that files can be written into it.

    Args:
        path: the directory.
        flag: the option that named it, for messages.

    Returns:
        True when this call created the directory (the caller may remove it again
        if its work fails).

    Raises:
        OutputPathError: one line naming the path: it (or a parent) is a file, or it
            cannot be created or written.
    """
    path = Path(path)
    check_out_dir(path, flag)
    existed = path.is_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputPathError(
            f"{flag} {path}: cannot create the directory ({err.strerror or err}); "
            "give a directory you can write to"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{flag} {path}: the directory is not writable; give a directory you can "
            "write to"
        )
    return not existed
