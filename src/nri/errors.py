"""Exceptions that the command line catches by type and that must be importable
without PyTorch (``nri --help`` does not load it)."""

from __future__ import annotations

__all__ = ["DataNotice", "OutputPathError", "TrainingStopped"]


class TrainingStopped(RuntimeError):
    """Training stopped on SIGTERM (a scheduler's preemption, ``kill``, ``timeout``):
    ``RUN/checkpoints/last.ckpt`` holds the last finished epoch and ``--resume``
    continues from it. Lightning reports the signal as ``SystemExit`` with status 0,
    which would make an unfinished run look finished; the command exits with 143."""


class DataNotice(UserWarning):
    """Something the readers changed in the user's data on purpose (a dropped unnamed
    index column, samples dropped or cut at gaps in time): issued with
    :func:`warnings.warn` so that library code does not print; the command line shows
    each as one line on stderr, ``nri: notice: ...``."""


class OutputPathError(ValueError):
    """An output path (``--out``) that cannot be used: an existing file where a
    directory is needed, a directory that cannot be created or written. The message
    names the path (never a temporary file's name or only an errno)."""
