"""Data set directories -> :class:`~nri.data.series.Series` in physical units.

Reads the original NRI layout (springs/charged ``loc``/``vel``/``edges``, Kuramoto
``feat``/``edges``: our simulator's files and the originals' alike) and the generic
layout that ``nri import`` writes (system ``custom``: ``feat [S, N, T, F]``, optional
``edges [S, N, N]``, ``meta_<name>.json``). Files are found and checked by
:mod:`nri.data.files`; this module turns one split's raw arrays into trajectories
``[S, N, T, F]``, edge labels ``[S, E]`` and names (:func:`read_nri`), or a whole
data set into a :class:`~nri.data.splits.SeriesSet` (:func:`read_data_dir`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from nri import graph
from nri.data.errors import DataError
from nri.data.files import (
    CUSTOM,
    read_meta,
    read_split,
    resolve_dataset,
    system_of,
)
from nri.data.labels import check_edge_types, notice_diagonal_only, to_labels
from nri.data.series import Series, make_series
from nri.data.splits import SeriesSet
from nri.data.stored import stored_sample_names, stored_times
from nri.data.structinfer import NETSIMS, is_structinfer, structinfer_meta
from nri.data.structinfer import describe_diagonal as _describe_diagonal
from nri.data.structinfer import read_split as _read_structinfer
from nri.sim.io import SPLITS, marker_name

KURAMOTO_FEATURES = ("dphi", "sin_phi", "phase", "omega")
PARTICLE_GROUPS = (0, 0, 1, 1)  # one (min, max) for positions, one for velocities

__all__ = [
    "KURAMOTO_FEATURES",
    "edge_labels",
    "feature_names",
    "physical_split",
    "read_data_dir",
    "read_nri",
]


def edge_labels(
    adj: np.ndarray,
    system: str,
    source: str = "edges",
    threshold: float | None = None,
) -> np.ndarray:
    """Relation matrices ``[S, n, n]`` -> int64 labels ``[S, E]`` (spec/data.md 3.4).

    Springs/charged use the original's truncating cast of ``(A + 1) / 2`` (springs 1 ->
    1, 0 -> 0; charged +1 (equal charges) -> 1, -1 -> 0). Kuramoto couplings and own
    data are labels 0..K-1 (-1 unknown) checked by :func:`nri.data.labels.to_labels`
    (weights are refused, or binarised with ``threshold``); ``source`` names the file.
    """
    if system in ("kuramoto", CUSTOM):
        off = graph.to_edges_np(np.asarray(adj))  # [S, E], the diagonal is not a label
        labels = to_labels(off, source, threshold)
        if system == CUSTOM:
            diagonal = np.diagonal(np.asarray(adj), axis1=-2, axis2=-1)  # ignored
            notice_diagonal_only(diagonal, labels, source)
        return labels
    return graph.to_edges_np(np.asarray((adj + 1) / 2)).astype(np.int64)


def physical_split(
    raw: dict[str, np.ndarray],
    system: str,
    keep: tuple[int, ...] = (0, 1, 3),
    source: str = "edges",
    edge_threshold: float | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Raw arrays of one split -> trajectories in physical units and edge labels.

    Args:
        raw: the arrays of :func:`nri.data.files.read_split`.
        system: "springs", "charged", "kuramoto", "particles" or "custom".
        keep: the Kuramoto features kept (ignored for other systems).
        source: the edge file, for messages.
        edge_threshold: binarise own data's edge weights (:func:`edge_labels`).

    Shapes:
        returns x ``[S, N, T, F]`` float64 and labels ``[S, E]`` int64 (None when the
        set has no edge file).
    """
    if system == "kuramoto":
        x = np.asarray(raw["feat"], dtype=np.float64)[..., list(keep)]  # [S, n, T, D]
    elif system == CUSTOM:
        x = np.asarray(raw["feat"], dtype=np.float64)  # [S, n, T, F]
    else:
        loc = np.asarray(raw["loc"], dtype=np.float64).transpose(0, 3, 1, 2)
        vel = np.asarray(raw["vel"], dtype=np.float64).transpose(0, 3, 1, 2)
        x = np.concatenate([loc, vel], axis=-1)  # [S, T, 2, n] x 2 -> [S, n, T, 4]
    labels = (
        edge_labels(np.asarray(raw["edges"]), system, source, edge_threshold)
        if "edges" in raw
        else None
    )
    return x, labels


def feature_names(
    system: str, n_stored: int, keep: tuple[int, ...], meta: dict[str, Any] | None
) -> tuple[str, ...]:
    """Names of the features :func:`physical_split` returns."""
    if system == "kuramoto":
        return tuple(KURAMOTO_FEATURES[i] if n_stored == 4 else f"f{i}" for i in keep)
    if system == CUSTOM:
        names = (meta or {}).get("feature_names") or []
        return (
            tuple(str(n) for n in names)
            if len(names) == n_stored
            else tuple(f"f{i}" for i in range(n_stored))
        )
    return ("x", "y", "vx", "vy")


