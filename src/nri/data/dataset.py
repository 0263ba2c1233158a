"""Reading data sets in the original NRI layout into normalised tensors.

One function, :func:`load_dataset`, reads our simulated sets and the originals' files
(``../shared/reference-data``) alike: springs/charged (``loc``/``vel``/``edges``) and
Kuramoto (``feat``/``edges``). Every file is checked (:mod:`nri.data.files`), and a
problem fails with one line that names the file.

It also reads the generic layout that ``nri import`` writes for users' own data
(system ``custom``, :mod:`nri.data.custom`): ``feat_{split}_{name}.npy``
``[S, N, T, F]`` in physical units, optional ``edges_{split}_{name}.npy`` ``[S, N, N]``
integer labels indexed [receiver, sender], and ``meta_{name}.json``. All features are
kept; edges that are not given are labelled -1 (unknown). A single ``.npz``/``.npy``/
``.csv`` file may be given instead of a directory (split on the fly, see
:func:`nri.data.custom.load_file_dataset`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from nri import graph
from nri.data.files import (
    CUSTOM,
    DataError,
    read_meta,
    read_split,
    resolve_dataset,
    system_of,
)
from nri.data.labels import to_labels
from nri.data.normalize import Normalizer, fit_normalizer, normalise
from nri.sim.io import SPLITS, marker_name

KURAMOTO_FEATURES = ("dphi", "sin_phi", "phase", "omega")

__all__ = [
    "CUSTOM",
    "DataError",
    "LoadedData",
    "Split",
    "check_finite_splits",
    "edge_labels",
    "feature_names",
    "fit_normalizer",
    "load_dataset",
    "normalise",
    "physical_split",
]


class Split(NamedTuple):
    """One split, normalised.

    Shapes:
        x ``[S, N, T, F]`` float32; edges ``[S, E]`` int64 labels in the order of
        :mod:`nri.graph`.
    """

    x: Tensor
    edges: Tensor


@dataclass
class LoadedData:
    """A data set ready for the models.

    Attributes:
        splits: split name -> :class:`Split`.
        normalizer: fitted on the training split (maps physical units to [-1, 1]).
        system: "springs", "charged", "kuramoto" (or "particles" when unknown).
        suffix: the file suffix, e.g. "springs5".
        meta: our metadata file's content, or None for files written by other code.
    """

    splits: dict[str, Split]
    normalizer: Normalizer
    system: str
    suffix: str
    meta: dict[str, Any] | None = None
    source: str = ""
    raw_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def valid(self) -> Split:
        return self.splits["valid"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def n_objects(self) -> int:
        return int(next(iter(self.splits.values())).x.shape[1])

    @property
    def n_features(self) -> int:
        return int(next(iter(self.splits.values())).x.shape[3])

    @property
    def has_edges(self) -> bool:
        """True when some edge labels are known (labels < 0 mean unknown)."""
        return any(bool((s.edges >= 0).any()) for s in self.splits.values())

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (stored with every run as ``data.json``)."""
        meta = self.meta or {}
        return {
            "source": self.source,
            "suffix": self.suffix,
            "system": self.system,
            "n_objects": self.n_objects,
            "n_features": self.n_features,
            "feature_names": list(self.normalizer.names)
            or [f"f{i}" for i in range(self.n_features)],
            "object_names": list(meta.get("object_names", [])),
            "has_edges": self.has_edges,
            "splits": {
                name: {"n_samples": int(s.x.shape[0]), "n_frames": int(s.x.shape[2])}
                for name, s in self.splits.items()
            },
            "normalizer": self.normalizer.to_dict(),
        }

    def summary(self) -> str:
        """A few lines describing the data set."""
        lines = [f"data set {self.suffix} ({self.system}) from {self.source}"]
        for name, s in self.splits.items():
            known = s.edges[s.edges >= 0]
            if not known.numel():
                labels = "no edge labels"
            elif int(known.max()) > 1:  # K > 2 edge types: the fraction of each
                frac = torch.bincount(known).float() / known.numel()
                labels = "label fractions " + ", ".join(
                    f"{k}: {v:.4f}" for k, v in enumerate(frac.tolist())
                )
            else:
                labels = f"label-1 fraction {known.float().mean().item():.4f}"
            lines.append(
                f"  {name:5s}: {s.x.shape[0]:6d} samples x {s.x.shape[1]} objects x "
                f"{s.x.shape[2]} frames x {s.x.shape[3]} features; "
                f"{labels}; range [{s.x.min().item():.3f}, "
                f"{s.x.max().item():.3f}]"
            )
        lo = ", ".join(f"{m:.4g}" for m in self.normalizer.mins)
        hi = ", ".join(f"{m:.4g}" for m in self.normalizer.maxs)
        lines.append(f"  normaliser (train) min [{lo}] max [{hi}]")
        return "\n".join(lines)


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
        return to_labels(off, source, threshold)
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
        raw: the arrays of :func:`read_split`.
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
        loc = np.asarray(raw["loc"], dtype=np.float64).transpose(
            0, 3, 1, 2
        )  # [S,n,T,2]
        vel = np.asarray(raw["vel"], dtype=np.float64).transpose(0, 3, 1, 2)
        x = np.concatenate([loc, vel], axis=-1)  # [S, n, T, 4]
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


