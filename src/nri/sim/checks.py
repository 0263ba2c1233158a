"""Argument checks shared by the simulators' configurations."""

from __future__ import annotations

import numpy as np


def is_int(value: object) -> bool:
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check(ok: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``ok``."""
    if not ok:
        raise ValueError(message)


def stored_frames(n_steps: int, sample_freq: int) -> int:
    """Frames stored from ``n_steps`` integration steps keeping every
    ``sample_freq``-th: ``n_steps / sample_freq - 1`` (the NRI simulators' count).

    Raises:
        ValueError: ``n_steps`` is not a multiple of ``sample_freq`` or gives fewer
            than 2 samples.
    """
    if n_steps % sample_freq != 0 or n_steps // sample_freq < 2:
        raise ValueError(
            f"length must be a multiple of sample_freq={sample_freq} and at "
            f"least {2 * sample_freq} steps, got {n_steps}"
        )
    return n_steps // sample_freq - 1
