"""Relational inference on own data with a trained run.

:func:`infer_edges` gives the edge-type posterior ``q(z | x)`` of every encoder window
and its mean over windows (the graph of a system whose graph is fixed);
:func:`to_networkx` and :func:`to_edge_index` export it. Forecasts live in
:mod:`nri.forecast` (re-exported here: ``nri.infer.forecast_trajectories``).

Windows (W = ``model.n_timesteps``, the encoder window): by default every sample is cut
into windows ``0 .. W-1``, ``W .. 2W-1``, ... (one long recording gives many graphs and
their mean); ``start`` alone reads one window ``start .. start + W - 1`` per sample
(``start=0``: the papers' test protocol); ``stride`` sets the step between windows.

Features and objects are matched to the run's by name (:mod:`nri.run_data`); inputs
are normalised with the run's normaliser (fitted on its training split).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nri import graph, progress
from nri.data.dataset import DataError
from nri.data.series import Series
from nri.forecast import Forecast, GraphMode, forecast_trajectories
from nri.metrics import graph_metrics
from nri.run_data import (
    as_run,
    as_series,
    check_data,
    encode,
    match_series,
    normalised,
    with_true_edges,
)
from nri.training.run_dir import LoadedRun

__all__ = [
    "EdgeInference", "Forecast", "GraphMode", "check_data", "forecast_trajectories",
    "infer_edges", "to_edge_index", "to_networkx",
]  # fmt: skip


@dataclass(frozen=True)
class EdgeInference:
    """Edge-type probabilities inferred from data, one row per encoder window.

    Attributes:
        probs: ``[S', E, K]`` posterior of every window (rows sum to 1); S' = S when
            every sample gives one window.
        mean_probs: ``[E, K]`` mean over windows (for one fixed graph).
        send, recv: ``[E]`` sender and receiver of each edge (:mod:`nri.graph` order).
        no_edge_type: the type that means "no interaction" (0 for runs trained with
            ``skip_first``), else None (unsupervised types have no fixed meaning).
        true_edges: ``[S', E]`` labels of every window's sample (-1 unknown), or None.
        frames: the first window ``(first, last + 1)``.
        object_names: from the data, in the run's order.
        sample_names: one per window (``SAMPLE@FRAME`` when a sample has several).
        source, run: where the data and the model came from.
        window_sample: ``[S']`` the data sample of every window (None: window i is
            sample i).
        window_start: ``[S']`` the first frame of every window (None: ``frames[0]``).
    """

    probs: np.ndarray
    mean_probs: np.ndarray
    send: np.ndarray
    recv: np.ndarray
    no_edge_type: int | None
    true_edges: np.ndarray | None
    frames: tuple[int, int]
    object_names: tuple[str, ...]
    sample_names: tuple[str, ...]
    source: str
    run: str
    window_sample: np.ndarray | None = None
    window_start: np.ndarray | None = None

    @property
    def n_objects(self) -> int:
        return len(self.object_names)

    @property
    def n_edge_types(self) -> int:
        return int(self.probs.shape[2])

    @property
    def n_windows(self) -> int:
        return int(self.probs.shape[0])

    @property
    def window_starts(self) -> list[int]:
        """The distinct first frames of the windows, ascending."""
        if self.window_start is None:
            return [self.frames[0]]
        return sorted({int(a) for a in self.window_start})

    def edge_scores(
        self, sample: int | None = None, edge_type: int | None = None
    ) -> np.ndarray:
        """Probability that each edge interacts: ``p(edge_type)`` when given, else
        ``1 - p(no_edge_type)``.

        Shapes:
            returns ``[E]`` (of window ``sample``, or of the mean over windows).
        """
        p = self.mean_probs if sample is None else self.probs[sample]  # [E, K]
        if edge_type is not None:
            if not 0 <= edge_type < self.n_edge_types:
                raise ValueError(
                    f"edge_type must be in 0..{self.n_edge_types - 1}, got {edge_type}"
                )
            return p[:, edge_type]
        if self.no_edge_type is None:
            raise ValueError(
                "which edge type means 'no interaction' is unknown (the run was trained "
                "without model.skip_first); choose the type to score with edge_type=K"
            )
        return 1.0 - p[:, self.no_edge_type]

    def true_graph(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The true edges beside the mean graph, or None when no truth is known.

        Returns:
            ``types [E]``: the label every window agrees on (-1: unknown, or the
            windows disagree), and ``fraction [E]``: the fraction of the windows with
            a known label in which the edge interacts (label != 0; NaN: unknown).
        """
        if self.true_edges is None or not (self.true_edges >= 0).any():
            return None
        t = self.true_edges  # [S', E]
        known = t >= 0
        n_known = known.sum(axis=0)  # [E]
        lo = np.where(known, t, np.iinfo(np.int64).max).min(axis=0)
        hi = np.where(known, t, -1).max(axis=0)
        types = np.where((n_known > 0) & (lo == hi), hi, -1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = ((t > 0) & known).sum(axis=0) / n_known
        return types.astype(np.int64), np.where(n_known > 0, frac, np.nan)

    def metrics(self) -> dict[str, Any] | None:
        """Scores against the true edges (:func:`nri.metrics.graph_metrics`: accuracy,
        AUROC and the trivial baselines), or None when no truth is known; computed
        once (``edges.json`` and the command's line use the same)."""
        return self._metrics

    @cached_property
    def _metrics(self) -> dict[str, Any] | None:
        if self.true_edges is None or not (self.true_edges >= 0).any():
            return None
        return graph_metrics(self.probs, self.true_edges, self.no_edge_type)

    def edge_list(self, sample: int | None = None) -> list[dict[str, Any]]:
        """One dict per edge: sender, receiver (indices and names), ``probs`` per
        type, the most likely ``type`` and, when known, ``p_interaction``,
        ``true_type`` and ``true_fraction`` (of the mean graph, see
        :meth:`true_graph`; of window ``sample`` its own label)."""
        p = self.mean_probs if sample is None else self.probs[sample]
        score = self.edge_scores(sample) if self.no_edge_type is not None else None
        truth = self.true_graph()
        if truth is not None and sample is not None:
            assert self.true_edges is not None
            own = self.true_edges[sample]
            truth = own, np.where(own >= 0, (own > 0).astype(float), np.nan)
        rows = []
        for e, (j, i) in enumerate(
            zip(self.send.tolist(), self.recv.tolist(), strict=True)
        ):
            row: dict[str, Any] = {
                "sender": j,
                "receiver": i,
                "sender_name": self.object_names[j],
                "receiver_name": self.object_names[i],
                "probs": [float(v) for v in p[e]],
                "type": int(p[e].argmax()),
            }
            if score is not None:
                row["p_interaction"] = float(score[e])
            if truth is not None:
                kind, frac = int(truth[0][e]), float(truth[1][e])
                row["true_type"] = None if kind < 0 else kind
                row["true_fraction"] = None if np.isnan(frac) else frac
            rows.append(row)
        return rows


def _window_starts(
    n_frames: int, w: int, start: int | None, stride: int | None
) -> list[int]:
    """First frames of the encoder windows of one sample (module docstring)."""
    if start is not None and start < 0:
        raise DataError(f"start must be >= 0, got {start}")
    if stride is not None and stride < 1:
        raise DataError(f"stride must be >= 1, got {stride}")
    if start is not None and stride is None:
        return [start]
    return list(range(start or 0, n_frames - w + 1, stride or w))


def infer_edges(
    run: LoadedRun | str | Path,
    data: Series | str | Path,
    split: str = "test",
    start: int | None = None,
    batch_size: int = 256,
    seed: int | None = None,
    allow_other_objects: bool = False,
    stride: int | None = None,
    true_edges: np.ndarray | str | Path | None = None,
) -> EdgeInference:
    """Edge-type probabilities of every encoder window, and their mean.

    Args:
        run: a run directory or a loaded run.
        data: a :class:`~nri.data.series.Series` or a file / data set directory
            (:func:`~nri.data.importers.read_series`; a directory gives ``split``).
        start: first frame of the one window read per sample (None: every window,
            module docstring).
        batch_size: windows per forward pass (results do not depend on it).
        seed: seed of NRI-MPM's relation-interaction orders (default: the run's
            ``train.eval_seed``); NRI's encoder is deterministic.
        allow_other_objects: accept a number of objects other than the training data's.
        stride: frames between windows (default W, no overlap).
        true_edges: the true graph, replacing the data's own: an ``[N, N]`` array
            indexed [receiver, sender] or a ``.csv``/``.npy`` file of one
            (:func:`nri.data.edge_file.read_edge_file`).

    Shapes:
        probs ``[S', E, K]``, mean_probs ``[E, K]`` with ``E = N (N - 1)``.

    Raises:
        DataError: data that do not fit the run (one line).
    """
    loaded, run_dir = as_run(run)
    series = as_series(data, split)
    if true_edges is not None:
        series = with_true_edges(series, true_edges)
    series = match_series(loaded, series, run_dir, allow_other_objects)
    w = loaded.config.model_config.n_timesteps
    starts = _window_starts(series.n_frames, w, start, stride)
    check_data(loaded, series, (start or 0) + w, run_dir, allow_other_objects)
    x = normalised(loaded, series)  # [S, N, T, F]; refuses overflows
    sample = np.repeat(np.arange(series.n_samples, dtype=np.int64), len(starts))
    first = np.tile(np.asarray(starts, dtype=np.int64), series.n_samples)  # [S']
    windows = x.unfold(2, w, 1)  # [S, N, T - W + 1, F, W], a view
    gen = torch.Generator().manual_seed(
        loaded.config.train.eval_seed if seed is None else seed
    )
    probs = []
    with torch.no_grad():
        for i in progress.batches(
            len(sample), batch_size, "inferring edges", "windows"
        ):
            b = slice(i, i + batch_size)
            xb = windows[torch.from_numpy(sample[b]), :, torch.from_numpy(first[b])]
            xb = xb.transpose(-1, -2).contiguous()  # [B, N, W, F]
            logits = encode(loaded, xb, gen)  # [B, E, K]
            probs.append(torch.softmax(logits.double(), dim=-1))
    q = torch.cat(probs).numpy()  # [S', E, K]
    names = tuple(
        series.sample_names[s] if len(starts) == 1 else f"{series.sample_names[s]}@{a}"
        for s, a in zip(sample.tolist(), first.tolist(), strict=True)
    )
    send, recv = graph.fully_connected_np(series.n_objects)
    return EdgeInference(
        probs=q,
        mean_probs=q.mean(axis=0),
        send=send,
        recv=recv,
        no_edge_type=0 if loaded.config.model_config.skip_first else None,
        true_edges=None if series.edges is None else series.edges[sample],
        frames=(starts[0], starts[0] + w),
        object_names=series.object_names,
        sample_names=names,
        source=series.source,
        run=str(run_dir),
        window_sample=sample,
        window_start=first,
    )


# ------------------------------------------------------------------------- exports


def _selected(
    result: EdgeInference,
    sample: int | None,
    threshold: float | None,
    edge_type: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Edge indices kept, their probabilities ``[E', K]`` and scores ``[E']``."""
    p = result.mean_probs if sample is None else result.probs[sample]  # [E, K]
    known = edge_type is not None or result.no_edge_type is not None
    score = result.edge_scores(sample, edge_type) if known else None
    keep = np.arange(len(result.send))
    if threshold is not None:
        if score is None:
            result.edge_scores(sample, edge_type)  # raises the explanation
        assert score is not None
        keep = np.flatnonzero(score >= threshold)
    return keep, p[keep], None if score is None else score[keep]


def to_networkx(
    result: EdgeInference,
    sample: int | None = None,
    threshold: float | None = None,
    edge_type: int | None = None,
) -> Any:
    """A ``networkx.DiGraph`` with an edge sender -> receiver per inferred edge.

    Nodes ``0 .. N-1`` carry ``name``; edges carry ``probs`` (one per type), ``type``
    (the most likely) and ``weight`` (the interaction score of
    :meth:`EdgeInference.edge_scores`, when it is defined). With ``threshold`` only the
    edges whose score is at least ``threshold`` are kept. ``sample=None`` uses the mean
    over samples. networkx is optional: it is imported here.
    """
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is installed in development
        raise ImportError(
            "to_networkx needs networkx: pip install networkx (or use to_edge_index)"
        ) from None
    keep, p, score = _selected(result, sample, threshold, edge_type)
    g = nx.DiGraph()
    for i, name in enumerate(result.object_names):
        g.add_node(i, name=name)
    for k, e in enumerate(keep.tolist()):
        attrs: dict[str, Any] = {"probs": p[k].tolist(), "type": int(p[k].argmax())}
        if score is not None:
            attrs["weight"] = float(score[k])
        g.add_edge(int(result.send[e]), int(result.recv[e]), **attrs)
    return g


def to_edge_index(
    result: EdgeInference,
    sample: int | None = None,
    threshold: float | None = None,
    edge_type: int | None = None,
) -> tuple[Tensor, Tensor]:
    """PyTorch Geometric style ``(edge_index [2, E'], edge_attr [E', K])``: row 0 the
    senders, row 1 the receivers, ``edge_attr`` the type probabilities; edges in
    :mod:`nri.graph` order, filtered as in :func:`to_networkx`. Needs no PyG.
    """
    keep, p, _ = _selected(result, sample, threshold, edge_type)
    index = np.stack([result.send[keep], result.recv[keep]])  # [2, E']
    return torch.from_numpy(index.astype(np.int64)), torch.from_numpy(p.copy()).float()
