"""Gumbel-softmax sampling of edge types (Eq. 3; spec/nri.md section 4)."""

from __future__ import annotations

import torch
from torch import Tensor

GUMBEL_EPS = 1e-10


def sample_gumbel(
    shape: torch.Size | tuple[int, ...],
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    eps: float = GUMBEL_EPS,
) -> Tensor:
    """Gumbel noise ``-log(eps - log(U + eps))``, ``U ~ Uniform(0, 1)``, float32.

    Noise comes from ``generator`` (global RNG if None); its device must match
    ``device``.
    """
    u = torch.rand(shape, device=device, generator=generator, dtype=torch.float32)
    return -torch.log(eps - torch.log(u + eps))


def gumbel_softmax(
    logits: Tensor,
    tau: float = 1.0,
    hard: bool = False,
    generator: torch.Generator | None = None,
    eps: float = GUMBEL_EPS,
) -> Tensor:
    """Relaxed (``hard=False``) or straight-through (``hard=True``) categorical sample.

    Soft: ``softmax((logits + g) / tau)`` over the last axis. Hard: the forward value is
    exactly ``one_hot(argmax)`` and the gradient is the soft sample's (written as
    ``y_hard + (y_soft - y_soft.detach())``: the forward value is exactly 0 or 1).
    Computed in float32 whatever the logits' dtype.

    Args:
        logits: unnormalised log-probabilities.
        tau: temperature (> 0).
        hard: straight-through one-hot sample.
        generator: source of the noise (``torch.Generator`` on the logits' device).
        eps: the 1e-10 of the reference code.

    Shapes:
        logits ``[..., K]`` -> ``[..., K]``.
    """
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    g = sample_gumbel(logits.shape, device=logits.device, generator=generator, eps=eps)
    y_soft = torch.softmax((logits.float() + g) / tau, dim=-1)  # [..., K]
    if not hard:
        return y_soft
    index = y_soft.argmax(dim=-1, keepdim=True)  # [..., 1]
    y_hard = torch.zeros_like(y_soft).scatter_(-1, index, 1.0)  # [..., K] one-hot
    return y_hard + (y_soft - y_soft.detach())
