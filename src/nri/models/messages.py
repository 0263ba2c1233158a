"""The message passing of the decoders: one message MLP per edge type
(:class:`TypedEdgeMLP`) and :func:`pass_messages`, messages on candidate slots summed
at the receivers, in chunks recomputed in the backward pass (docs/scale.md).

The per-edge-type message MLPs are the hot path: the first Linear of the pair
``[h_sender, h_receiver]`` is applied per node before the gather (N rows instead of
E), the type-0 MLP is not evaluated at all under ``skip_first``, and the per-type
messages are accumulated in place (``addcmul``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from nri import graph

__all__ = ["TypedEdgeMLP", "pass_messages"]


class TypedEdgeMLP(nn.Module):
    """One two-layer message MLP per edge type, mixed by the edge weights ``z``.

    ``m = sum_{k >= k0} z_k * act(W2_k drop(act(W1_k [h_s, h_r] + b1_k)) + b2_k)``
    with ``k0 = 1`` under ``skip_first`` (the type-0 weights exist but get no gradient).
    PyTorch's default Linear initialisation, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Args:
        in_dim: node feature width D (the pair has 2D).
        hidden_dim: width of the first layer.
        out_dim: message width.
        n_edge_types: K.
        activation: ``"relu"`` (MLP decoder) or ``"tanh"`` (RNN decoder).
        skip_first: type 0 sends no message.

    Shapes:
        h ``[B, N, *, D]``, z ``[B, E, K]`` -> ``[B, E, *, out_dim]`` (``*``: any
        extra axes, e.g. segments, shared graph).
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dim: int,
        out_dim: int,
        n_edge_types: int,
        activation: Literal["relu", "tanh"],
        skip_first: bool = False,
    ) -> None:
        super().__init__()
        if skip_first and n_edge_types < 2:
            raise ValueError(f"skip_first needs n_edge_types >= 2, got {n_edge_types}")
        k = n_edge_types
        self.w1 = nn.Parameter(torch.empty(k, 2 * in_dim, hidden_dim))  # [K, 2D, Hm]
        self.b1 = nn.Parameter(torch.empty(k, hidden_dim))  # [K, Hm]
        self.w2 = nn.Parameter(torch.empty(k, hidden_dim, out_dim))  # [K, Hm, Mo]
        self.b2 = nn.Parameter(torch.empty(k, out_dim))  # [K, Mo]
        self.in_dim = in_dim
        self.activation = activation
        self.skip_first = skip_first
        self.reset_parameters()

    @property
    def first_type(self) -> int:
        return 1 if self.skip_first else 0

    def reset_parameters(self) -> None:
        for w, b in ((self.w1, self.b1), (self.w2, self.b2)):
            bound = 1.0 / math.sqrt(w.shape[1])
            nn.init.uniform_(w, -bound, bound)
            nn.init.uniform_(b, -bound, bound)

    def node_terms(self, h: Tensor) -> list[tuple[Tensor, Tensor]]:
        """The first Linear per node, ``[h_s, h_r] W1 = h_s W1[:D] + h_r W1[D:]``:
        per used type, ``(a_s [B, N, R, Hm], a_r [B, N, 1, R, Hm])`` (``R``: the
        product of the extra axes)."""
        b, n = h.shape[:2]
        d = h.shape[-1]
        r = math.prod(h.shape[2:-1])
        hm = self.w1.shape[2]
        hf = h.reshape(b * n * r, d)  # [B, N, *, D] -> [B*N*R, D]
        terms = []
        for k in range(self.first_type, self.w1.shape[0]):
            w1 = self.w1[k]  # [2D, Hm]: rows 0..D-1 act on the sender, D.. receiver
            a_s = (hf @ w1[:d]).view(b, n, r, hm)  # [B, N, R, Hm]
            a_r = torch.addmm(self.b1[k], hf, w1[d:]).view(b, n, 1, r, hm)
            terms.append((a_s, a_r))
        return terms

    def messages(
        self,
        terms: list[tuple[Tensor, Tensor]],
        z: Tensor,
        gather: Callable[[Tensor], Tensor],
        recv: tuple[int, int],
        block: int,
        dropout: float = 0.0,
        dropout_active: bool = False,
    ) -> Tensor:
        """Messages of the edges of receivers ``recv = (r0, r1)``, ``block`` edges
        (slots) each, from :meth:`node_terms`; ``gather`` picks the senders' rows
        ``[B, N, R, Hm] -> [B, (r1 - r0) * block, R, Hm]``; ``z [B, (r1-r0)*block,
        K]``. Returns ``[B, (r1 - r0) * block, R, Mo]``."""
        act_: Callable[[Tensor], Tensor] = (
            torch.relu_ if self.activation == "relu" else torch.tanh_
        )
        r0, r1 = recv
        msg: Tensor | None = None
        # A Python loop over the K' used types with 2-d GEMMs: on CPU this beat one
        # batched matmul over stacked types (bmm) by about 10 %.
        for (a_s, a_r), k in zip(
            terms, range(self.first_type, self.w1.shape[0]), strict=True
        ):
            b, n, r, hm = a_s.shape
            if (r0, r1) != (0, n):
                a_r = a_r[:, r0:r1]  # [B, r1-r0, 1, R, Hm]
            e = (r1 - r0) * block
            # receiver-major edge order: the incoming edges of node i are one
            # contiguous block (graph.py), so the receiver term broadcasts
            a_s = gather(a_s)  # [B, e, R, Hm] (index_select: fast backward on CPU)
            pre = a_s.view(b, r1 - r0, block, r, hm) + a_r  # [B, n', block, R, Hm]
            hid = act_(pre).view(b * e * r, hm)  # [B*e*R, Hm]
            hid = F.dropout(hid, dropout, training=dropout_active)
            mo = self.w2.shape[2]
            out = act_(torch.addmm(self.b2[k], hid, self.w2[k]))  # [B*e*R, Mo]
            out = out.view(b, e, r, mo)
            zk = z[:, :, k, None, None].to(out.dtype)  # [B, e, 1, 1]
            msg = out * zk if msg is None else torch.addcmul(msg, out, zk)
        assert msg is not None  # at least one used type (checked in __init__)
        return msg

    def forward(
        self,
        h: Tensor,
        z: Tensor,
        send: Tensor,
        recv: Tensor,
        dropout: float = 0.0,
        dropout_active: bool = False,
    ) -> Tensor:
        b, n = h.shape[:2]
        extra = h.shape[2:-1]
        terms = self.node_terms(h)
        msg = self.messages(
            terms, z, lambda a: a.index_select(1, send), (0, n), n - 1, dropout,
            dropout_active,
        )  # fmt: skip
        return msg.view(b, send.shape[0], *extra, self.w2.shape[2])  # [B, E, *, Mo]


