"""Edge values of own data -> integer edge-type labels, the same way on every route.

Users bring graphs as labels (0 = no interaction, 1..K-1 = interaction types, -1 =
unknown) or as weights (correlations, coupling strengths, counts). Labels are kept as
they are, for any number of types K; weights are never recoded silently: without a
threshold they are refused with one line that says how to binarise them, with a
threshold ``weight > threshold`` is an interaction (1) and the rest 0 (NaN: unknown).
The ``.npz`` route (:mod:`nri.data.series`) and the data-directory route
(:mod:`nri.data.dataset`) both call :func:`to_labels`.
"""

from __future__ import annotations

import numpy as np

from nri.data.errors import DataError

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
