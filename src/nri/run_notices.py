"""Notices for new data that fit a run's shapes but not what it learned from.

Data of the right shape can still be far from the training data: other units (values
several training ranges outside the range the model saw) or another sampling rate
(frames another time apart). The graph and forecast of such data look like any other
result, so :mod:`nri.run_data` says so in a :class:`~nri.errors.DataNotice` (one line,
never an error: the user may mean it).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from nri.data.series import Series
from nri.errors import DataNotice

if TYPE_CHECKING:
    from nri.training.run_dir import LoadedRun

__all__ = ["FAR_FROM_TRAINING", "notice_far_from_training", "notice_time_step"]


FAR_FROM_TRAINING = 10.0  # |normalised value|: 4.5 training ranges beyond the range


def notice_far_from_training(run: LoadedRun, series: Series, x: np.ndarray) -> None:
    """One notice naming the features of ``series`` whose normalised values ``x``
    (``[S, N, T, F]``) reach beyond +-FAR_FROM_TRAINING, i.e. lie several training
    ranges outside the range the model saw: most likely other units (mm against m) or
    a placeholder, and the graph and forecast of such data are extrapolations that
    look like any other result."""
    peak = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0)  # [F]
    far = [f for f in range(x.shape[-1]) if peak[f] > FAR_FROM_TRAINING]
    if not far:
        return
    norm = run.normalizer
    names = norm.names if len(norm.names) == x.shape[-1] else series.feature_names
    said = ", ".join(
        f"{names[f]!r} (training range [{norm.mins[norm.groups[f]]:g}, "
        f"{norm.maxs[norm.groups[f]]:g}], normalised up to {peak[f]:.3g})"
        for f in far
    )
    warnings.warn(
        f"{series.source}: feature(s) {said} lie far outside the values the run was "
        "trained on (normalised to [-1, 1]); the graph and forecast extrapolate: check "
        "that the data are in the units of the training data",
        DataNotice,
        stacklevel=3,
    )


def notice_time_step(series: Series, info: dict[str, Any], where: str) -> None:
    """A :class:`~nri.errors.DataNotice` when new data's frames are another time
    apart than the run's training data (``time_step`` of ``RUN/data.json``, from the
    time column of ``nri import``): the model's dynamics are learned per frame, so
    another sampling rate gives a plausible but wrong graph and forecast. Silent
    when either side has no time column. ``info``: the run's ``data.json``
    (:func:`nri.run_data.trained_info`); ``where`` names the run."""
    trained, given = info.get("time_step"), series.time_step
    if not trained or given is None or abs(given - trained) <= 1e-3 * abs(trained):
        return
    unit = " s" if series.time_origin is not None else ""
    trained_unit = " s" if info.get("time_origin") else ""
    warnings.warn(
        f"{series.source}: its frames are {given:.6g}{unit} apart but {where} "
        f"was trained on frames {trained:.6g}{trained_unit} apart; the "
        "model's dynamics are per frame, so resample the data to that step (or "
        "check the unit of the time column)",
        DataNotice,
        stacklevel=3,
    )
