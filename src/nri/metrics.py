"""Edge and trajectory metrics, accumulated over a whole split (spec/evaluation.md 1).

Accumulators keep sums and counts, so the result over a split is exact whatever the
batch sizes; ``weighting="per_batch"`` reproduces the reference's unweighted mean of
per-batch means (quirk Q5) where it applies.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, Literal

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor

from nri import graph

Weighting = Literal["sample", "per_batch"]

__all__ = [
    "confusion_matrix",
    "permutation_accuracy",
    "auroc",
    "asymmetry_count",
    "squared_error_by_horizon",
    "batch_accuracy",
    "Mean",
    "HorizonMSE",
    "EdgeMetrics",
    "graph_metrics",
    "json_text",
]


def confusion_matrix(
    pred: Tensor, labels: Tensor, n_types: int, n_classes: int
) -> Tensor:
    """Counts ``C[t, c]`` of edges with predicted type t and label c.

    Labels < 0 (unknown) are skipped.

    Shapes:
        pred, labels ``[...]`` int -> ``[n_types, n_classes]`` int64 (on CPU).
    """
    if pred.shape != labels.shape:
        raise ValueError(
            f"pred and labels must have the same shape, got {tuple(pred.shape)} and "
            f"{tuple(labels.shape)}"
        )
    pred = pred.reshape(-1).long().cpu()
    labels = labels.reshape(-1).long().cpu()
    keep = labels >= 0
    pred, labels = pred[keep], labels[keep]
    if (pred >= n_types).any() or (labels >= n_classes).any():
        raise ValueError(
            f"pred must be < {n_types} and labels < {n_classes}, got max "
            f"{int(pred.max())} and {int(labels.max())}"
        )
    flat = torch.bincount(pred * n_classes + labels, minlength=n_types * n_classes)
    return flat.view(n_types, n_classes)


def permutation_accuracy(
    confusion: Tensor, fixed_first: bool = False
) -> tuple[float, tuple[int, ...]]:
    """Best accuracy over relabellings of the edge types, and the mapping used.

    With K types and C classes: if K <= C, the best injective map types -> classes
    (all K! bijections when K = C); if K > C, the best many-to-one map
    (``sum_t max_c C[t, c]``). ``mapping[t]`` is the class assigned to type t.
    Apply it once to the confusion matrix of a whole split, never per batch.

    With ``fixed_first`` (runs trained with ``skip_first``, where type 0 means "no
    interaction" by construction) type 0 stays mapped to class 0 and only the
    interaction types 1..K-1 are relabelled, among the classes 1..C-1 (the same two
    cases); K = 2 against 0/1 labels then gives the raw accuracy.

    Shapes:
        confusion ``[K, C]`` -> (accuracy, mapping of length K).
    """
    c = confusion.detach().cpu().to(torch.float64).numpy()
    k, n_cls = c.shape
    total = c.sum()
    if fixed_first and k >= 1 and n_cls >= 1:
        if k == 1 or n_cls == 1:
            mapping = (0,) * k
            return (float(c[:, 0].sum() / total) if total else float("nan")), mapping
        _, rest = permutation_accuracy(torch.from_numpy(c[1:, 1:]))
        mapping = (0, *(1 + m for m in rest))
        if total == 0:
            return float("nan"), mapping
        correct = sum(float(c[t, m]) for t, m in enumerate(mapping))
        return correct / float(total), mapping
    if total == 0:  # no labelled edges: any valid map
        return float("nan"), tuple(range(k)) if k <= n_cls else (0,) * k
    if k > n_cls:
        mapping = tuple(int(i) for i in c.argmax(axis=1))
        return float(c.max(axis=1).sum() / total), mapping
    best, best_map = -1.0, tuple(range(k))
    for perm in itertools.permutations(range(n_cls), k):
        score = float(c[np.arange(k), perm].sum())
        if score > best:
            best, best_map = score, tuple(perm)
    return best / float(total), best_map


def auroc(scores: Tensor | np.ndarray, labels: Tensor | np.ndarray) -> float:
    """Area under the ROC curve, Mann-Whitney U with average ranks for ties.

    Entries with a negative label are skipped; nan if a class is missing.

    Shapes:
        scores, labels ``[M]`` (any shape, flattened) -> float.
    """
    s = np.asarray(torch.as_tensor(scores).detach().cpu(), dtype=np.float64).ravel()
    y = np.asarray(torch.as_tensor(labels).detach().cpu()).ravel()
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in size: {s.shape} vs {y.shape}")
    keep = y >= 0
    s, y = s[keep], y[keep]
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)  # average ranks for ties
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def asymmetry_count(pred: Tensor) -> tuple[int, int]:
    """Number of directed edges whose predicted type differs from its reverse edge's.

    Shapes:
        pred ``[B, E]`` int -> (count, B * E).
    """
    if pred.ndim != 2:
        raise ValueError(f"pred must be [B, E], got {tuple(pred.shape)}")
    rev = graph.reverse_index(graph.n_nodes(pred.shape[1]), pred.device)
    return int((pred != pred[:, rev]).sum()), pred.numel()


def squared_error_by_horizon(pred: Tensor, target: Tensor) -> tuple[Tensor, int]:
    """Sum of squared errors per prediction horizon, and the count per horizon.

    Shapes:
        pred, target ``[B, N, H, F]`` -> (sums ``[H]`` float64, ``B * N * F``).
    """
    if pred.shape != target.shape or pred.ndim != 4:
        raise ValueError(
            f"pred and target must both be [B, N, H, F], got {tuple(pred.shape)} "
            f"and {tuple(target.shape)}"
        )
    sq = (pred.detach().double() - target.detach().double()).pow(2)  # [B, N, H, F]
    b, n, _, f = pred.shape
    return sq.sum(dim=(0, 1, 3)), b * n * f


def batch_accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """Raw edge accuracy of one batch (argmax of the logits; labels < 0 ignored), for
    logging during training; split-level numbers use :class:`EdgeMetrics`.

    Shapes:
        logits ``[B, E, K]``, labels ``[B, E]`` -> scalar.
    """
    if labels.shape != logits.shape[:2]:
        raise ValueError(
            f"edge_types must be [B, E] = {tuple(logits.shape[:2])}, got "
            f"{tuple(labels.shape)}"
        )
    known = labels >= 0
    correct = (logits.detach().argmax(-1) == labels) & known
    return correct.sum() / known.sum().clamp(min=1)


class Mean:
    """Mean of a quantity over a split: ``update(value_sum, count)``, ``compute()``.

    With ``weighting="per_batch"`` every update counts as one batch whose mean is
    ``value_sum / count`` (the reference's unweighted mean of batch means, Q5).
    """

    def __init__(self, weighting: Weighting = "sample") -> None:
        self.weighting = weighting
        self.total = 0.0
        self.count = 0.0

    def update(self, value_sum: float | Tensor, count: int) -> None:
        v = float(value_sum)
        if self.weighting == "per_batch":
            self.total += v / count
            self.count += 1
        else:
            self.total += v
            self.count += count

    def compute(self) -> float:
        return self.total / self.count if self.count else float("nan")


class HorizonMSE:
    """MSE per prediction horizon over a split (spec/evaluation.md 1.5).

    Shapes:
        update: sums ``[H]`` and a count (e.g. from :func:`squared_error_by_horizon`
        or ``NRI.evaluate_batch``); compute -> ``[H]`` float64.
    """

    def __init__(self, weighting: Weighting = "sample") -> None:
        self.weighting = weighting
        self.sums: Tensor | None = None
        self.count = 0

    def update(self, sums: Tensor, count: int) -> None:
        sums = sums.detach().double().cpu()
        if self.weighting == "per_batch":
            sums, count = sums / count, 1
        self.sums = sums if self.sums is None else self.sums + sums
        self.count += count

    def compute(self) -> Tensor:
        if self.sums is None:
            raise RuntimeError("HorizonMSE.compute() called before any update")
        return self.sums / self.count


class EdgeMetrics:
    """Edge metrics over a split: raw and permutation-invariant accuracy, AUROC, asym.

    ``update(logits, labels)`` per batch; ``compute()`` once at the end. The predicted
    type is the argmax of the logits. The AUROC score (binary labels only) is the
    posterior mass of the types mapped to label 1: with ``skip_first`` the fixed map
    type 0 -> 0, others -> 1 (score ``1 - q_0``), otherwise the best map of
    :func:`permutation_accuracy`. Labels < 0 are ignored by accuracy and AUROC.

    Args:
        n_edge_types: K.
        n_classes: number of label classes (2 for interaction / none); grows when
            the labels have more (0..K-1).
        skip_first: use the fixed skip-first map for the AUROC score.
        weighting: ``"per_batch"`` makes ``acc`` the unweighted mean of per-batch raw
            accuracies (reference quirk Q5); the other metrics are always exact.

    Shapes:
        update: logits ``[B, E, K]``, labels ``[B, E]`` int.
    """

    def __init__(
        self,
        n_edge_types: int,
        n_classes: int = 2,
        skip_first: bool = False,
        weighting: Weighting = "sample",
    ) -> None:
        self.n_edge_types = n_edge_types
        self.n_classes = n_classes
        self.skip_first = skip_first
        self.confusion = torch.zeros(n_edge_types, n_classes, dtype=torch.int64)
        self.acc = Mean(weighting)
        self.asym = Mean("sample")
        self._q: list[Tensor] = []
        self._labels: list[Tensor] = []

    def update(self, logits: Tensor, labels: Tensor) -> None:
        if logits.ndim != 3 or logits.shape[2] != self.n_edge_types:
            raise ValueError(
                f"logits must be [B, E, K={self.n_edge_types}], got "
                f"{tuple(logits.shape)}"
            )
        if labels.shape != logits.shape[:2]:
            raise ValueError(
                f"labels must be [B, E] = {tuple(logits.shape[:2])}, got "
                f"{tuple(labels.shape)}"
            )
        logits = logits.detach()
        pred = logits.argmax(dim=-1)  # [B, E]
        top = int(labels.max()) + 1 if labels.numel() else 0
        if top > self.n_classes:  # labels 0..K-1 with K > n_classes: more classes
            extra = top - self.n_classes
            pad = self.confusion.new_zeros(self.n_edge_types, extra)
            self.confusion = torch.cat([self.confusion, pad], dim=1)
            self.n_classes = top
        conf = confusion_matrix(pred, labels, self.n_edge_types, self.n_classes)
        self.confusion += conf
        n_known = int(conf.sum())
        if n_known:
            self.acc.update(int(conf.diagonal().sum()), n_known)
        self.asym.update(*asymmetry_count(pred))
        if self.n_classes == 2 or self.skip_first:
            self._q.append(torch.softmax(logits.double(), dim=-1).cpu())  # [B, E, K]
            self._labels.append(labels.detach().cpu())

    def permutation(self) -> tuple[float, tuple[int, ...]]:
        """Permutation-invariant accuracy and its type -> class mapping
        (:func:`permutation_accuracy`).

        With ``skip_first`` type 0 keeps its meaning "no interaction" (mapped to class
        0) and only the interaction types are relabelled among the interaction
        classes (never to 0): K = 2 against 0/1 labels gives the raw accuracy, K = 3
        against 0/1 labels maps types 1 and 2 to class 1. The same map serves
        ``nri evaluate``, ``nri infer`` and the validation ``val/acc_perm``.
        """
        return permutation_accuracy(self.confusion, fixed_first=self.skip_first)

    def compute(self) -> dict[str, float]:
        """``acc`` (raw), ``acc_perm``, ``auroc``, ``asym``, ``n_edges`` (labelled),
        ``acc_interaction`` (only with ``skip_first``: "no interaction" = type 0
        against any interaction type, label 0 against any other label) and the trivial
        baselines ``acc_all_no_edge`` (fraction of label 0) and ``acc_all_edge``
        (fraction of labels != 0)."""
        acc_perm, mapping = self.permutation()
        c = self.confusion.to(torch.float64)
        total = float(c.sum())
        nan = float("nan")
        out = {
            "acc": self.acc.compute(),
            "acc_perm": acc_perm,
            "asym": self.asym.compute(),
            "n_edges": total,
            "auroc": nan,
            "acc_all_no_edge": float(c[:, 0].sum()) / total if total else nan,
            "acc_all_edge": float(c[:, 1:].sum()) / total if total else nan,
        }
        if self.skip_first:
            correct = float(c[0, 0] + c[1:, 1:].sum())
            out["acc_interaction"] = correct / total if total else nan
        scored = self.interaction_scores()
        if scored is not None:
            out["auroc"] = auroc(*scored)
        return out

    def interaction_scores(self) -> tuple[Tensor, Tensor] | None:
        """What the AUROC scores: the interaction score ``[S, E]`` (``1 - q(type 0)``
        with ``skip_first``, else the probability of the types mapped to label 1) and
        the labels ``[S, E]`` (0/1 with ``skip_first``; -1 unknown), or None when no
        such score is defined (no sample seen, or more than two label classes without
        ``skip_first``)."""
        if not self._q or not (self.skip_first or self.n_classes == 2):
            return None
        q = torch.cat(self._q)  # [S, E, K]
        labels = torch.cat(self._labels)  # [S, E]
        if self.skip_first:
            labels = torch.where(labels >= 0, (labels > 0).long(), labels)
            return 1.0 - q[..., 0], labels
        mapping = self.permutation()[1]
        to_one = torch.tensor([m == 1 for m in mapping])  # [K]
        return q[..., to_one].sum(-1), labels


def graph_metrics(
    probs: np.ndarray, labels: np.ndarray, no_edge_type: int | None
) -> dict[str, Any]:
    """Scores of inferred edge-type probabilities against true labels.

    :class:`EdgeMetrics` on ``log(probs)`` with as many classes as the labels have
    (at least 2), ``skip_first`` when ``no_edge_type`` is 0, plus ``perm_mapping``
    (type -> class) and ``n_types``, ``n_classes``.

    Shapes:
        probs ``[S, E, K]``, labels ``[S, E]`` int (-1 unknown).
    """
    p = torch.as_tensor(np.asarray(probs, dtype=np.float64))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    k = int(p.shape[-1])
    n_cls = max(2, int(y.max()) + 1) if y.numel() else 2
    m = EdgeMetrics(max(k, 1), n_classes=n_cls, skip_first=no_edge_type == 0)
    m.update(torch.log(p.clamp(min=1e-300)), y)
    out: dict[str, Any] = dict(m.compute())
    out["perm_mapping"] = list(m.permutation()[1])
    out["n_types"], out["n_classes"] = k, n_cls
    return out


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (also numpy's) replaced by None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def json_text(doc: Any) -> str:
    """``doc`` as indented JSON with ``null`` where a number is not defined (NaN,
    inf): strict JSON, never the bare ``NaN`` that other readers refuse."""
    return json.dumps(_finite(doc), indent=2, allow_nan=False) + "\n"
