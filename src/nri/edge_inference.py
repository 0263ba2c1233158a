"""The result of :func:`nri.infer.infer_edges`: :class:`EdgeInference`, the edge-type
posterior of every encoder window with its mean, scores, true graph and edge list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from nri import graph
from nri.aggregate import aggregate_probs, graph_level_metrics
from nri.metrics import graph_metrics

__all__ = ["EdgeInference"]


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

    def aggregate(self, method: str = "mean") -> np.ndarray:
        """One posterior for all windows, for data whose samples share one graph:
        ``"mean"`` (= :attr:`mean_probs`) or ``"logit"`` (the normalised geometric
        mean, :func:`nri.aggregate.aggregate_probs`).

        Shapes:
            returns ``[E, K]``.
        """
        return (
            self.mean_probs if method == "mean" else aggregate_probs(self.probs, method)
        )

    def graph_matrix(
        self, method: str = "mean", edge_type: int | None = None
    ) -> np.ndarray:
        """The one graph as an ``[N, N]`` matrix of interaction probabilities
        (:meth:`edge_scores` of the ``method`` pool), indexed ``[receiver, sender]``,
        diagonal 0."""
        return graph.to_dense_np(self.edge_scores(None, edge_type, method), fill=0.0)

    def edge_scores(
        self,
        sample: int | None = None,
        edge_type: int | None = None,
        method: str = "mean",
    ) -> np.ndarray:
        """Probability that each edge interacts: ``p(edge_type)`` when given, else
        ``1 - p(no_edge_type)``.

        Shapes:
            returns ``[E]`` (of window ``sample``, or of the pool ``method`` of all
            windows, :meth:`aggregate`).
        """
        p = self.aggregate(method) if sample is None else self.probs[sample]  # [E, K]
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
        AUROC and the trivial baselines; :func:`nri.aggregate.graph_level_metrics`:
        the AUROC per window and of the pooled graph when the windows share one),
        or None when no truth is known; computed once (``edges.json`` and the
        command's line use the same)."""
        return self._metrics

    @cached_property
    def _metrics(self) -> dict[str, Any] | None:
        if self.true_edges is None or not (self.true_edges >= 0).any():
            return None
        out = graph_metrics(self.probs, self.true_edges, self.no_edge_type)
        t = self.true_edges
        if self.no_edge_type == 0:
            scores = 1.0 - self.probs[..., 0]  # [S', E]
        elif out["n_classes"] == 2:  # the types the permutation maps to label 1
            scores = self.probs[..., np.array(out["perm_mapping"]) == 1].sum(-1)
        else:
            return out
        out.update(graph_level_metrics(scores, t))
        return out

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