def check_finite_splits(data: LoadedData) -> None:
    """A DataError naming the split and feature of the first non-finite value of a
    loaded (normalised) data set, e.g. one built by hand in Python."""
    for name, split in data.splits.items():
        bad = ~torch.isfinite(split.x)
        if bool(bad.any()):
            f = int(bad.reshape(-1, bad.shape[-1]).any(dim=0).nonzero()[0])
            names = data.normalizer.names
            feat = names[f] if len(names) == split.x.shape[-1] else f
            raise DataError(
                f"{data.source or 'data'}: feature {feat!r} of the {name} split has "
                f"{int(bad.sum())} non-finite value(s) after normalisation; remove "
                "or fix such outliers"
            )


def load_dataset(
    path: str | Path,
    suffix: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    kuramoto_features: tuple[int, ...] = (0, 1, 3),
    normalizer: Normalizer | None = None,
) -> LoadedData:
    """Read a data set in the original layout and normalise it with training statistics.

    Args:
        path: directory holding the files, or one ``.npz``/``.npy``/``.csv`` file of
            own data (split with :func:`nri.data.custom.load_file_dataset`'s
            defaults: 10 % validation, 10 % test, seed 0; ``suffix`` is ignored).
        suffix: which data set (e.g. "springs5"); may be omitted when the directory
            holds exactly one.
        splits: which splits to return (the training split is always read to fit the
            normaliser).
        kuramoto_features: features kept from the 4 stored Kuramoto features (dphi,
            sin phi, phase, omega); the default (0, 1, 3) drops the scaled phase, as
            NRI-MPM does.
        normalizer: use this normalisation (e.g. a trained run's) instead of fitting
            one on the training split; the training split is then not read unless asked.

    Returns:
        :class:`LoadedData` with ``x [S, N, T, F]`` float32 and ``edges [S, E]`` int64
        (-1 where unknown: sets without edge files).
    """
    if Path(path).is_file():
        from nri.data.custom import load_file_dataset

        return load_file_dataset(path, splits=splits, normalizer=normalizer)
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

    needed = splits if normalizer is not None else ("train", *splits)
    raw = {s: read_split(root, suffix, s, system) for s in dict.fromkeys(needed)}
    first = "feat" if system in ("kuramoto", CUSTOM) else "edges"
    n_objects = {s: r[first].shape[1 if first == "feat" else 1] for s, r in raw.items()}
    if len(set(n_objects.values())) > 1:
        raise DataError(
            f"splits of {suffix} differ in the number of objects: {n_objects}"
        )
    keep = tuple(kuramoto_features)
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
    else:
        stored = 4
    names = feature_names(system, stored, keep, meta)

    physical = {
        s: physical_split(r, system, keep, str(root / f"edges_{s}_{suffix}.npy"))
        for s, r in raw.items()
    }
    if normalizer is None:
        train = physical["train"][0]
        if system in ("springs", "charged", "particles"):
            normalizer = Normalizer.fit_particles(train[..., :2], train[..., 2:])
        else:
            groups = (meta or {}).get("feature_groups")
            normalizer = fit_normalizer(train, names, groups)
    elif normalizer.n_features != len(names):
        raise DataError(
            f"data set {suffix} has {len(names)} features per object but the given "
            f"normaliser (a trained run's) has {normalizer.n_features}; use data with "
            "the features the model was trained on"
        )

    out: dict[str, Split] = {}
    for s in splits:
        x, labels = physical[s]
        x = normalise(normalizer, x, s, f"data set {suffix} in {root}")
        if labels is None:
            e = x.shape[1] * (x.shape[1] - 1)
            labels = np.full((x.shape[0], e), -1, dtype=np.int64)  # unknown
        out[s] = Split(
            torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(labels)
        )
    return LoadedData(
        splits=out,
        normalizer=normalizer,
        system=system,
        suffix=suffix,
        meta=meta,
        source=str(root),
    )