def pass_messages(
    mlp: TypedEdgeMLP,
    h: Tensor,
    z: Tensor,
    edges: graph.EdgeSet,
    norm: float,
    dropout: float,
    dropout_active: bool,
    edge_chunk: int | None = None,
    edge_update: Callable[[Tensor, Tensor], Tensor] | None = None,
    edge_state: Tensor | None = None,
    keep_messages: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Messages on candidate slots summed at the receivers (divided by ``norm``),
    in chunks of receivers with at most ``edge_chunk`` slots each (docs/scale.md).

    Under autograd each chunk is recomputed in the backward pass
    (``torch.utils.checkpoint``), so the message MLP's activations of only one
    chunk are alive at a time: a step's peak memory is bounded by ``edge_chunk``
    instead of growing with ``B * E * S``. ``edge_update(m, state)`` (the ST
    decoder's edge GRU) maps the chunk's messages before the sum, with the chunk
    of ``edge_state``; with ``keep_messages`` the (updated) messages are returned
    too (the ST decoder's edge state).

    Shapes:
        h ``[B, N, *, D]``, z ``[B, N*D', K]`` (slot layout of ``edges``),
        edge_state ``[B, N*D', *, Mo]`` -> (``[B, N, *, Mo]``, messages
        ``[B, N*D', *, Mo]`` or None without ``keep_messages``).
    """
    b, n = h.shape[:2]
    extra = h.shape[2:-1]
    d = edges.slots
    terms = mlp.node_terms(h)
    send, mask = edges.flat_send(), edges.flat_mask()  # [B', N*D]
    step = n if not edge_chunk else max(1, min(n, edge_chunk // d))
    padded = not bool(mask.all())
    aggs, msgs = [], []
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        sl = slice(r0 * d, r1 * d)

        def chunk(
            zc: Tensor, st: Tensor | None, *flat: Tensor, r0: int = r0, r1: int = r1,
            sl: slice = sl,
        ) -> tuple[Tensor, Tensor]:  # fmt: skip
            pairs = list(zip(flat[0::2], flat[1::2], strict=True))
            idx = send[:, sl]
            m = mlp.messages(
                pairs, zc, lambda a: graph.gather_senders(a, idx), (r0, r1), d,
                dropout, dropout_active,
            )  # fmt: skip
            m = m.view(b, (r1 - r0) * d, *extra, m.shape[-1])  # [B, e, *, Mo]
            if edge_update is not None and st is not None:
                m = edge_update(m, st)
            blocks = m.view(b, r1 - r0, d, *m.shape[2:])
            if padded:  # padding slots send nothing (also after the edge GRU)
                w = mask[:, sl].view(mask.shape[0], r1 - r0, d, *([1] * (m.ndim - 2)))
                blocks = blocks * w.to(m.dtype)
            agg = blocks.sum(dim=2)  # [B, r1-r0, *, Mo]
            return agg / norm if norm != 1.0 else agg, m

        flat = [t for pair in terms for t in pair]
        st = None if edge_state is None else edge_state[:, sl]
        if edge_chunk and torch.is_grad_enabled():
            agg, m = checkpoint(chunk, z[:, sl], st, *flat, use_reentrant=False)
        else:
            agg, m = chunk(z[:, sl], st, *flat)
        aggs.append(agg)
        msgs.append(m)
    agg = aggs[0] if len(aggs) == 1 else torch.cat(aggs, dim=1)
    if not keep_messages:
        return agg, None
    return agg, msgs[0] if len(msgs) == 1 else torch.cat(msgs, dim=1)
