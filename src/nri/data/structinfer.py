"""The StructInfer / DoSI benchmark layout, read as the files are (docs/structinfer.md).

Wang et al., "Benchmarking Structural Inference Methods for Interacting Dynamical
Systems with Synthetic Data" (NeurIPS 2024, datasets and benchmarks track; code
wang422003/Benchmarking-Structural-Inference-Methods-for-Interacting-Dynamical-Systems,
``src/simulations/generate_trajectories.py``, ``synthetic_sim.py``). One directory per
graph family, e.g. ``brain_networks/directed/springs/``, holding for every node count
``N``, repetition ``r`` (and noise level ``_nL``) one data set:

* springs: ``{loc,vel}_{train,valid,test}_springs{N}r{r}.npy`` ``[S, T, 2, N]``
  (T = 49, test 99), ``edges_{split}_springs{N}r{r}.npy`` one ``[N, N]`` adjacency;
* NetSims: ``bold_{split}_netsims{N}r{r}.npy`` ``[S, T, 1, N]`` and the same
  ``edges_...`` file, whose diagonal is -1 (the generator writes its self-decay term
  into the matrix it saves).

The adjacency is used by the generators as ``A[i, j]``: "node i is driven by node j"
(the spring force on i sums ``A[i, j] (x_j - x_i)``, the NetSim state
``dz_i = sigma sum_j A[i, j] z_j dt``), i.e. indexed ``[receiver, sender]`` as in
:mod:`nri.graph`, so it is used without a transpose. The benchmark's own NRI scripts
flatten it row by row with the row as receiver, the same convention. Labels are
``A > 0`` off the diagonal (the benchmark binarises ``A > 0``); the diagonal (self-loops
in some graph families, -1 in NetSims files) is dropped, and the data set's metadata
says how many diagonal entries were non-zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nri import graph
from nri.data.errors import DataError
from nri.data.files import check_finite, load_array

NETSIMS = "netsims"

__all__ = ["NETSIMS", "StructInferSplit", "is_structinfer", "read_split"]


class StructInferSplit(NamedTuple):
    """One split: trajectories ``x [S, N, T, F]`` float64 (springs ``(x, y, vx,
    vy)``, NetSims ``(bold,)``), labels ``[S, E]`` int64 (the one graph, repeated)
    and the adjacency's diagonal as stored ``[N]``."""

    x: np.ndarray
    labels: np.ndarray
    diagonal: np.ndarray


def is_structinfer(root: Path, suffix: str) -> bool:
    """Whether the set ``suffix`` in ``root`` is in the StructInfer layout: a
    ``bold_train_`` file, or a training edge file holding one ``[N, N]`` matrix."""
    if (root / f"bold_train_{suffix}.npy").exists():
        return True
    path = root / f"edges_train_{suffix}.npy"
    if not path.exists():
        return False
    return load_array(path, f"train split of {suffix}").ndim == 2


def _trajectories(path: Path, n: int, edge_file: str, n_feat: int) -> np.ndarray:
    """``[S, T, F, N]`` (the generators' order) -> ``[S, N, T, F]`` float64."""
    a = load_array(path, edge_file)
    if a.ndim != 4 or a.shape[2] != n_feat or n not in (a.shape[1], a.shape[3]):
        raise DataError(
            f"{path} has shape {a.shape}; expected [S, T, {n_feat}, {n}] to match "
            f"{edge_file}"
        )
    check_finite(a, path)
    if a.shape[3] == n:  # [S, T, F, N], what the generator writes (also when T == N)
        return np.asarray(a, dtype=np.float64).transpose(0, 3, 1, 2)
    # [S, N, F, T], the order the benchmark's documentation states
    return np.asarray(a, dtype=np.float64).transpose(0, 1, 3, 2)


def read_split(root: Path, suffix: str, split: str, system: str) -> StructInferSplit:
    """One split of a StructInfer set, checked (one-line :class:`DataError`).

    Args:
        root, suffix: the directory and the set (``springs15r1``, ``netsims30r2_n1``).
        split: "train", "valid" or "test".
        system: "springs" (``loc``/``vel``) or :data:`NETSIMS` (``bold``).
    """
    edge_path = root / f"edges_{split}_{suffix}.npy"
    adj = load_array(edge_path, f"{split} split of {suffix}")
    if adj.ndim == 3 and adj.shape[1] == adj.shape[2]:
        same = np.all(adj == adj[:1])
        if not same:
            raise DataError(
                f"{edge_path} holds {adj.shape[0]} different graphs; the StructInfer "
                "layout has one [N, N] graph per split"
            )
        adj = adj[0]
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise DataError(
            f"{edge_path} has shape {adj.shape}; expected one [N, N] adjacency"
        )
    check_finite(adj, edge_path)
    n = int(adj.shape[0])
    if system == NETSIMS:
        x = _trajectories(root / f"bold_{split}_{suffix}.npy", n, edge_path.name, 1)
    else:
        loc = _trajectories(root / f"loc_{split}_{suffix}.npy", n, edge_path.name, 2)
        vel = _trajectories(root / f"vel_{split}_{suffix}.npy", n, edge_path.name, 2)
        if loc.shape != vel.shape:
            raise DataError(
                f"loc_{split}_{suffix}.npy and vel_{split}_{suffix}.npy differ in "
                f"shape: {loc.shape} vs {vel.shape}"
            )
        x = np.concatenate([loc, vel], axis=-1)  # [S, N, T, 4]
    a = np.asarray(adj, dtype=np.float64)
    off = graph.to_edges_np((a > 0).astype(np.int64)[None])  # [1, E]
    labels = np.repeat(off, x.shape[0], axis=0)  # [S, E]
    return StructInferSplit(x, labels, np.diagonal(a).copy())


def describe_diagonal(diagonals: dict[str, np.ndarray]) -> dict[str, Any]:
    """The metadata entry that says what was dropped from the diagonal."""
    first = next(iter(diagonals.values()))
    values = sorted({float(v) for d in diagonals.values() for v in d.tolist()})
    return {
        "dropped": True,
        "nonzero": int(np.count_nonzero(first)),
        "values": values[:10],
        "note": "the adjacency's diagonal (self-loops; -1 self-decay in NetSims "
        "files) is not an edge label: NRI models have no self-edges",
    }


def structinfer_meta(
    system: str, diagonals: dict[str, np.ndarray], n_objects: int
) -> dict[str, Any]:
    """The metadata of a StructInfer set read from its files."""
    return {
        "layout": "structinfer",
        "system": system,
        "n_objects": n_objects,
        "shared_graph": True,
        "adjacency": "A[i, j] != 0: node i is driven by node j ([receiver, sender], "
        "as the generator's dynamics use it; no transpose); labels A > 0",
        "diagonal": describe_diagonal(diagonals),
    }
