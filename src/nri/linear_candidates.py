"""Candidate edges for one graph per data set from a linear interaction score
(docs/scale.md, "Candidates from a linear score"; ``nri candidates``).

For every receiver ``i`` a ridge regression of the change of its state on its own
state and on every other object's state relative to it, over all samples and frames
of a split:

    x_i(t+1) - x_i(t) ~ A_i x_i(t) + sum_{j != i} B_ij (x_j(t) - x_i(t)),

with ``x`` the normalised features ``[F]`` and ``A_i``, ``B_ij`` ``[F, F]``. The
score of the pair ``i <- j`` is the Frobenius norm of ``B_ij``; the ``k`` senders of
every receiver with the largest scores are its candidates. For forces that are
linear in the relative state (springs) the regression recovers the coupling; for
others it is a first-order (Granger-style) screen. It needs no labels and no
training, and pooling all samples makes it well determined even when one sample's
frames are fewer than the regressors, which is why it gives one graph for the whole
data set: use it when the samples share one graph (StructInfer / DoSI, sensor
networks), not when every sample has its own.

The sums are accumulated in float64 from two moment matrices per batch of samples,
``M = sum_t x(t) x(t)^T`` and ``C = sum_t x(t) dx(t)^T`` (``[N F, N F]`` each), so
the cost is ``O(S T (N F)^2 + N (N F)^3)`` and the memory ``O((N F)^2)``, whatever
the number of samples.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

__all__ = [
    "LinearCandidates",
    "linear_candidates",
    "linear_scores",
    "top_k_senders",
    "write_candidates",
]


def _moments(x: Tensor, batch: int = 64) -> tuple[Tensor, Tensor, int]:
    """``M = sum x x^T`` and ``C = sum x dx^T`` over samples and frames ``t < T-1``,
    both ``[N*F, N*F]`` float64, and the number of (sample, frame) rows."""
    s, n, t, f = x.shape
    m = torch.zeros(n * f, n * f, dtype=torch.float64)
    c = torch.zeros_like(m)
    for i in range(0, s, batch):
        xb = x[i : i + batch].double()
        now = xb[:, :, :-1].permute(0, 2, 1, 3).reshape(-1, n * f)  # [B*(T-1), N*F]
        step = (xb[:, :, 1:] - xb[:, :, :-1]).permute(0, 2, 1, 3).reshape(-1, n * f)
        m += now.T @ now
        c += now.T @ step
    return m, c, s * (t - 1)


def linear_scores(x: Tensor, ridge: float = 1e-3) -> Tensor:
    """The linear interaction score of every ordered pair (module docstring).

    Args:
        x: trajectories ``[S, N, T, F]`` (normalised as the models see them), T >= 2.
        ridge: the ridge penalty relative to the mean diagonal of each receiver's
            normal matrix (> 0; it keeps the regression defined when objects move
            together).

    Returns:
        ``[N, N]`` float64 scores indexed [receiver, sender], ``-inf`` on the diagonal.

    Raises:
        ValueError: fewer than 2 frames or 3 objects, a non-positive ridge, or data
            that are not finite.
    """
    if x.ndim != 4:
        raise ValueError(f"trajectories must be [S, N, T, F], got {tuple(x.shape)}")
    s, n, t, f = x.shape
    if t < 2 or n < 3 or s < 1:
        raise ValueError(
            f"the linear score needs at least 1 sample, 3 objects and 2 frames, got "
            f"{s} sample(s), {n} objects, {t} frame(s)"
        )
    if not ridge > 0:
        raise ValueError(f"ridge must be > 0, got {ridge}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("the trajectories hold NaN or infinite values")
    m, c, _ = _moments(x)
    m4 = m.view(n, f, n, f)  # [a, :, b, :] = sum x_a x_b^T
    c4 = c.view(n, f, n, f)  # [a, :, b, :] = sum x_a dx_b^T
    scores = torch.full((n, n), float("-inf"), dtype=torch.float64)
    eye = torch.eye((n + 1) * f, dtype=torch.float64)
    for i in range(n):
        # regressors: x_i, then d_j = x_j - x_i for j != i (in ascending j)
        others = [j for j in range(n) if j != i]
        mii = m4[i, :, i, :]
        mjk = m4[others][:, :, others, :]  # [N-1, F, N-1, F]
        mji = m4[others, :, i, :]  # [N-1, F, F]: sum x_j x_i^T
        mik = m4[i, :, others, :]  # [F, N-1, F]: sum x_i x_k^T
        g_dd = (mjk - mji[:, :, None, :] - mik[None] + mii[None, :, None, :]).reshape(
            (n - 1) * f, (n - 1) * f
        )
        g_od = (mik - mii[:, None, :]).reshape(f, (n - 1) * f)  # sum x_i d_k^T
        gram = torch.cat(
            [torch.cat([mii, g_od], 1), torch.cat([g_od.T, g_dd], 1)], 0
        )  # [(N)F, (N)F]
        r_own = c4[i, :, i, :]  # sum x_i dx_i^T
        r_d = (c4[others, :, i, :] - c4[i, :, i, :][None]).reshape((n - 1) * f, f)
        rhs = torch.cat([r_own, r_d], 0)
        lam = ridge * torch.diagonal(gram).mean().clamp(min=1e-12)
        coef = torch.linalg.solve(
            gram + lam * eye[: gram.shape[0], : gram.shape[0]], rhs
        )
        b = coef[f:].view(n - 1, f, f)
        scores[i, others] = b.square().sum((1, 2)).sqrt()
    return scores


def top_k_senders(scores: Tensor, k: int) -> Tensor:
    """The ``k`` senders of every receiver with the largest scores (ties: lower
    index) as an ``[N, N]`` bool matrix [receiver, sender].

    Raises:
        ValueError: ``k`` not in ``1 .. N - 2`` (``N - 1`` is all pairs).
    """
    n = scores.shape[0]
    if not 1 <= k < n - 1:
        raise ValueError(
            f"k must be in 1 .. N - 2 = {n - 2} for {n} objects, got {k} (all pairs: "
            "model.candidates=all)"
        )
    order = torch.argsort(-scores, dim=1, stable=True)[:, :k]
    out = torch.zeros(n, n, dtype=torch.bool)
    return out.scatter(1, order, True)


class LinearCandidates(NamedTuple):
    """One candidate graph for a data set.

    Fields:
        graph: ``[N, N]`` bool [receiver, sender], ``k`` candidates per receiver.
        scores: ``[N, N]`` float64 linear scores (-inf on the diagonal).
        recall: share of the split's true interacting edges (all samples) inside
            ``graph``; None without true edges.
        shared_truth: whether every sample of the split has the same true graph;
            None without true edges.
    """

    graph: Tensor
    scores: Tensor
    recall: float | None
    shared_truth: bool | None


def linear_candidates(
    x: Tensor, k: int, labels: Tensor | None = None, ridge: float = 1e-3
) -> LinearCandidates:
    """:func:`linear_scores` of ``x``, its top ``k`` senders per receiver, and (with
    ``labels`` ``[S, E]``, -1 unknown) their recall of the true edges.

    Raises:
        ValueError: as :func:`linear_scores` and :func:`top_k_senders`.
    """
    from nri import graph as g

    scores = linear_scores(x, ridge)
    cand = top_k_senders(scores, k)
    recall = shared = None
    if labels is not None and bool((labels > 0).any()):
        true = labels > 0
        inside = true & g.to_edges(cand)[None]
        recall = float(inside.sum()) / float(true.sum())
        known = labels >= 0
        shared = bool(((true == true[:1]) | ~known | ~known[:1]).all())
    return LinearCandidates(cand, scores, recall, shared)


def write_candidates(
    data: str | Path,
    k: int,
    out: str | Path,
    suffix: str | None = None,
    split: str = "train",
    ridge: float = 1e-3,
    scores: str | Path | None = None,
) -> str:
    """``nri candidates``: :func:`linear_candidates` of a data set's split (normalised
    as for training), written atomically to ``out`` (``.npy`` or ``.csv``, 0/1,
    [receiver, sender]; the format ``model.candidates`` reads), and the scores to
    ``scores`` (``.npy``) if given. Returns the line the command prints (with the
    recall of the split's true edges when it has them); a
    :class:`~nri.errors.DataNotice` when the samples' true graphs differ.

    Raises:
        ValueError: another suffix than .npy/.csv (.npy for ``scores``), a missing
            output folder, a missing split, or as :func:`linear_candidates`.
    """
    import warnings

    import numpy as np

    from nri.atomic import atomic_path
    from nri.data.dataset import load_dataset
    from nri.errors import DataNotice

    out = Path(out)
    if out.suffix not in (".npy", ".csv"):
        raise ValueError(f"--out {out}: the candidate graph is written as .npy or .csv")
    if scores is not None and Path(scores).suffix != ".npy":
        raise ValueError(f"--scores {scores}: the scores are written as .npy")
    for path in (out, scores):
        if path is not None and not Path(path).parent.is_dir():
            raise ValueError(f"{path}: no such folder {Path(path).parent}")
    loaded = load_dataset(data, suffix, splits=(split,))
    if split not in loaded.splits:
        raise ValueError(f"{data}: the data set has no {split!r} split")
    x, labels = loaded.splits[split]
    found = linear_candidates(x, k, labels, ridge)
    adj = found.graph.numpy().astype(np.int8)
    with atomic_path(out) as tmp:
        if out.suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, adj)
        else:
            np.savetxt(tmp, adj, fmt="%d", delimiter=",")
    if scores is not None:
        with atomic_path(scores) as tmp, open(tmp, "wb") as f:
            np.save(f, found.scores.numpy())
    n = adj.shape[0]
    line = (
        f"wrote {out}: {k} candidate senders per receiver of {n} objects "
        f"({k * n} of {n * (n - 1)} pairs, {k / (n - 1):.1%}), [receiver, sender]; "
        f"train with --set model.candidates={out}"
    )
    if found.recall is not None:
        line += (
            f"\nthey hold {found.recall:.1%} of the true edges of the {split} split "
            f"(random candidates: {k / (n - 1):.1%})"
        )
        if not found.shared_truth:
            warnings.warn(
                f"the {split} split's samples have different true graphs; one "
                "candidate graph for all of them misses each sample's own edges "
                "(model.candidates=knn or all instead)",
                DataNotice,
                stacklevel=2,
            )
    return line
