"""The split in time of windows (or pieces cut at gaps) of few recordings.

:func:`split_in_time` gives every recording's first windows to train, the following
ones to valid and the last ones to test, and drops the windows at the two boundaries
that would share frames with a window of the other split (``--stride`` below
``--window``), so that no valid or test window holds a frame the model trained on.
It is ``split_by="time"`` of :func:`nri.data.splits.split_series`, the default for
windows of fewer than 3 recordings (docs/own-data.md, "The split").
"""

from __future__ import annotations

import numpy as np

from nri.data.errors import DataError
from nri.data.series import Series, window_of_name


def _intervals(series: Series) -> tuple[np.ndarray, np.ndarray]:
    """The first and last time of every sample ``([S], [S])``: its time stamps
    (:attr:`Series.times`), else frame offsets from names ``SAMPLE@FIRST_FRAME``."""
    if series.times is not None:
        times = np.asarray(series.times, dtype=np.float64)  # [S, T]
        return times[:, 0], times[:, -1]
    starts = []
    for name in series.sample_names:
        if (window := window_of_name(name)) is None:
            raise DataError(
                f"{series.source}: a split in time needs the time of every sample "
                f"(Series.times) or window names SAMPLE@FIRST_FRAME, got {name!r}"
            )
        starts.append(window[1])
    first = np.array(starts, dtype=np.float64)
    return first, first + series.n_frames - 1


def split_in_time(
    series: Series, valid_frac: float, test_frac: float, what: str
) -> list[np.ndarray]:
    """Indices of the train, valid and test windows, every recording split in time.

    Of a recording's ``n`` windows (in time order) the last ``round(n * test_frac)``
    (at least one) go to test; of those that end before the first test window
    starts, the last ``round(n * valid_frac)`` (at least one) go to valid; the ones
    that end before the first valid window starts go to train. The windows left
    over would share frames with a window of the next split and are dropped (they
    are taken from train, so valid and test keep their fractions).

    Args:
        series: windows or pieces with :attr:`Series.recordings`.
        valid_frac, test_frac: the fractions of every recording's windows.
        what: what the samples are, for messages ("windows", "pieces (cut at gaps)").

    Returns:
        Three index arrays into ``series`` (train, valid, test), each non-empty;
        the samples in none of them are the dropped ones.

    Raises:
        DataError: a recording too short to give each split a window.
    """
    assert series.recordings is not None
    start, end = _intervals(series)  # [S], [S]
    recordings = np.array(series.recordings, dtype=object)
    parts: list[list[int]] = [[], [], []]
    for rec in dict.fromkeys(series.recordings):  # in order of first appearance
        idx = np.flatnonzero(recordings == rec)
        idx = idx[np.argsort(start[idx], kind="stable")]  # [n] in time order
        n = len(idx)
        n_valid = max(1, round(n * valid_frac))
        n_test = max(1, round(n * test_frac))
        train = valid = test = idx[:0]
        if n - n_valid - n_test >= 1:
            test = idx[n - n_test :]
            before = idx[: n - n_test]
            valid = before[end[before] < start[test].min()][-n_valid:]
            if len(valid):
                train = before[end[before] < start[valid].min()]
        if len(train) == 0:
            raise DataError(
                f"{series.source}: recording {rec!r} ({n} {what}) is too short to "
                "split in time into train, valid and test, one or more each without "
                "windows that share frames across splits; use a smaller --window or "
                "a larger --stride, or --split-by window (scores then overstate "
                "accuracy)"
            )
        for part, chosen in zip(parts, (train, valid, test), strict=True):
            part.extend(int(i) for i in chosen)
    return [np.array(sorted(p), dtype=np.int64) for p in parts]
