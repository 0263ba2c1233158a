"""The sequence models of NRI-MPM's relation interaction (Chen et al. 2021; spec/nri-mpm.md
2.4): the reading orders of the GRU variant (:class:`RIOrders`, :func:`random_orders`)
and :class:`SetSequence` (GRU over a random order, :class:`SelfAttention`, or a
transformer layer) that the intra- and inter-edge interactions run over a set.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

SequenceModel = Literal["gru", "attention", "transformer"]

__all__ = ["RIOrders", "SelfAttention", "SequenceModel", "SetSequence", "random_orders"]


class RIOrders(NamedTuple):
    """Reading orders of the GRU relation interaction (spec/nri-mpm.md 2.4.4).

    Fields:
        intra: ``[B, N, N-1]`` int64; ``intra[b, a, s]`` is the position (0 .. N-2, in
            ascending sender order) of the incoming edge of receiver ``a`` read at step
            ``s``. None when there is no intra interaction.
        inter: ``[B, N]`` int64; ``inter[b, s]`` is the node read at step ``s``.
    """

    intra: Tensor | None
    inter: Tensor | None


def random_orders(
    b: int,
    n: int,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    mask: Tensor | None = None,
) -> RIOrders:
    """Uniformly random orders: one per (sample, receiver) for intra, one per sample
    for inter (argsort of uniform keys drawn from ``generator``; intra first).

    With ``mask [B', N, D]`` (candidate slots, :class:`nri.graph.EdgeSet`) the intra
    orders are ``[B, N, D]`` and read the candidates first, in random order, then
    the padding slots (whose outputs are ignored); a full mask with ``D = N - 1``
    gives the same orders as no mask.
    """
    d = n - 1 if mask is None else mask.shape[-1]
    keys = torch.rand(b, n, d, device=device, generator=generator)
    if mask is not None:
        keys = keys.masked_fill(~mask, 2.0)  # padding after every candidate
    intra = keys.argsort(dim=-1)  # [B, N, D]
    inter = torch.rand(b, n, device=device, generator=generator).argsort(dim=-1)
    return RIOrders(intra, inter)


class SelfAttention(nn.Module):
    """AttENC's sequence model: single-head self-attention without residual or mask.

    ``Q, K, V = tanh(Linear(H, H)(h))``; ``softmax(Q K^T / sqrt(H)) V``. Exactly
    permutation equivariant over the set axis.

    Shapes:
        h ``[M, L, H]`` -> ``[M, L, H]``.
    """

    def __init__(self, hidden_dim: int) -> None:
        super().__init__()
        self.query = nn.Linear(hidden_dim, hidden_dim)
        self.key = nn.Linear(hidden_dim, hidden_dim)
        self.value = nn.Linear(hidden_dim, hidden_dim)

    def forward(self, h: Tensor, mask: Tensor | None = None) -> Tensor:
        """``mask [M, L]`` bool: attend only to True positions (padding)."""
        q = torch.tanh(self.query(h))  # [M, L, H]
        k = torch.tanh(self.key(h))
        v = torch.tanh(self.value(h))
        scores = q @ k.transpose(1, 2) / math.sqrt(h.shape[-1])  # [M, L, L]
        if mask is not None:  # finite: a row of padding only stays finite (ignored)
            scores = scores.masked_fill(~mask[:, None, :], -1e9)
        w = torch.softmax(scores, dim=-1)
        return w @ v  # [M, L, L] @ [M, L, H] -> [M, L, H]


class SetSequence(nn.Module):
    """``pi^-1 o S o pi`` over a set axis (Eq. 14), S one of three sequence models.

    * ``"gru"``: a ``GRUCell(H, H)`` run from a zero state over the set in the given
      order, keeping every hidden state (the output of an element is the state right
      after it was read), then un-permuted. Equivariant only for matching orders.
    * ``"attention"``: :class:`SelfAttention` (AttENC); no order needed.
    * ``"transformer"``: one ``nn.TransformerEncoderLayer`` (no positional encoding,
      dropout 0, post-norm); an extension, not in the paper or the reference code.

    Args:
        kind: the sequence model.
        hidden_dim: H.
        n_heads: attention heads of the transformer.

    Padded sets: ``mask [M, L]`` (True = element) makes the attention and the
    transformer ignore the padding; the GRU must read the padding last (orders
    from :func:`random_orders` with a mask do), so that it cannot change the
    outputs of the elements. The outputs at padding positions are not meaningful.

    Shapes:
        h ``[M, L, H]``, order ``[M, L]`` int64 (gru only), mask ``[M, L]`` bool
        -> ``[M, L, H]``.
    """

    def __init__(self, kind: SequenceModel, hidden_dim: int, n_heads: int = 4) -> None:
        super().__init__()
        self.kind = kind
        self.seq: nn.Module
        if kind == "gru":
            self.seq = nn.GRUCell(hidden_dim, hidden_dim)
        elif kind == "attention":
            self.seq = SelfAttention(hidden_dim)
        elif kind == "transformer":
            self.seq = nn.TransformerEncoderLayer(
                hidden_dim, n_heads, hidden_dim, dropout=0.0, batch_first=True
            )
        else:
            raise ValueError(
                f"sequence model must be 'gru', 'attention' or 'transformer', got {kind!r}"
            )

    @property
    def needs_order(self) -> bool:
        return self.kind == "gru"

    def forward(
        self, h: Tensor, order: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        if self.kind == "attention":
            return self.seq(h, mask)  # [M, L, H]
        if self.kind == "transformer":
            if mask is None:
                return self.seq(h)  # [M, L, H]
            pad = ~mask & mask.any(-1, keepdim=True)  # an all-padding row: unmasked
            return self.seq(h, src_key_padding_mask=pad)
        if order is None or order.shape != h.shape[:2]:
            raise ValueError(
                f"the GRU relation interaction needs an order [M, L] = "
                f"{tuple(h.shape[:2])}, got {None if order is None else tuple(order.shape)}"
            )
        m, length, hdim = h.shape
        idx = order[..., None].expand(m, length, hdim)  # [M, L, H]
        seq = h.gather(1, idx)  # [M, L, H] in reading order (pi)
        state = h.new_zeros(m, hdim)
        outs = []
        for s in range(length):
            state = self.seq(seq[:, s], state)  # [M, H]
            outs.append(state)
        out = torch.stack(outs, dim=1)  # [M, L, H] in reading order
        return torch.zeros_like(out).scatter(1, idx, out)  # pi^-1: [M, L, H]
