"""Candidate edges of a model from its settings (docs/scale.md): ``candidates`` =
``"all"`` (every ordered pair, the default and today's model), ``"knn"`` (the
``candidates_k`` nearest neighbours of every receiver over the encoder window,
:func:`nri.graph.knn`) or the path of a ``.npy`` / ``.csv`` file holding one
``[N, N]`` 0/1 matrix indexed [receiver, sender] (the same candidates for every
sample; the diagonal is ignored). The edge sets themselves are built by
:mod:`nri.graph`; this module reads the settings and the file.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from nri import graph
from nri.errors import DataNotice

__all__ = [
    "Coverage",
    "active",
    "candidate_edges",
    "coverage",
    "coverage_notice",
    "check_candidates",
    "check_settings",
    "read_candidate_graph",
]

_SUFFIXES = (".npy", ".csv")


def active(cfg: Any) -> bool:
    """Whether ``cfg`` restricts the edges (``candidates`` other than ``"all"``)."""
    return getattr(cfg, "candidates", "all") != "all"


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> np.ndarray:
    p = Path(path)
    if p.suffix == ".npy":
        raw = np.load(p, allow_pickle=False)
    else:
        raw = np.loadtxt(p, delimiter=",", ndmin=2)
    a = np.asarray(raw, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 2:
        raise ValueError(
            f"model.candidates={path}: the candidate graph must be one [N, N] "
            f"matrix with N >= 2, got shape {tuple(a.shape)}"
        )
    if not np.isin(a, (0.0, 1.0)).all():
        bad = float(a[~np.isin(a, (0.0, 1.0))].ravel()[0])
        raise ValueError(
            f"model.candidates={path}: the candidate graph must hold only 0 and 1 "
            f"(1 = candidate edge, [receiver, sender]), found {bad:g}"
        )
    out = a != 0
    if out.diagonal().any():  # once per file (this reader is cached)
        warnings.warn(
            f"model.candidates={path}: {int(out.diagonal().sum())} self-loop(s) on "
            "the diagonal are ignored (edges are pairs i != j)",
            DataNotice,
            stacklevel=4,
        )
    out.setflags(write=False)
    return out


def read_candidate_graph(path: str | Path) -> np.ndarray:
    """The ``[N, N]`` bool candidate matrix of a ``.npy`` / ``.csv`` file
    ([receiver, sender], 1 = candidate; a 1 on the diagonal is ignored).

    Raises:
        ValueError: a missing file, another suffix, not one square matrix, values
            other than 0 and 1 (one line naming the file).
    """
    p = Path(path)
    if p.suffix not in _SUFFIXES:
        raise ValueError(
            f"model.candidates must be 'all', 'knn' or a .npy/.csv file of an [N, N] "
            f"0/1 matrix, got {str(path)!r}"
        )
    if not p.is_file():
        raise ValueError(f"model.candidates={path}: no such file")
    try:
        return _read(str(p.resolve()), p.stat().st_mtime)
    except (OSError, ValueError) as err:
        msg = str(err).splitlines()[0]
        if msg.startswith("model.candidates"):
            raise ValueError(msg) from None
        raise ValueError(f"model.candidates={path}: cannot read it: {msg}") from None


def check_settings(cfg: Any) -> None:
    """Config-time checks of ``candidates``, ``candidates_k`` and ``edge_chunk``
    (one line each); a candidate file is read and checked here, a 1 on its
    diagonal gives a :class:`~nri.errors.DataNotice` that self-loops are ignored
    (once per file).
    """
    from nri.config import ConfigError

    k = cfg.candidates_k
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"model.candidates_k must be an int >= 1, got {k!r}")
    chunk = cfg.edge_chunk
    if chunk is not None and (
        isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1
    ):
        raise ConfigError(
            f"model.edge_chunk must be null or an int >= 1, got {chunk!r}"
        )
    if cfg.candidates != "all" and getattr(cfg, "dynamic_graph", False):
        raise ConfigError(
            "model.dynamic_graph re-infers the graph at every step and needs "
            "model.candidates=all"
        )
    if cfg.candidates in ("all", "knn"):
        return
    try:
        read_candidate_graph(cfg.candidates)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def check_candidates(cfg: Any, n_nodes: int) -> None:
    """Data-time checks: ``k < N - 1`` for kNN, a candidate file for ``N`` objects.

    Raises:
        ValueError: one line naming the setting, the data's N and the fix.
    """
    if not active(cfg):
        return
    if cfg.candidates == "knn":
        if cfg.candidates_k >= n_nodes - 1:
            raise ValueError(
                f"model.candidates_k={cfg.candidates_k} must be < N - 1 = "
                f"{n_nodes - 1} for data with {n_nodes} objects (or set "
                "model.candidates=all)"
            )
        return
    m = read_candidate_graph(cfg.candidates).shape[0]
    if m != n_nodes:
        raise ValueError(
            f"model.candidates={cfg.candidates} is a [{m}, {m}] graph but the data "
            f"have N = {n_nodes} objects; give an [{n_nodes}, {n_nodes}] matrix"
        )


def candidate_edges(cfg: Any, x: Tensor) -> graph.EdgeSet | None:
    """The candidate edges of ``x`` (its encoder window), or None for all pairs.

    Shapes:
        x ``[B, N, T, F]`` -> EdgeSet ``[B, N, k]`` (kNN) or ``[1, N, D]`` (file).
    """
    if not active(cfg):
        return None
    check_candidates(cfg, int(x.shape[1]))
    if cfg.candidates == "knn":
        return graph.knn(x, cfg.candidates_k)
    adj = torch.from_numpy(np.array(read_candidate_graph(cfg.candidates)))
    return graph.from_adjacency(adj.to(x.device))


class Coverage(NamedTuple):
    """How many of the true interacting edges the candidates hold (docs/scale.md,
    "Candidate recall"): counts summed over samples.

    Fields:
        true_in: true interacting edges (label > 0) that are candidates.
        true: true interacting edges.
        candidates: candidate edges.
        pairs: ordered pairs ``i != j`` with a known label.
    """

    true_in: int
    true: int
    candidates: int
    pairs: int

    def __add__(self, other: object) -> Coverage:  # type: ignore[override]
        if not isinstance(other, Coverage):
            return NotImplemented
        return Coverage(*(a + b for a, b in zip(self, other, strict=True)))

    @property
    def recall(self) -> float:
        """Share of the true edges inside the candidates (NaN without true edges);
        a true edge outside them is a certain miss of every edge metric."""
        return self.true_in / self.true if self.true else math.nan

    @property
    def share(self) -> float:
        """Share of the labelled pairs that are candidates: the recall that
        candidates drawn at random would have."""
        return self.candidates / self.pairs if self.pairs else math.nan


def coverage(cfg: Any, x: Tensor, labels: Tensor, batch: int = 256) -> Coverage | None:
    """:class:`Coverage` of the candidates of ``cfg`` on samples with true edges,
    computed on the encoder window ``x`` as the model computes them; None for all
    pairs or data without true edges.

    Shapes:
        x ``[S, N, T, F]`` (the encoder window); labels ``[S, E]`` int (-1 unknown).
    """
    if not active(cfg) or not bool((labels > 0).any()):
        return None
    total = Coverage(0, 0, 0, 0)
    for i in range(0, x.shape[0], batch):
        lab = labels[i : i + batch]
        edges = candidate_edges(cfg, x[i : i + batch])
        assert edges is not None
        cand = graph.candidate_mask(edges).expand(lab.shape[0], -1)  # [B, E]
        known = lab >= 0
        true = lab > 0
        total = total + Coverage(
            int((true & cand).sum()),
            int(true.sum()),
            int((cand & known).sum()),
            int(known.sum()),
        )
    return total


def coverage_notice(cfg: Any, cov: Coverage, where: str) -> str:
    """One line on the candidates' recall of the true edges, for ``nri train`` and
    ``nri evaluate``; it says so when the candidates hold hardly more of the true
    edges than random candidates would."""
    what = f"knn, k={cfg.candidates_k}" if cfg.candidates == "knn" else cfg.candidates
    line = (
        f"the candidate edges ({what}) hold {cov.recall:.1%} of the true edges of "
        f"{where} and are {cov.share:.1%} of the pairs"
    )
    if cov.recall < cov.share + 0.25 * (1.0 - cov.share):
        line += (
            "; random candidates would hold as many, so the true edges outside them "
            "cannot be found (give candidates that contain them, or "
            "model.candidates=all)"
        )
    return line
