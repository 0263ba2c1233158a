"""Edge values of own data -> integer edge-type labels, the same way on every route.

Users bring graphs as labels (0 = no interaction, 1..K-1 = interaction types, -1 =
unknown) or as weights (correlations, coupling strengths, counts). Labels are kept as
they are, for any number of types K; weights are never recoded silently: without a
threshold they are refused with one line that says how to binarise them, with a
threshold ``weight > threshold`` is an interaction (1) and the rest 0 (NaN: unknown).
The ``.npz`` route (:mod:`nri.data.series`) and the data-directory route
(:mod:`nri.data.dataset`) both call :func:`to_labels`.

Labels 0..K-1 give K edge types. Counts or weights that happen to be whole numbers
(0..4 interactions per pair) pass as labels, so K > 2 is said in a notice unless the
number of types was given (:func:`check_edge_types`: ``nri import --edge-types K``,
``model.n_edge_types`` of a run or estimator), which the labels must then respect.
"""

from __future__ import annotations

import warnings

import numpy as np

from nri.data.errors import DataError
from nri.errors import DataNotice

MAX_EDGE_TYPES = 16  # more distinct labels than this are counts or weights, not types


def to_labels(
    values: np.ndarray, source: str, threshold: float | None = None
) -> np.ndarray:
    """Edge values (any shape, off-diagonal entries only) -> int64 labels.

    Args:
        values: the edge values as stored.
        source: the file, for messages.
        threshold: None: the values must be labels -1..K-1 (K <= 16); a number:
            ``values > threshold`` -> 1, else 0, NaN -> -1 (unknown).

    Returns:
        int64 labels of the same shape.

    Raises:
        DataError: NaN, non-integer, below -1 or too many types without a threshold.
    """
    v = np.asarray(values)
    if not (np.issubdtype(v.dtype, np.number) or v.dtype == np.bool_):
        raise DataError(f"{source}: edges have dtype {v.dtype}; expected numbers")
    v = v.astype(np.float64)
    if threshold is not None:
        labels = np.where(v > threshold, 1, 0)
        return np.where(np.isnan(v), -1, labels).astype(np.int64)
    how = (
        "binarise them (e.g. (weights > 0).astype(int)) or import with "
        "--edge-threshold T (weight > T is an interaction)"
    )
    if np.isnan(v).any():
        raise DataError(
            f"{source}: edges contain NaN; mark unknown edges with -1, or {how}"
        )
    if np.isinf(v).any():
        raise DataError(f"{source}: edges contain infinite values; {how}")
    found = np.unique(v)
    odd = found[~is_label(found)]
    if odd.size:
        raise DataError(
            f"{source}: edge values must be labels 0 (no interaction), 1..K-1 "
            f"(interaction types) or -1 (unknown), found {_show(odd)}; these look like "
            f"weights: {how}"
        )
    if found.max(initial=0) >= MAX_EDGE_TYPES:
        raise DataError(
            f"{source}: edge labels up to {found.max():g} ({MAX_EDGE_TYPES} edge types "
            f"at most); these look like counts or weights: {how}"
        )
    return v.astype(np.int64)


def is_label(values: np.ndarray) -> np.ndarray:
    """Which values are edge labels: finite whole numbers of at least -1."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values == np.round(values)) & (values >= -1)


def _show(values: np.ndarray) -> str:
    text = ", ".join(f"{x:g}" for x in values[:5])
    return text + (", ..." if values.size > 5 else "")


def n_edge_types(labels: np.ndarray) -> int:
    """K = the largest label + 1 (at least 2; -1 = unknown is not a type)."""
    return max(2, int(np.max(labels, initial=0)) + 1)


def notice_diagonal_only(diagonal: np.ndarray, labels: np.ndarray, source: str) -> None:
    """A :class:`~nri.errors.DataNotice` for a truth whose only non-zero entries are
    on the diagonal (an identity matrix): the diagonal is ignored, so it says that no
    object interacts, which is almost surely a mistake. Graphs with interactions off
    the diagonal (StructInfer's self-loops, a -1 diagonal beside real edges) pass.

    Args:
        diagonal: the diagonal entries as written (any shape; NaN or empty = none).
        labels: the off-diagonal labels (any shape).
        source: the file, for messages.
    """
    d = np.asarray(diagonal, dtype=np.float64)
    set_d = np.isfinite(d) & (d != 0)
    if (np.asarray(labels) > 0).any() or not set_d.any():
        return
    warnings.warn(
        f"{source}: the true edges have no interaction off the diagonal, their "
        "only non-zero entries are on it (an identity matrix?); the diagonal (an "
        "object and itself) is ignored, so this truth says that no "
        "object interacts: check that it is [receiver, sender] with the "
        "interactions off the diagonal and zeros on it",
        DataNotice,
        stacklevel=3,
    )


def check_edge_types(
    labels: np.ndarray, source: str, n_types: int | None = None
) -> None:
    """The labels' number of types K (:func:`n_edge_types`) against the number the
    user gave: labels of ``n_types`` or more are refused; without ``n_types``,
    K > 2 gives a :class:`~nri.errors.DataNotice` (counts or weights such as 0..4
    would otherwise train as 5 types). Call it once per truth read.

    Args:
        labels: int64 labels (any shape; -1 unknown).
        source: the file, for messages.
        n_types: the number of edge types the user gave, or None.

    Raises:
        DataError: a label of ``n_types`` or more.
    """
    k = n_edge_types(labels)
    if n_types is not None:
        if k > n_types:
            raise DataError(
                f"{source}: edge labels go up to {k - 1} but {n_types} edge types "
                f"were given (labels 0..{n_types - 1}, -1 unknown); give "
                f"{k} edge types, or binarise counts or weights (e.g. (A > 0))"
            )
        return
    if k > 2:
        warnings.warn(
            f"{source}: the truth has labels 0..{k - 1}, read as {k} edge types; if "
            "they are counts or weights, not types, give a 0/1 matrix (e.g. (A > "
            "0).astype(int)) or import with --edge-threshold 0; if they are "
            f"{k} types, say so with nri import --edge-types {k}",
            DataNotice,
            stacklevel=3,
        )
