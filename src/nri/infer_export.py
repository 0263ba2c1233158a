"""Exports of an :class:`~nri.edge_inference.EdgeInference`: :func:`to_networkx`
(networkx, imported on use) and PyG-style :func:`to_edge_index`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from nri.edge_inference import EdgeInference

__all__ = ["to_edge_index", "to_networkx"]


def _selected(
    result: EdgeInference,
    sample: int | None,
    threshold: float | None,
    edge_type: int | None,
    aggregate: str = "mean",
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Edge indices kept, their probabilities ``[E', K]`` and scores ``[E']``."""
    p = result.aggregate(aggregate) if sample is None else result.probs[sample]
    known = edge_type is not None or result.no_edge_type is not None
    score = result.edge_scores(sample, edge_type, aggregate) if known else None
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
    aggregate: str = "mean",
) -> Any:
    """A ``networkx.DiGraph`` with an edge sender -> receiver per inferred edge.

    Nodes ``0 .. N-1`` carry ``name``; edges carry ``probs`` (one per type), ``type``
    (the most likely) and ``weight`` (the interaction score of
    :meth:`EdgeInference.edge_scores`, when it is defined). With ``threshold`` only the
    edges whose score is at least ``threshold`` are kept. ``sample=None`` uses the mean
    over samples, or the pool ``aggregate`` (``"mean"`` or ``"logit"``,
    :meth:`EdgeInference.aggregate`). networkx is optional: it is imported here.
    """
    try:
        import networkx as nx
    except ImportError:  # pragma: no cover - networkx is installed in development
        raise ImportError(
            "to_networkx needs networkx: pip install networkx (or use to_edge_index)"
        ) from None
    keep, p, score = _selected(result, sample, threshold, edge_type, aggregate)
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
