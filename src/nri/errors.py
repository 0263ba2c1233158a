"""Exceptions that the command line catches by type and that must be importable
without PyTorch (``nri --help`` does not load it)."""

from __future__ import annotations

__all__ = ["TrainingStopped"]


class TrainingStopped(RuntimeError):
    """Training stopped on SIGTERM (a scheduler's preemption, ``kill``, ``timeout``):
    ``RUN/checkpoints/last.ckpt`` holds the last finished epoch and ``--resume``
    continues from it. Lightning reports the signal as ``SystemExit`` with status 0,
    which would make an unfinished run look finished; the command exits with 143."""
