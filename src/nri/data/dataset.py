"""Reading data sets in the original NRI layout into normalised tensors.

One function, :func:`load_dataset`, reads our simulated sets and the originals' files
(``../shared/reference-data``) alike: springs/charged (``loc``/``vel``/``edges``) and
Kuramoto (``feat``/``edges``). It checks every file and fails with one line that names the
file and the problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from nri import graph
from nri.data.normalize import Normalizer
from nri.sim.io import SPLITS, file_names, marker_name, meta_name

KURAMOTO_FEATURES = ("dphi", "sin_phi", "phase", "omega")


class DataError(ValueError):
    """A data set is missing, incomplete, corrupt or inconsistent."""


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

    def summary(self) -> str:
        """A few lines describing the data set."""
        lines = [f"data set {self.suffix} ({self.system}) from {self.source}"]
        for name, s in self.splits.items():
            frac = s.edges.float().mean().item() if s.edges.numel() else float("nan")
            lines.append(
                f"  {name:5s}: {s.x.shape[0]:6d} samples x {s.x.shape[1]} objects x "
                f"{s.x.shape[2]} frames x {s.x.shape[3]} features; "
                f"label-1 fraction {frac:.4f}; range [{s.x.min().item():.3f}, "
                f"{s.x.max().item():.3f}]"
            )
        lo = ", ".join(f"{m:.4g}" for m in self.normalizer.mins)
        hi = ", ".join(f"{m:.4g}" for m in self.normalizer.maxs)
        lines.append(f"  normaliser (train) min [{lo}] max [{hi}]")
        return "\n".join(lines)


def find_suffixes(path: Path) -> list[str]:
    """Suffixes of the data sets in a directory (from their training edge files)."""
    pattern = re.compile(r"^edges_train_?(.*)\.npy$")
    return sorted(
        m.group(1)
        for p in path.glob("edges_train*.npy")
        if (m := pattern.match(p.name))
    )


def _resolve(path: str | Path, suffix: str | None) -> tuple[Path, str]:
    root = Path(path)
    if not root.exists():
        raise DataError(
            f"data directory {root} does not exist; run `nri simulate` first"
        )
    if root.is_file():
        raise DataError(f"{root} is a file; pass the directory that holds the data set")
    found = find_suffixes(root)
    if suffix is None:
        if len(found) == 1:
            return root, found[0]
        if not found:
            raise DataError(
                f"no data set in {root}: expected files such as edges_train_springs5.npy"
            )
        raise DataError(
            f"{root} holds several data sets ({', '.join(found)}); choose one with --suffix"
        )
    suffix = suffix.lstrip("_")
    if suffix not in found:
        extra = f" (found: {', '.join(found)})" if found else ""
        raise DataError(f"no data set '{suffix}' in {root}{extra}")
    return root, suffix


def _load_array(path: Path, what: str) -> np.ndarray:
    if not path.exists():
        raise DataError(f"missing file {path} ({what})")
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise DataError(
            f"cannot read {path}: {err} (not a plain numeric .npy file)"
        ) from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err}; the file is corrupt") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{path} holds several arrays; expected one .npy array")
    if not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise DataError(f"{path} has dtype {arr.dtype}; expected a float array")
    if arr.size == 0:
        raise DataError(f"{path} is empty (shape {arr.shape})")
    return arr


def _check_finite(arr: np.ndarray, path: Path) -> None:
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise DataError(f"{path} contains {bad} NaN or infinite values; regenerate it")


def read_split(
    root: Path, suffix: str, split: str, system: str
) -> dict[str, np.ndarray]:
    """Raw arrays of one split, validated.

    Shapes:
        particles: loc, vel ``[S, T, 2, n]``; Kuramoto: feat ``[S, n, T, D]``;
        edges ``[S, n, n]``.
    """
    names = file_names(system, suffix, split)
    arrays = {
        k: _load_array(root / name, f"{split} split of {suffix}")
        for k, name in names.items()
    }
    edges = arrays["edges"]
    if edges.ndim != 3 or edges.shape[1] != edges.shape[2]:
        raise DataError(
            f"{root / names['edges']} has shape {edges.shape}; expected [S, n, n]"
        )
    s, n = edges.shape[0], edges.shape[1]
    if system == "kuramoto":
        feat = arrays["feat"]
        if feat.ndim != 4 or feat.shape[0] != s or feat.shape[1] != n:
            raise DataError(
                f"{root / names['feat']} has shape {feat.shape}; expected [{s}, {n}, T, D] "
                f"to match {names['edges']}"
            )
    else:
        for key in ("loc", "vel"):
            a = arrays[key]
            if a.ndim != 4 or a.shape[0] != s or a.shape[2] != 2 or a.shape[3] != n:
                raise DataError(
                    f"{root / names[key]} has shape {a.shape}; expected [{s}, T, 2, {n}] "
                    f"to match {names['edges']}"
                )
        if arrays["loc"].shape != arrays["vel"].shape:
            raise DataError(
                f"{names['loc']} {arrays['loc'].shape} and {names['vel']} "
                f"{arrays['vel'].shape} differ in shape"
            )
    for key, a in arrays.items():
        _check_finite(a, root / names[key])
    return arrays


def edge_labels(adj: np.ndarray, system: str) -> np.ndarray:
    """Relation matrices ``[S, n, n]`` -> int64 labels ``[S, E]`` (spec/data.md 3.4).

    Springs/charged use the original's truncating cast of ``(A + 1) / 2`` (springs 1 ->
    1, 0 -> 0; charged +1 (equal charges) -> 1, -1 -> 0); Kuramoto couplings are 0/1 as
    they are.
    """
    labels = adj if system == "kuramoto" else (adj + 1) / 2
    return graph.to_edges_np(np.asarray(labels)).astype(np.int64)


def _system_of(root: Path, suffix: str, meta: dict[str, Any] | None) -> str:
    if meta is not None:
        return str(meta["system"])
    if (root / f"feat_train_{suffix}.npy").exists():
        return "kuramoto"
    for name in ("springs", "charged"):
        if suffix.startswith(name):
            return name
    return "particles"


def _read_meta(root: Path, suffix: str) -> dict[str, Any] | None:
    path = root / meta_name(suffix)
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(
            f"cannot read {path}: {err}; the metadata file is corrupt"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != "nri-dataset":
        raise DataError(f"{path} is not an nri data set metadata file")
    return meta


def load_dataset(
    path: str | Path,
    suffix: str | None = None,
    splits: tuple[str, ...] = SPLITS,
    kuramoto_features: tuple[int, ...] = (0, 1, 3),
    normalizer: Normalizer | None = None,
) -> LoadedData:
    """Read a data set in the original layout and normalise it with training statistics.

    Args:
        path: directory holding the files.
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
        :class:`LoadedData` with ``x [S, N, T, F]`` float32 and ``edges [S, E]`` int64.
    """
    root, suffix = _resolve(path, suffix)
    if (root / marker_name(suffix)).exists():
        raise DataError(
            f"data set {suffix} in {root} is incomplete (an interrupted `nri simulate`); "
            "run the simulation again"
        )
    meta = _read_meta(root, suffix)
    system = _system_of(root, suffix, meta)
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise DataError(f"unknown split(s) {unknown}; choose from {SPLITS}")

    raw = {
        s: read_split(root, suffix, s, system)
        for s in dict.fromkeys(("train", *splits))
    }
    n_objects = {s: r["edges"].shape[1] for s, r in raw.items()}
    if len(set(n_objects.values())) > 1:
        raise DataError(
            f"splits of {suffix} differ in the number of objects: {n_objects}"
        )

    if system == "kuramoto":
        n_feat = {s: r["feat"].shape[3] for s, r in raw.items()}
        if len(set(n_feat.values())) > 1:
            raise DataError(
                f"splits of {suffix} differ in the number of features: {n_feat}"
            )
        keep = list(kuramoto_features)
        if max(keep) >= n_feat["train"] or min(keep) < 0:
            raise DataError(
                f"kuramoto_features {tuple(keep)} out of range for "
                f"{n_feat['train']} stored features"
            )
        names = tuple(
            KURAMOTO_FEATURES[i] if n_feat["train"] == 4 else f"f{i}" for i in keep
        )
        train = np.asarray(raw["train"]["feat"], dtype=np.float64)[..., keep]
        normalizer = Normalizer.fit_per_feature(train, names)
    else:
        normalizer = Normalizer.fit_particles(
            np.asarray(raw["train"]["loc"]), np.asarray(raw["train"]["vel"])
        )

    out: dict[str, Split] = {}
    for s in splits:
        r = raw[s]
        if system == "kuramoto":
            x = np.asarray(r["feat"], dtype=np.float64)[..., keep]  # [S, n, T, D]
        else:
            loc = np.asarray(r["loc"], dtype=np.float64).transpose(
                0, 3, 1, 2
            )  # [S,n,T,2]
            vel = np.asarray(r["vel"], dtype=np.float64).transpose(0, 3, 1, 2)
            x = np.concatenate([loc, vel], axis=-1)  # [S, n, T, 4]
        x = normalizer.transform(x).astype(np.float32)
        labels = edge_labels(np.asarray(r["edges"]), system)
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
