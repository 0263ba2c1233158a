"""Simulated fMRI (BOLD) of Smith et al. (NeuroImage 2011), "NetSim", as ACD (Löwe et
al. 2022) uses it: ``nri import PATH --format netsim`` (docs/netsim.md).

Layouts (``PATH`` is one of):

* Smith et al.'s ``simN.mat`` (or an ``.npz`` with the same variables): ``ts``
  ``[subjects * timepoints, nodes]`` (subject 1's time points first), ``net``
  ``[subjects, nodes, nodes]`` with ``net[s, i, j] != 0`` a connection **from node i
  to node j** (the row is the source) and -1 on the diagonal (each node's decay),
  optional scalars ``Nsubjects``, ``Ntimepoints``, ``Nnodes`` (checked when present);
* one subject as ACD reads it (``sim3_subject_K.npz`` of SRU_for_GCI): ``X_np``
  ``[nodes, timepoints]`` and ``Gref`` ``[nodes, nodes]`` indexed [receiver, sender]
  (row i lists node i's causes; 1 on the diagonal);
* a directory of such per-subject ``.npz`` files (ordered by the number in the name).

The reference network is the one that generated the data, so the edges are the truth.
``net`` is transposed to [receiver, sender] and its diagonal dropped; any nonzero
off-diagonal weight is an interaction (label 1), or with ``signed=true`` positive
weights are label 1 (excitatory) and negative ones label 2 (inhibitory). Every
subject must have the same graph (``graph=per_subject`` keeps each subject's own).

Each subject's series ``[nodes, timepoints]`` is one feature per node (``bold``),
cut into windows of ``--window`` frames (default 50, or the whole series when
shorter), ``--stride`` apart (default: the
window, no overlap). Splits (``split=subject``, the default) put whole subjects into
train/valid/test (``valid_frac``, ``test_frac`` of the subjects, at least one each,
drawn with ``seed``); ``split=window`` draws windows at random instead, so windows of
one subject fall into several splits (the graph is shared, so this only tests
forecasting on other time points of the same subjects).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from nri.data.files import DataError
from nri.data.format_helpers import (
    as_bool,
    choice,
    fraction,
    non_negative_int,
    npz_arrays,
    parse,
)
from nri.data.series import Series, make_series, make_windows

WINDOW = 50
OPTIONS: dict[str, tuple[Any, Any]] = {
    "split": ("subject", choice("subject", "window")),
    "valid_frac": (0.1, fraction),
    "test_frac": (0.1, fraction),
    "seed": (0, non_negative_int),
    "signed": (False, as_bool),
    "graph": ("shared", choice("shared", "per_subject")),
}
SMITH = "'ts' [subjects * timepoints, nodes] and 'net' [subjects, nodes, nodes]"
ACD = "'X_np' [nodes, timepoints] and 'Gref' [nodes, nodes]"


class Subjects(NamedTuple):
    """Every subject's BOLD series ``ts [S, N, T]`` and weighted graph ``adj [S, N,
    N]`` indexed [receiver, sender] (signed weights), and where they came from."""

    ts: np.ndarray
    adj: np.ndarray
    source: str


def read(
    path: str | Path,
    *,
    window: int | None = None,
    stride: int | None = None,
    **options: str,
) -> dict[str, Series]:
    """Read NetSim data (module docstring) into train/valid/test windows.

    Returns:
        ``{"train", "valid", "test": Series}``, one feature ``bold`` per node, edge
        labels in :mod:`nri.graph` order.

    Shapes:
        each split ``x [W, N, window, 1]``, edges ``[W, E]``.

    Raises:
        DataError: a file without the arrays above, shapes that disagree, subjects
            with different graphs (``graph=shared``), too few subjects or windows.
    """
    opts = parse(options, OPTIONS, "netsim")
    subj = _load(Path(path))
    labels = _labels(subj.adj, opts["signed"])  # [S, N, N]
    if opts["graph"] == "shared":
        _check_shared(labels, subj.source)
    n_subj, n_nodes, n_time = subj.ts.shape
    window = min(WINDOW, n_time) if window is None else window
    if window > n_time:
        raise DataError(
            f"{subj.source}: subjects have {n_time} time points; choose --window <= "
            f"{n_time} (default {WINDOW})"
        )
    series = make_series(
        subj.ts[..., None],  # [S, N, T] -> [S, N, T, 1]
        edges=labels,
        feature_names=("bold",),
        object_names=tuple(f"node{i + 1}" for i in range(n_nodes)),
        sample_names=tuple(f"subject{s + 1}" for s in range(n_subj)),
        source=subj.source,
        n_edge_types=3 if opts["signed"] else 2,  # said by the option
    )
    fracs = (opts["valid_frac"], opts["test_frac"])
    if opts["split"] == "subject":
        parts = _split(n_subj, *fracs, opts["seed"], "subjects", subj.source)
        return {
            k: make_windows(series.take(v), window, stride) for k, v in parts.items()
        }
    windows = make_windows(series, window, stride)
    parts = _split(windows.n_samples, *fracs, opts["seed"], "windows", subj.source)
    return {k: windows.take(v) for k, v in parts.items()}


def _labels(adj: np.ndarray, signed: bool) -> np.ndarray:
    """Signed weights ``[S, N, N]`` -> labels 0 none, 1 (excitatory), 2 inhibitory."""
    labels = (adj != 0).astype(np.int64)
    if signed:
        labels[adj < 0] = 2
    idx = np.arange(adj.shape[1])
    labels[:, idx, idx] = 0
    return labels


def _check_shared(labels: np.ndarray, source: str) -> None:
    diff = np.argwhere(labels != labels[:1])
    if diff.size:
        s, recv, send = (int(v) for v in diff[0])
        n_diff = len({int(v) for v in diff[:, 0]})
        raise DataError(
            f"{source}: {n_diff} subject(s) have another graph than subject 1 (the "
            f"first: subject {s + 1}, edge node{send + 1} -> node{recv + 1}); NRI here "
            "infers one graph for the whole set: use --format-option "
            "graph=per_subject to keep each subject's own"
        )


def _split(
    n: int, valid_frac: float, test_frac: float, seed: int, what: str, source: str
) -> dict[str, np.ndarray]:
    n_valid, n_test = max(1, round(n * valid_frac)), max(1, round(n * test_frac))
    if n - n_valid - n_test < 1:
        hint = " (or --format-option split=window)" if what == "subjects" else ""
        raise DataError(
            f"{source}: {n} {what} cannot fill train, valid and test splits; at "
            f"least 3 are needed{hint}"
        )
    perm = np.random.default_rng(seed).permutation(n)
    parts = np.split(perm, [n - n_valid - n_test, n - n_test])
    return {
        k: np.sort(p) for k, p in zip(("train", "valid", "test"), parts, strict=True)
    }


def _load(path: Path) -> Subjects:
    if path.is_dir():
        files = sorted(path.glob("*.npz"), key=_number)
        if not files:
            raise DataError(
                f"{path} holds no .npz files; a NetSim directory holds one file per "
                f"subject with {ACD} (ACD), or give a simN.mat"
            )
        subjects = [_from_arrays(_arrays(f), str(f)) for f in files]
        shapes = {s.ts.shape[1:] for s in subjects}
        if len(shapes) != 1:
            raise DataError(
                f"{path}: the subject files differ in [nodes, timepoints] "
                f"({sorted(shapes)}); they must be one simulation"
            )
        return Subjects(
            np.concatenate([s.ts for s in subjects]),
            np.concatenate([s.adj for s in subjects]),
            str(path),
        )
    return _from_arrays(_arrays(path), str(path))


def _number(path: Path) -> tuple[int, str]:
    found = re.findall(r"\d+", path.stem)
    return (int(found[-1]) if found else -1, path.name)


def _from_arrays(arrays: dict[str, np.ndarray], source: str) -> Subjects:
    if "ts" in arrays and "net" in arrays:
        return _smith(arrays, source)
    if "X_np" in arrays and "Gref" in arrays:
        x, g = _numeric(arrays, "X_np", 2, source), _numeric(arrays, "Gref", 2, source)
        if g.shape != (x.shape[0], x.shape[0]):
            raise DataError(
                f"{source}: 'Gref' has shape {g.shape}; expected [{x.shape[0]}, "
                f"{x.shape[0]}] for the {x.shape[0]} nodes of 'X_np' [nodes, timepoints]"
            )
        return Subjects(x[None], g[None].astype(np.float64), source)  # [1, N, T]
    names = sorted(k for k in arrays if not k.startswith("__"))
    raise DataError(
        f"{source} holds {names or 'no arrays'}; a NetSim file needs {SMITH} (Smith "
        f"et al.'s simN.mat) or {ACD} (ACD)"
    )


def _smith(arrays: dict[str, np.ndarray], source: str) -> Subjects:
    ts = _numeric(arrays, "ts", 2, source)  # [S * T, N]
    net = _numeric(arrays, "net", 3, source)  # [S, N, N], net[s, i, j]: i -> j
    n_subj, n_nodes = net.shape[0], ts.shape[1]
    if net.shape[1:] != (n_nodes, n_nodes):
        raise DataError(
            f"{source}: 'net' has shape {net.shape}; expected [subjects, {n_nodes}, "
            f"{n_nodes}] for the {n_nodes} nodes (columns) of 'ts'"
        )
    if ts.shape[0] % n_subj:
        raise DataError(
            f"{source}: 'ts' has {ts.shape[0]} rows, not a multiple of the {n_subj} "
            "subjects of 'net' (rows are subjects * timepoints)"
        )
    n_time = ts.shape[0] // n_subj
    for key, expected in (
        ("Nsubjects", n_subj), ("Ntimepoints", n_time), ("Nnodes", n_nodes)
    ):  # fmt: skip
        if key in arrays and np.asarray(arrays[key]).size == 1:
            value = float(np.asarray(arrays[key]).ravel()[0])
            if value != expected:
                raise DataError(
                    f"{source}: {key} = {value:g}, but 'ts' {ts.shape} and 'net' "
                    f"{net.shape} give {expected}"
                )
    ts = ts.reshape(n_subj, n_time, n_nodes).transpose(0, 2, 1)  # [S, N, T]
    adj = np.swapaxes(net, 1, 2).astype(np.float64)  # [S, receiver, sender]
    return Subjects(ts, adj, source)


def _numeric(arrays: dict[str, np.ndarray], key: str, ndim: int, source: str):  # noqa: ANN202
    arr = np.asarray(arrays[key])
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise DataError(f"{source}: '{key}' has dtype {arr.dtype}; expected numbers")
    if arr.ndim != ndim or arr.size == 0:
        raise DataError(
            f"{source}: '{key}' has shape {arr.shape}; expected {ndim} axes "
            f"({SMITH if key in ('ts', 'net') else ACD})"
        )
    return arr


def _arrays(path: Path) -> dict[str, np.ndarray]:
    """The variables of a ``.mat`` (scipy) or ``.npz`` file."""
    if path.suffix.lower() == ".mat":
        from scipy.io import loadmat  # only for .mat files
        from scipy.io.matlab import MatReadError

        try:
            return dict(loadmat(path))
        except NotImplementedError:  # MATLAB v7.3 (HDF5)
            raise DataError(
                f"{path} is a MATLAB v7.3 (HDF5) file; save it with -v7 or as .npz"
            ) from None
        except (MatReadError, ValueError, TypeError, OSError, EOFError) as err:
            raise DataError(f"cannot read {path} as a .mat file: {err}") from None
    return npz_arrays(path, f"{SMITH} or {ACD}")
