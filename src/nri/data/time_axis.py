"""The time column of own data: parsing (numbers or ISO stamps) and even spacing.

Every model assumes equally spaced frames. :func:`parse_times` turns the time cells of a
long CSV into float64 times (the user's numbers, or seconds since the earliest ISO
stamp, which is returned as the origin); :func:`even_pieces` finds the samples whose
frames are not equally spaced (a missing time stamp in the middle, another sampling
step) and, as the user chose, refuses them, cuts them at the gaps or drops them.
Calendar steps (monthly, quarterly, yearly ISO stamps: 28 to 31 days) are not equal
steps and are refused with the hint to give the time as a step count; irregular
(jittered) stamps such as 0, 0.98, 2.03, 2.99 are no grid with gaps and are refused
with their smallest and largest step and the hint to resample them.
"""

from __future__ import annotations

import warnings
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from nri.data.errors import DataError
from nri.errors import DataNotice

OnGap = Literal["cut", "drop"]
ON_GAP_CHOICES: tuple[str, ...] = ("cut", "drop")
STEP_RTOL = 1e-3  # relative tolerance on a time step (float stamps such as 0.1 * k)


def parse_times(
    text: np.ndarray, source: str, lines: np.ndarray
) -> tuple[np.ndarray, str | None]:
    """Time cells (strings, as written) -> float64 times and the ISO origin.

    Args:
        text: the stripped time cells ``[R]``.
        source: the file, for messages.
        lines: the file line of every cell ``[R]``, for messages.

    Returns:
        ``times [R]`` float64 (the numbers as given, or seconds since the earliest ISO
        stamp) and that stamp in ISO format (None for numeric times).

    Raises:
        DataError: an empty cell, or a cell that is neither a number nor an ISO stamp.
    """
    cells = pd.Series(text, dtype=object)
    empty = (cells == "").to_numpy()
    if empty.any():
        i = int(np.argmax(empty))
        raise DataError(
            f"{source} line {lines[i]}: empty 'time' cell; every row needs a time"
        )
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    if np.isfinite(numbers).all():
        return numbers, None
    stamps = _iso(cells)
    iso = ~stamps.isna().to_numpy()
    bad = ~iso & ~np.isfinite(numbers)  # neither: name the first one
    if not bad.any() and not iso.all():  # numbers beside ISO stamps
        i, j = int(np.argmax(iso)), int(np.argmax(~iso))
        raise DataError(
            f"{source}: column 'time' mixes ISO stamps (line {lines[i]}: {text[i]!r}) "
            f"and numbers (line {lines[j]}: {text[j]!r}); give every time in one "
            "form: numbers (e.g. seconds or a frame index) or ISO stamps"
        )
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{source} line {lines[i]}: time {text[i]!r} is neither a number nor an "
            "ISO date; give every time as a number (e.g. seconds or a frame index) or "
            "as an ISO stamp such as 2024-01-31T12:00:00"
        )
    if stamps.dt.tz is not None:  # some stamps have a UTC offset: then all must
        _check_offsets(text, source, lines)
    origin = stamps.min()
    seconds = (stamps - origin).dt.total_seconds().to_numpy(dtype=np.float64)
    return seconds, origin.isoformat()


def _check_offsets(text: np.ndarray, source: str, lines: np.ndarray) -> None:
    """Refuse stamps with a UTC offset beside stamps without one: pandas would read
    the naive ones as UTC, shifting them (and ``time_origin``) by the offset."""
    uniq, first = np.unique(text.astype(str), return_index=True)
    aware = np.array([_has_offset(u) for u in uniq])
    if aware.all():
        return
    i, j = int(first[np.argmax(aware)]), int(first[np.argmin(aware)])
    raise DataError(
        f"{source}: column 'time' mixes stamps with a UTC offset (line {lines[i]}: "
        f"{text[i]!r}) and without one (line {lines[j]}: {text[j]!r}), so the "
        "naive ones would be taken as UTC; give every stamp an offset (e.g. "
        "+02:00 or Z), or none"
    )


def _has_offset(stamp: str) -> bool:
    try:
        return pd.Timestamp(stamp).tzinfo is not None
    except ValueError:  # read by to_datetime but not by Timestamp: do not refuse it
        return True


