"""The checks of :func:`nri.data.series.make_series`: trajectories, names and edges
the models can use, refused in one line that says what to do, the notice for an
array whose axes look swapped ([S, T, N, F]) and the one for samples left out of
windows because they are shorter than one (:func:`notice_short_samples`).

Kept apart from :mod:`nri.data.series` (which re-exports :func:`notice_swapped_axes`)
so that the data model stays short; this module does not import it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from nri import graph
from nri.data.errors import DataError
from nri.data.labels import check_edge_types, notice_diagonal_only, to_labels
from nri.errors import DataNotice

__all__ = [
    "SHORT_TIME_AXIS",
    "check_names",
    "check_trajectories",
    "edge_labels",
    "notice_short_samples",
    "notice_swapped_axes",
]


def check_trajectories(x: np.ndarray, source: str) -> np.ndarray:
    """Trajectories the models can use, as float64, or one line saying what to do:
    4 axes, numbers, not empty, at least 2 objects and 2 frames, every value finite.

    Shapes:
        x ``[S, N, T, F]`` -> ``[S, N, T, F]`` float64.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise DataError(
            f"{source}: trajectories have shape {x.shape}; expected 4 axes "
            "[samples, objects, time, features] (add an axis with x[None] for one "
            "sample or x[..., None] for one feature)"
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise DataError(
            f"{source}: trajectories have dtype {x.dtype}; expected numbers"
        )
    s, n, t, f = x.shape
    if min(s, t, f) < 1:
        raise DataError(f"{source}: trajectories of shape {x.shape} are empty")
    if n < 2:
        raise DataError(
            f"{source}: {n} object per sample; relational inference needs at least 2 "
            "interacting objects (axis 1 of [samples, objects, time, features])"
        )
    if t < 2:
        raise DataError(f"{source}: {t} time step per sample; at least 2 are needed")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{source}: {int(bad.sum())} missing (NaN) or infinite values, the first at "
            f"sample {i[0]}, object {i[1]}, time {i[2]}, feature {i[3]}; fill or "
            "interpolate the gaps, or drop the samples that have them"
        )
    return x


SHORT_TIME_AXIS = 8  # fewer frames than this and more objects: axes 1 and 2 swapped?


def notice_swapped_axes(x: np.ndarray, source: str) -> None:
    """A :class:`~nri.errors.DataNotice` when an array ``[S, N, T, F]`` looks like
    ``[S, T, N, F]``: very few frames (under 8) and more objects than frames (e.g.
    ``x.transpose(0, 2, 1, 3)`` of 30 frames of 4 objects reads as 30 objects x 4
    frames, and trains on nonsense without an error)."""
    if x.ndim != 4:
        return
    n, t = int(x.shape[1]), int(x.shape[2])
    if t < SHORT_TIME_AXIS and n > t:
        warnings.warn(
            f"{source}: {n} objects x {t} frames per sample; is the array [S, T, N, "
            "F]? nri expects [samples, objects, frames, features]; transpose it with "
            "x.transpose(0, 2, 1, 3)",
            DataNotice,
            stacklevel=3,
        )


def notice_short_samples(
    short: list[tuple[str, int, str]],
    window: str,
    source: str,
    fix: str,
    what: str = "sample(s)",
) -> None:
    """A :class:`~nri.errors.DataNotice` naming the samples (or pieces, trials) that
    gave no window because they are shorter than one: they are left out of the
    data, which would otherwise go unnoticed while other samples are long enough.

    Args:
        short: ``(name, frames, note)`` of every sample left out, in the data's
            order (``note``: e.g. ``", test"``, after the frames in the message).
        window: the window, for the message ("the window of 50 frames").
        source: the file, for messages.
        fix: what keeps them ("choose a window <= 12 (--window)").
        what: what they are, plural ("trial(s)").
    """
    if not short:
        return
    shown = ", ".join(f"{name!r} ({t} frames{note})" for name, t, note in short[:3])
    shown += ", ..." if len(short) > 3 else ""
    total = sum(t for _, t, _ in short)
    warnings.warn(
        f"{source}: left out {len(short)} {what} shorter than {window} "
        f"({total} frames in all): {shown}; {fix} to keep them",
        DataNotice,
        stacklevel=3,
    )


def check_names(
    names: Any, count: int, prefix: str, what: str, source: str
) -> tuple[str, ...]:
    """``count`` names (default ``PREFIX0 ..``), unique and not empty."""
    if names is None:
        return tuple(f"{prefix}{i}" for i in range(count))
    arr = np.asarray(names)
    if arr.ndim != 1:
        raise DataError(
            f"{source}: {what} has shape {list(arr.shape)}; give one name per entry, "
            f"a list of {count}"
        )
    out = tuple(str(v) for v in arr)
    if len(out) != count:
        raise DataError(f"{source}: {len(out)} {what} for {count} entries")
    empty = [i for i, v in enumerate(out) if not v.strip()]
    if empty:
        raise DataError(
            f"{source}: {what} entry {empty[0]} is empty; give every entry a name"
        )
    first: dict[str, int] = {}
    for i, v in enumerate(out):
        if v in first:  # outputs and matching by name would mix the two up
            raise DataError(
                f"{source}: {what} has {v!r} twice (entries {first[v]} and {i}); "
                "give every entry a different name"
            )
        first[v] = i
    return out


def edge_labels(
    edges: np.ndarray,
    s: int,
    n: int,
    source: str,
    threshold: float | None = None,
    n_types: int | None = None,
) -> np.ndarray:
    """Edges of any accepted shape as labels ``[S, E]`` in :mod:`nri.graph` order
    (:func:`nri.data.labels.to_labels`), with the diagonal-only notice and the
    check of the number of types (:func:`nri.data.labels.check_edge_types`:
    ``n_types`` given, or a notice for more than 2)."""
    e = n * (n - 1)
    if edges.shape in ((n, n), (e,)):
        edges = np.broadcast_to(edges, (s, *edges.shape))  # one graph for all samples
    diagonal = None
    if edges.shape == (s, n, n):
        diagonal = np.diagonal(edges, axis1=1, axis2=2)  # [S, N], ignored
        edges = graph.to_edges_np(edges)  # [S, E], diagonal dropped
    elif edges.shape != (s, e):
        raise DataError(
            f"{source}: edges have shape {edges.shape}; expected [{s}, {n}, {n}] "
            f"(indexed [receiver, sender]), [{s}, {e}] (nri.graph order), [{n}, {n}] "
            f"or [{e}] for one graph"
        )
    labels = np.ascontiguousarray(to_labels(edges, source, threshold))
    if diagonal is not None:
        notice_diagonal_only(diagonal, labels, source)
    check_edge_types(labels, source, n_types)
    return labels