def read_data_dir(
    path: str | Path,
    suffix: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    kuramoto_features: tuple[int, ...] = (0, 1, 3),
    edge_threshold: float | None = None,
    n_edge_types: int | None = None,
) -> SeriesSet:
    """The splits ``splits`` of a data set directory, checked and in physical units.

    Args:
        path: the directory.
        suffix: which data set (may be omitted when the directory holds exactly one).
        splits: the splits to read.
        kuramoto_features: features kept from the 4 stored Kuramoto features (dphi,
            sin phi, phase, omega); the default drops the scaled phase, as NRI-MPM does.
        edge_threshold: binarise own data's edge weights (:func:`edge_labels`).
        n_edge_types: own data's number of edge types, when the user gave it; else
            the one ``nri import`` recorded, else more than 2 are said in one notice
            (:func:`nri.data.labels.check_edge_types`).

    Raises:
        DataError: a missing, incomplete or inconsistent set (one line naming the file).
    """
    root, suffix = resolve_dataset(path, suffix)
    if (root / marker_name(suffix)).exists():
        raise DataError(
            f"data set {suffix} in {root} is incomplete (an interrupted `nri simulate` "
            "or `nri import`); write it again"
        )
    meta = read_meta(root, suffix)
    system = system_of(root, suffix, meta)
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise DataError(f"unknown split(s) {unknown}; choose from {SPLITS}")

    if system == NETSIMS or (
        system in ("springs", "particles") and is_structinfer(root, suffix)
    ):
        return _read_structinfer_dir(root, suffix, splits, system, meta)
    raw = {s: read_split(root, suffix, s, system) for s in dict.fromkeys(splits)}
    first = "feat" if system in ("kuramoto", CUSTOM) else "edges"
    n_objects = {s: r[first].shape[1] for s, r in raw.items()}
    if len(set(n_objects.values())) > 1:
        raise DataError(
            f"splits of {suffix} differ in the number of objects: {n_objects}"
        )
    keep = tuple(kuramoto_features)
    stored = 4
    if system in ("kuramoto", CUSTOM):
        n_feat = {s: r["feat"].shape[3] for s, r in raw.items()}
        if len(set(n_feat.values())) > 1:
            raise DataError(
                f"splits of {suffix} differ in the number of features: {n_feat}"
            )
        stored = next(iter(n_feat.values()))
        if system == "kuramoto" and (max(keep) >= stored or min(keep) < 0):
            raise DataError(
                f"kuramoto_features {keep} out of range for {stored} stored features"
            )
    names = feature_names(system, stored, keep, meta)
    objects = (meta or {}).get("object_names")
    out = {}
    for s, r in raw.items():
        edge_file = str(root / f"edges_{s}_{suffix}.npy")
        x, labels = physical_split(r, system, keep, edge_file, edge_threshold)
        times = stored_times(root / f"times_{s}_{suffix}.npy", (len(x), x.shape[2]))
        series = make_series(
            x,
            feature_names=names,
            object_names=tuple(objects) if objects else None,
            sample_names=stored_sample_names(meta, s, x.shape[0], root, suffix),
            source=f"{root} ({suffix}, {s})",
            times=times,
            time_origin=None if times is None else (meta or {}).get("time_origin"),
        )
        named = (meta or {}).get("objects_named")  # None: imported before it was kept
        out[s] = replace(  # labels [S, E], checked above
            series, edges=labels, objects_named=named if objects else False
        )
    found = [s.edges for s in out.values() if s.edges is not None]
    if system == CUSTOM and found:  # once for all splits read
        k = (meta or {}).get("n_edge_types") if n_edge_types is None else n_edge_types
        check_edge_types(np.concatenate(found), f"the edges of {suffix} in {root}", k)
    if system in ("springs", "charged", "particles"):
        groups: tuple[int, ...] | None = PARTICLE_GROUPS
    else:
        stored_groups = (meta or {}).get("feature_groups")
        groups = None if stored_groups is None else tuple(stored_groups)
    return SeriesSet(
        splits=out,
        name=suffix,
        system=system,
        feature_groups=groups,
        meta=meta,
        source=str(root),
        label=f"data set {suffix} in {root}",
    )


def _read_structinfer_dir(
    root: Path,
    suffix: str,
    splits: tuple[str, ...],
    system: str,
    meta: dict[str, Any] | None,
) -> SeriesSet:
    """A set in the StructInfer / DoSI layout (:mod:`nri.data.structinfer`)."""
    read = {
        s: _read_structinfer(root, suffix, s, system) for s in dict.fromkeys(splits)
    }
    n_objects = {s: r.x.shape[1] for s, r in read.items()}
    if len(set(n_objects.values())) > 1:
        raise DataError(
            f"splits of {suffix} differ in the number of objects: {n_objects}"
        )
    n = next(iter(n_objects.values()))
    diagonals = {s: r.diagonal for s, r in read.items()}
    if meta is None:
        meta = structinfer_meta(system, diagonals, n)
    else:
        meta = {**meta, "diagonal": _describe_diagonal(diagonals)}
    names = ("bold",) if system == NETSIMS else ("x", "y", "vx", "vy")
    out = {}
    for s, r in read.items():
        series = make_series(r.x, feature_names=names, source=f"{root} ({suffix}, {s})")
        out[s] = replace(series, edges=r.labels)
    return SeriesSet(
        splits=out,
        name=suffix,
        system=system,
        feature_groups=(0,) if system == NETSIMS else PARTICLE_GROUPS,
        meta=meta,
        source=str(root),
        label=f"data set {suffix} in {root}",
    )


def read_nri(
    path: str | Path,
    split: str,
    suffix: str | None = None,
    edge_threshold: float | None = None,
    n_edge_types: int | None = None,
) -> Series:
    """One split of a data set directory (original NRI layout or ``nri import``'s),
    in physical units, with the features :func:`~nri.data.dataset.load_dataset` uses;
    ``edge_threshold`` binarises own data's edge weights, ``n_edge_types`` as
    :func:`read_data_dir`."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose from {SPLITS}")
    read = read_data_dir(path, suffix, (split,), edge_threshold=edge_threshold,
                         n_edge_types=n_edge_types)  # fmt: skip
    return read.splits[split]
