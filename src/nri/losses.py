"""Loss terms of the NRI ELBO (spec/nri.md section 7): pure functions, float32.

Both terms are divided by ``B * N`` (batch size times number of objects), as in the
reference code, so they are the per-sample ELBO terms divided by N.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from nri import graph

KL_EPS = 1e-16

__all__ = [
    "gaussian_nll",
    "kl_categorical_uniform",
    "kl_categorical",
    "rollout_nll",
    "symmetric_kl",
]


def _n_nodes(n_edges: int) -> int:
    try:
        return graph.n_nodes(n_edges)
    except ValueError:
        raise ValueError(
            f"q must be [B, E, K] with E = N(N-1), got E={n_edges}"
        ) from None


def gaussian_nll(
    pred: Tensor, target: Tensor, variance: float = 5e-5, add_const: bool = False
) -> Tensor:
    """Gaussian negative log-likelihood with fixed variance, divided by ``B * N``.

    ``sum (pred - target)^2 / (2 variance) [+ 0.5 log(2 pi variance) per element]``;
    for 48 frames of 4 features and variance 5e-5 this is ``1e4 * 48 * 4 * mse``.

    Shapes:
        pred, target ``[B, N, T, F]`` -> scalar.
    """
    if pred.shape != target.shape or pred.ndim < 2:
        raise ValueError(
            f"pred and target must have the same shape [B, N, ...], got "
            f"{tuple(pred.shape)} and {tuple(target.shape)}"
        )
    nll = (pred.float() - target.float()).pow(2).sum() / (2 * variance)
    if add_const:
        nll = nll + 0.5 * math.log(2 * math.pi * variance) * pred.numel()
    return nll / (pred.shape[0] * pred.shape[1])


def rollout_nll(
    predict: Callable[[Tensor, int], Tensor],
    x: Tensor,
    pred_steps: int,
    variance: float,
    validation: bool,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Gaussian NLL of a teacher-forced rollout and its logs, for decoders without a
    graph term (the LSTM baseline, the true-graph decoders).

    ``predict(x, m)`` rolls out with teacher forcing every ``m`` frames and returns
    ``[B, N, L-1, F]`` predictions of ``x[:, :, 1:]``. Logs ``nll`` and ``mse``; in
    validation with ``pred_steps > 1`` also the one-step ``nll_1step`` and ``mse_1step``.

    Shapes:
        x ``[B, N, L, F]`` -> (scalar NLL, dict of detached scalars).
    """
    pred = predict(x, pred_steps)  # [B, N, L-1, F]
    target = x[:, :, 1:]
    nll = gaussian_nll(pred, target, variance)
    logs = {
        "nll": nll.detach(),
        "mse": (pred.detach().float() - target.float()).pow(2).mean(),
    }
    if validation and pred_steps != 1:
        pred1 = predict(x, 1).detach()  # [B, N, L-1, F]
        logs["nll_1step"] = gaussian_nll(pred1, target, variance)
        logs["mse_1step"] = (pred1.float() - target.float()).pow(2).mean()
    return nll, logs


def kl_categorical_uniform(q: Tensor, add_const: bool = True) -> Tensor:
    """KL(q || uniform over K types), summed over edges, divided by ``B * N``.

    ``sum q log(q + 1e-16) [+ log K per edge]``. With ``add_const=True`` (our default)
    this is the true KL (>= 0, 0 for uniform q); ``add_const=False`` gives the
    reference's logged value, the negative entropy (quirk Q7; same gradients).

    Shapes:
        q ``[B, E, K]`` -> scalar.
    """
    if q.ndim != 3:
        raise ValueError(f"q must be [B, E, K], got {tuple(q.shape)}")
    b, e, k = q.shape
    q = q.float()
    kl = (q * torch.log(q + KL_EPS)).sum()
    if add_const:
        kl = kl + b * e * math.log(k)
    return kl / (b * _n_nodes(e))


def kl_categorical(q: Tensor, log_prior: Tensor) -> Tensor:
    """KL(q || prior) with a fixed categorical prior, divided by ``B * N``.

    ``sum q (log(q + 1e-16) - log_prior)``.

    Shapes:
        q ``[B, E, K]``, log_prior ``[K]`` -> scalar.
    """
    if q.ndim != 3 or log_prior.shape != (q.shape[2],):
        raise ValueError(
            f"q must be [B, E, K] and log_prior [K], got {tuple(q.shape)} and "
            f"{tuple(log_prior.shape)}"
        )
    b, e, _ = q.shape
    q = q.float()
    kl = (q * (torch.log(q + KL_EPS) - log_prior.float())).sum()
    return kl / (b * _n_nodes(e))


def symmetric_kl(q: Tensor, rev: Tensor) -> Tensor:
    """NRI-MPM's symmetric prior penalty ``KL[q' || q]``, divided by ``B * N``.

    ``q'(i, j) = q(j, i)`` is ``q[:, rev]`` with ``rev = graph.reverse_index(N)``;
    ``sum q' (log(q' + 1e-16) - log(q + 1e-16))`` over batch, edges and types (Eqs.
    28-29 of Chen et al. 2021; spec/nri-mpm.md 5). Zero iff q is symmetric; gradients
    flow through both q' and q.

    Shapes:
        q ``[B, E, K]``, rev ``[E]`` int64 -> scalar.
    """
    if q.ndim != 3 or rev.shape != (q.shape[1],):
        raise ValueError(
            f"q must be [B, E, K] and rev [E], got {tuple(q.shape)} and "
            f"{tuple(rev.shape)}"
        )
    b, e, _ = q.shape
    q = q.float()
    log_q = torch.log(q + KL_EPS)  # [B, E, K]
    q_t = q.index_select(1, rev)  # [B, E, K]: q'(i, j) = q(j, i)
    kl = (q_t * (log_q.index_select(1, rev) - log_q)).sum()
    return kl / (b * _n_nodes(e))
