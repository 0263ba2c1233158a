"""One graph per data set: pooling per-sample edge posteriors, and the benchmark's
per-sample AUROC (docs/structinfer.md).

When every sample shares one graph (the StructInfer / DoSI sets, most sensor data) the
encoder gives one posterior ``q_s(z_e)`` per sample (or window) s and edge e; the user
wants one ``[N, N]`` edge-probability matrix. Two poolings:

* ``"mean"``: the arithmetic mean ``(1/S) sum_s q_s`` (linear opinion pool). Its
  entries are the expected interaction probability of a random sample's posterior;
  stays in [0, 1], robust to a few confidently wrong samples.
* ``"logit"``: the normalised geometric mean ``softmax_k((1/S) sum_s log q_s(k))``
  (log-linear pool; for K = 2 the mean of the log-odds). With a uniform prior and
  samples conditionally independent given the shared graph, the exact posterior is
  the product of experts ``prod_s q_s`` (each ``q_s`` is proportional to
  ``p(x_s | z)``); the log-linear pool is that product tempered by ``1/S``, so it
  ranks the edges exactly as the product does (the same AUROC) while staying on the
  scale of one sample instead of saturating at 0/1 when S is in the thousands (the
  samples of one graph are not independent evidence for an amortised encoder).

Per-sample AUROC is what the benchmark reports (its NRI scripts: ``roc_auc_score`` per
test sample over the flattened adjacency, then the mean); we score the ``N (N - 1)``
off-diagonal entries, the ones a model without self-edges predicts.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from nri.metrics import auroc

Method = Literal["mean", "logit"]
METHODS: tuple[str, ...] = ("mean", "logit")
EPS = 1e-6  # probabilities are clipped to [EPS, 1] before the logarithm

__all__ = [
    "METHODS",
    "aggregate_probs",
    "aggregate_scores",
    "graph_level_metrics",
    "per_sample_auroc",
    "shared_labels",
]


def aggregate_probs(probs: np.ndarray, method: str = "mean") -> np.ndarray:
    """Pool per-sample edge-type posteriors into one.

    Shapes:
        probs ``[S, E, K]`` (rows sum to 1) -> ``[E, K]`` (rows sum to 1).

    Raises:
        ValueError: unknown ``method``.
    """
    p = np.asarray(probs, dtype=np.float64)
    if method == "mean":
        return p.mean(axis=0)
    if method == "logit":
        lg = np.log(np.clip(p, EPS, 1.0)).mean(axis=0)  # [E, K]
        lg -= lg.max(axis=-1, keepdims=True)
        out = np.exp(lg)
        return out / out.sum(axis=-1, keepdims=True)
    raise ValueError(
        f"unknown aggregation {method!r}; choose from {', '.join(METHODS)}"
    )


def aggregate_scores(scores: np.ndarray, method: str = "mean") -> np.ndarray:
    """Pool per-sample interaction probabilities ``[S, E]`` into ``[E]`` (the K = 2
    case of :func:`aggregate_probs`: interaction vs none)."""
    s = np.asarray(scores, dtype=np.float64)
    two = np.stack([1.0 - s, s], axis=-1)  # [S, E, 2]
    return aggregate_probs(two, method)[..., 1]


def shared_labels(labels: np.ndarray) -> np.ndarray | None:
    """The labels ``[E]`` every sample has (``labels [S, E]``), or None when the
    samples' graphs differ or no label is known."""
    y = np.asarray(labels)
    if y.ndim != 2 or not y.shape[0] or not (y >= 0).any():
        return None
    return y[0].copy() if (y == y[:1]).all() else None


def per_sample_auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean over samples of each sample's AUROC over its edges (the benchmark's
    metric); samples whose known labels are all one class are skipped (NaN when
    none is left). Labels < 0 are unknown; labels > 0 count as interaction.

    Shapes:
        scores, labels ``[S, E]``.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.shape != y.shape or s.ndim != 2:
        raise ValueError(f"scores and labels must be [S, E], got {s.shape}, {y.shape}")
    yb = np.where(y >= 0, (y > 0).astype(np.int64), -1)
    values = [auroc(s[i], yb[i]) for i in range(s.shape[0])]
    values = [v for v in values if v == v]
    return float(np.mean(values)) if values else float("nan")


def graph_level_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The benchmark's per-sample AUROC and, when every sample has the same graph,
    the AUROC of each pooled graph.

    Returns:
        ``auroc_per_sample`` (mean of per-sample AUROCs), ``auroc_aggregate``
        (AUROC of the ``"mean"`` pool) and ``auroc_aggregate_logit`` (of the
        ``"logit"`` pool) against the shared labels; NaN where not defined (the
        samples' graphs differ, or a class is missing).

    Shapes:
        scores ``[S, E]`` interaction probabilities, labels ``[S, E]`` (-1 unknown).
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    nan = float("nan")
    out = {
        "auroc_per_sample": per_sample_auroc(s, y),
        "auroc_aggregate": nan,
        "auroc_aggregate_logit": nan,
    }
    shared = shared_labels(y)
    if shared is not None:
        yb = np.where(shared >= 0, (shared > 0).astype(np.int64), -1)
        out["auroc_aggregate"] = auroc(aggregate_scores(s, "mean"), yb)
        out["auroc_aggregate_logit"] = auroc(aggregate_scores(s, "logit"), yb)
    return out