def _iso(cells: pd.Series) -> pd.Series:
    """ISO stamps (NaT where a cell is not one); mixed UTC offsets are made UTC."""
    try:
        return pd.to_datetime(cells, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # mixed time zones
        return pd.to_datetime(cells, format="ISO8601", errors="coerce", utc=True)


class Piece(NamedTuple):
    """Frames ``start .. stop - 1`` of sample ``sample``, equally spaced."""

    sample: int
    start: int
    stop: int
    name: str


def even_pieces(
    times: list[np.ndarray],
    text: list[np.ndarray],
    names: list[str],
    source: str,
    on_gap: OnGap | None = None,
    unit: str = "",
) -> list[Piece]:
    """The equally spaced stretches of samples to keep.

    The reference step is the median step of the whole file. A sample whose steps all
    equal it is kept whole; any other step (a missing time stamp in the middle, an
    extra one, another sampling rate) is refused with one line naming the sample and
    the times as written (``on_gap=None``), or the sample is cut at those steps into
    pieces of at least 2 frames named ``SAMPLE/k`` (``"cut"``), or dropped
    (``"drop"``); both issue one :class:`~nri.errors.DataNotice`. Samples whose
    steps are irregular (most of them differ from the reference, and not by one
    other constant step: jittered stamps) have no gaps to cut at: they are refused
    with the smallest and largest step and the hint to resample them, unless
    ``"drop"`` leaves them out.

    Args:
        times: one float64 ``[T_s]`` per sample, increasing.
        text: the same times as the user wrote them, one ``[T_s]`` per sample.
        names: the sample names.
        source: the file, for messages.
        on_gap: None (refuse), "cut" or "drop".
        unit: the unit of ``times`` in messages (" s" for ISO stamps).

    Raises:
        DataError: uneven steps and ``on_gap`` None, irregular steps and ``on_gap``
            not "drop", or nothing left to keep.
    """
    if on_gap is not None and on_gap not in ON_GAP_CHOICES:
        raise DataError(
            f"on_gap must be one of {ON_GAP_CHOICES} or None, got {on_gap!r}"
        )
    steps = [np.diff(t) for t in times]
    every = np.concatenate(steps) if steps else np.zeros(0)
    if every.size == 0:
        return [Piece(i, 0, len(t), names[i]) for i, t in enumerate(times)]
    ref = float(np.median(every))
    uneven = [
        np.flatnonzero(~np.isclose(d, ref, rtol=STEP_RTOL, atol=0)) for d in steps
    ]
    bad_samples = [i for i, u in enumerate(uneven) if u.size]
    if not bad_samples:
        return [Piece(i, 0, len(t), names[i]) for i, t in enumerate(times)]
    months = _calendar_months(text) if unit == " s" else None
    if months is not None:  # not gaps: cutting or dropping would not help
        every_k = "every month" if months == 1 else f"every {months} months"
        raise DataError(
            f"{source}: the time stamps are calendar steps ({every_k} on the same day "
            f"and time, e.g. {text[0][0]!r}, {text[0][1]!r}), which are not equally "
            "long in seconds (months have 28 to 31 days); the models assume equal "
            "steps: give the time as a number that counts the steps instead (a month "
            "number 0, 1, 2, ... or the frame index)"
        )
    irregular = [i for i in bad_samples if _jittered(steps[i], ref)]
    if irregular and on_gap != "drop":  # no gaps to cut at: cutting leaves crumbs
        raise _irregular_error(steps, text, names, irregular, ref, source, unit)
    if on_gap is None:
        i = bad_samples[0]
        k = int(uneven[i][0])
        places = sum(int(uneven[j].size) for j in bad_samples)
        more = (
            f" ({places} such places in {len(bad_samples)} sample(s))"
            if places > 1
            else ""
        )
        raise DataError(
            f"{source}: sample {names[i]!r} is not equally spaced in time: "
            f"{text[i][k]!r} is followed by {text[i][k + 1]!r}, a step of "
            f"{steps[i][k]:g}{unit} where the others are {ref:g}{unit}{more}; the "
            "models assume equal steps: fill in the missing time stamps, or import "
            "with --on-gap cut (cut samples at the gaps) or --on-gap drop (drop those "
            "samples)"
        )
    pieces: list[Piece] = []
    for i, t in enumerate(times):
        if not uneven[i].size:
            pieces.append(Piece(i, 0, len(t), names[i]))
        elif on_gap == "cut":
            bounds = [0, *(int(k) + 1 for k in uneven[i]), len(t)]
            kept = [
                (a, b)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
                if b - a >= 2
            ]
            pieces += [
                Piece(i, a, b, f"{names[i]}/{n}") for n, (a, b) in enumerate(kept)
            ]
    whole = {names[i] for i in range(len(times)) if not uneven[i].size}
    taken = [p for p in pieces if p.name in whole and p.name != names[p.sample]]
    if taken:  # a piece named as another sample: both would go by one name
        raise DataError(
            f"{source}: cutting sample {names[taken[0].sample]!r} at its gaps gives "
            f"the piece {taken[0].name!r}, which is also the name of another sample; "
            "rename that sample (the pieces of a cut sample are named SAMPLE/0, "
            "SAMPLE/1, ...)"
        )
    shown = ", ".join(repr(names[i]) for i in bad_samples[:5])
    shown += ", ..." if len(bad_samples) > 5 else ""
    what = (
        f"cut {len(bad_samples)} sample(s) ({shown}) where they are not equally "
        f"spaced (step {ref:g}{unit}), keeping pieces of 2 or more frames "
        f"(--on-gap cut)"
        if on_gap == "cut"
        else f"dropped {len(bad_samples)} sample(s) that are not equally spaced in "
        f"time (step {ref:g}{unit}): {shown} (--on-gap drop)"
    )
    if not pieces and irregular:
        raise _irregular_error(steps, text, names, irregular, ref, source, unit)
    if not pieces:
        raise DataError(f"{source}: no equally spaced stretch of 2 frames is left")
    warnings.warn(f"{source}: {what}", DataNotice, stacklevel=2)
    return pieces


def _jittered(steps: np.ndarray, ref: float) -> bool:
    """Whether a sample's steps are irregular (jittered stamps such as 0, 0.98,
    2.03, 2.99) rather than a regular grid with gaps: most of its steps differ from
    the file's step ``ref`` and they are not one other constant step either."""
    off = ~np.isclose(steps, ref, rtol=STEP_RTOL, atol=0)
    spread = float(np.ptp(steps)) > STEP_RTOL * abs(float(np.median(steps)))
    return 2 * int(off.sum()) > steps.size and spread


def _irregular_error(
    steps: list[np.ndarray],
    text: list[np.ndarray],
    names: list[str],
    irregular: list[int],
    ref: float,
    source: str,
    unit: str,
) -> DataError:
    """One line for samples whose time steps are irregular (:func:`_jittered`):
    which, the smallest and largest step seen, and the fix (resample them)."""
    i = irregular[0]
    every = np.concatenate([steps[j] for j in irregular])
    k = int(np.argmax(~np.isclose(steps[i], ref, rtol=STEP_RTOL, atol=0)))
    if len(irregular) == len(names):
        which, drop = f"every sample ({len(names)})", ""
    else:
        which = (
            f"{len(irregular)} of {len(names)} samples"
            if len(irregular) > 1
            else f"sample {names[i]!r}"
        )
        drop = " (or import with --on-gap drop to leave those samples out)"
    return DataError(
        f"{source}: the time steps of {which} are irregular, not a regular grid: "
        f"they range from {every.min():g}{unit} to {every.max():g}{unit} (median "
        f"step {ref:g}{unit}; e.g. sample {names[i]!r}: {text[i][k]!r} is followed "
        f"by {text[i][k + 1]!r}); the models assume equally spaced frames and "
        "--on-gap cut does not help (there are no gaps to cut at): resample the "
        f"samples onto a regular grid of step {ref:g}{unit} first (e.g. np.interp "
        "onto np.arange(t0, t1, step) per sample, object and feature, or pandas "
        "resample(...).interpolate() on a time index), or give the frame index as "
        f"the time if the stamps are only clock noise{drop}"
    )


def _calendar_months(text: list[np.ndarray]) -> int | None:
    """The step in months when every sample's ISO stamps fall on the same day of the
    month and time of day and advance by the same number of months (monthly,
    quarterly, yearly data), else None."""
    step = None
    for cells in text:
        if len(cells) < 2:
            continue
        stamps = _iso(pd.Series(cells, dtype=object))
        if stamps.isna().any():
            return None
        idx = pd.DatetimeIndex(stamps)
        months = idx.year.to_numpy() * 12 + idx.month.to_numpy()
        diffs = np.unique(np.diff(months))
        same_day = np.unique(idx.day).size == 1
        same_time = np.unique(idx - idx.normalize()).size == 1
        if diffs.size != 1 or diffs[0] < 1 or not (same_day and same_time):
            return None
        if step is not None and int(diffs[0]) != step:
            return None
        step = int(diffs[0])
    return step
