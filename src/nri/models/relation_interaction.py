"""NRI-MPM's encoder with relation interaction (Chen et al. 2021; spec/nri-mpm.md 2).

Trunk (Eqs. 8-11): a temporal reducer, a factor-graph edge -> node -> edge pass with
MPM MLP blocks and a mean over incoming edges. Relation interaction (Eqs. 12-18): an
intra-edge sequence model over the N-1 incoming edges of every receiver, mean pooling,
an inter-edge sequence model over the N pooled nodes, and one Linear on
``[r1_(a,b), r2_a]``. The incoming edges of receiver a are the contiguous block
``a*(N-1) ..`` of ``graph.py``'s edge order, so ``[B, E, H]`` reshapes to
``[B, N, N-1, H]`` without an index. The sequence models and the GRU's reading
orders are in :mod:`nri.models.ri_sequence`.

On candidate edges (``edges``, :class:`nri.graph.EdgeSet`; docs/scale.md) the same
blocks have ``D`` slots per receiver, ragged groups padded with a mask: the intra
sequence model reads only the candidates, the pooling (Eq. 15) is their mean, and
the edges that are not candidates are "no interaction" with probability 1.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from nri import graph
from nri.models.encoders import EncoderOutput, _Pairs, non_candidate_logits
from nri.models.ri_sequence import (
    RIOrders,
    SelfAttention,
    SequenceModel,
    SetSequence,
    random_orders,
)
from nri.nn.cnn import CNN, MIN_TIMESTEPS
from nri.nn.mlp import MLP

Reducer = Literal["mlp", "cnn"]
RelationInteraction = Literal["both", "intra", "inter", "none"]

__all__ = [
    "RIOrders",
    "random_orders",
    "SelfAttention",
    "SetSequence",
    "RelationInteractionEncoder",
]


class RelationInteractionEncoder(nn.Module):
    """The NRI-MPM encoder ``RNNENC`` / ``AttENC`` / ``GNNENC`` (Chen et al. 2021).

    Trunk (Eqs. 8-11; spec/nri-mpm.md 2.2-2.3): reducer ``"mlp"``:
    ``h = emb(x_a)`` (T*F time-major), ``e1 = n2e_i([h_b, h_a])``; reducer ``"cnn"``:
    ``e1 = n2e_i(CNN([x_b, x_a]))``. Then ``v = e2n(mean_b e1_(a,b))`` and
    ``e2 = n2e_o([v_b, v_a, e1])``. All MLPs are MPM blocks (extra BatchNorm).

    Relation interaction (Eqs. 12-18; spec 2.4), ``relation_interaction``:

    * ``"both"``: ``r1 = intra(e2)`` over the N-1 incoming edges of each receiver
      (Eqs. 13-14); ``p_a = mean_b r1_(a,b)`` (Eq. 15); ``r2 = inter(p)`` over the N
      nodes (Eq. 16); ``logits = Linear(2H, K)([r1, r2_a])`` (Eq. 17).
    * ``"intra"`` (w/o inter-RI): ``logits = Linear(H, K)(r1)``.
    * ``"inter"`` (w/o intra-RI): the intra operation is the identity:
      ``r2 = inter(mean_b e2_(a,b))``, ``logits = Linear(2H, K)([e2, r2_a])``; with
      ``inter_only_reference`` the reference's degenerate ``Linear(H, K)(r2_a)`` (the
      same logits for all incoming edges of a node; defect D1).
    * ``"none"`` (w/o RI, GNNENC): ``logits = Linear(H, K)(e2)``.

    Sequence models: see :class:`SetSequence`. With ``"gru"`` the orders come from
    ``orders`` or are drawn from ``generator`` (:func:`random_orders`); in eval mode
    ``eval_samples = m > 1`` averages q over m draws (logits = log of the mean q).

    Parameter counts (H = 256, K = 2, independent of N): 1,502,210 (mlp, F = 4,
    GRU), 1,724,931 (cnn, F = 4), 1,722,371 (cnn, F = 3), 1,107,458 (mlp, attention),
    712,194 (mlp, ``"none"``).

    Args:
        n_features: F.
        n_timesteps: T (tied to the weights with the MLP reducer).
        hidden_dim: H.
        n_edge_types: K.
        reducer: ``"mlp"`` or ``"cnn"``.
        relation_interaction: ``"both"``, ``"intra"``, ``"inter"`` or ``"none"``.
        sequence_model: ``"gru"``, ``"attention"`` or ``"transformer"``.
        dropout: dropout in the MLP blocks and the CNN.
        inter_only_reference: reference path of ``"inter"`` (D1).
        eval_samples: number of RI orders averaged in eval mode (GRU only).
        transformer_heads: heads of the transformer variant.
        output: ``"linear"`` (the code's ``Linear(., K)``) or ``"mlp"``
            (``Linear(., H) -> ELU -> Linear(H, K)``, Eq. 17's "MLP"; untested
            against the paper's numbers).
        orders_seeded: GRU orders from ``generator`` (True) or, as the reference
            (defect D3), from a generator seeded from OS entropy at every call.

    Shapes:
        x ``[B, N, T, F]`` -> ``EncoderOutput(logits [B, E, K], q [B, E, K])``;
        with ``edges`` the trunk and the relation interaction run on the ``N*D``
        candidate slots and the result is mapped to the full layout.

    Differences from the paper: Eq. 10 sums, we take the mean (as the code); Eq. 11
    has no skip term, we concatenate ``e1`` (as the code); Eq. 17's MLP is one Linear
    (as the code); "w/o intra-RI" is the fixed version above, not the reference's
    degenerate path; GRU orders come from an explicit generator, not from a NumPy
    generator re-seeded from OS entropy (D3).
    """

    def __init__(
        self,
        n_features: int,
        n_timesteps: int,
        hidden_dim: int = 256,
        n_edge_types: int = 2,
        reducer: Reducer = "mlp",
        relation_interaction: RelationInteraction = "both",
        sequence_model: SequenceModel = "gru",
        dropout: float = 0.0,
        inter_only_reference: bool = False,
        eval_samples: int = 1,
        transformer_heads: int = 4,
        output: Literal["linear", "mlp"] = "linear",
        orders_seeded: bool = True,
    ) -> None:
        super().__init__()
        if output not in ("linear", "mlp"):
            raise ValueError(f"output must be 'linear' or 'mlp', got {output!r}")
        if reducer not in ("mlp", "cnn"):
            raise ValueError(f"reducer must be 'mlp' or 'cnn', got {reducer!r}")
        if relation_interaction not in ("both", "intra", "inter", "none"):
            raise ValueError(
                "relation_interaction must be 'both', 'intra', 'inter' or 'none', "
                f"got {relation_interaction!r}"
            )
        if eval_samples < 1:
            raise ValueError(f"eval_samples must be >= 1, got {eval_samples}")
        self.n_features = n_features
        self.n_timesteps = n_timesteps
        self.reducer = reducer
        self.relation_interaction = relation_interaction
        self.sequence_model = sequence_model
        self.inter_only_reference = inter_only_reference
        self.eval_samples = eval_samples
        self.orders_seeded = orders_seeded
        h, k = hidden_dim, n_edge_types

        def mlp(in_dim: int) -> MLP:
            return MLP(in_dim, h, h, dropout, hidden_batch_norm=True)

        if reducer == "mlp":
            self.emb = mlp(n_timesteps * n_features)
            self.n2e_i = mlp(2 * h)
        else:
            self.cnn = CNN(2 * n_features, h, h, dropout)
            self.n2e_i = mlp(h)
        self.e2n = mlp(h)
        self.n2e_o = mlp(3 * h)
        ri = relation_interaction
        self.intra = (
            SetSequence(sequence_model, h, transformer_heads)
            if ri in ("both", "intra")
            else None
        )
        self.inter = (
            SetSequence(sequence_model, h, transformer_heads)
            if ri in ("both", "inter")
            else None
        )
        two_parts = ri == "both" or (ri == "inter" and not inter_only_reference)
        out_in = 2 * h if two_parts else h
        # Eq. 17: the code's single affine layer, or the paper's "MLP" (spec 2.4.3)
        self.fc_out = (
            nn.Linear(out_in, k)
            if output == "linear"
            else nn.Sequential(nn.Linear(out_in, h), nn.ELU(), nn.Linear(h, k))
        )
        # spec 2.1: Xavier-normal, bias 0.1 for every Linear of the encoder (the MLP
        # blocks do it themselves); GRUCells and the transformer keep PyTorch's init.
        heads = list(self.fc_out) if output == "mlp" else [self.fc_out]
        for mod in [*heads, *(s.seq for s in (self.intra, self.inter) if s)]:
            if isinstance(mod, SelfAttention):
                linears = [mod.query, mod.key, mod.value]
            elif isinstance(mod, nn.Linear):
                linears = [mod]
            else:
                continue
            for lin in linears:
                nn.init.xavier_normal_(lin.weight)
                nn.init.constant_(lin.bias, 0.1)

    @property
    def random(self) -> bool:
        """Whether the output depends on random orders (GRU relation interaction)."""
        return self.sequence_model == "gru" and self.relation_interaction != "none"

    def trunk(self, x: Tensor, edges: graph.EdgeSet | None = None) -> Tensor:
        """Eqs. 8-11: ``e2 [B, E, H]`` from ``x [B, N, T, F]`` (``[B, N*D, H]`` on
        candidate slots)."""
        if x.ndim != 4 or x.shape[3] != self.n_features or x.shape[1] < 2:
            raise ValueError(
                f"x must be [B, N, T, F] with N >= 2 and F={self.n_features}, "
                f"got {tuple(x.shape)}"
            )
        b, n, t, f = x.shape
        ops = _Pairs(n, x.device, edges, "n_in")
        if self.reducer == "mlp":
            if t != self.n_timesteps:
                raise ValueError(
                    f"x must be [B, N, T, F] with T={self.n_timesteps} for the MLP "
                    f"reducer, got {tuple(x.shape)}"
                )
            h = self.emb(x.reshape(b, n, t * f))  # [B, N, T*F] -> [B, N, H] (Eq. 8)
            e1 = ops.rows(self.n2e_i, ops.n2e(h))  # [B, E, H] (Eq. 9)
        else:
            if t < MIN_TIMESTEPS:
                raise ValueError(
                    f"x must be [B, N, T, F] with T >= {MIN_TIMESTEPS} for the CNN "
                    f"reducer, got {tuple(x.shape)}"
                )
            pairs = ops.n2e(x)  # [B, E, T, 2F], sender first
            e = pairs.shape[1]
            if ops.valid is None:
                seq = pairs.reshape(b * e, t, 2 * f).transpose(1, 2)  # [B*E, 2F, T]
                e1 = self.n2e_i(self.cnn(seq).view(b, e, -1))  # [B, E, H] (Eqs. 8-9)
            else:  # the candidates' rows only (batch-norm statistics)
                e1 = ops.rows(lambda p: self.n2e_i(self.cnn(p.transpose(1, 2))), pairs)
        v = self.e2n(ops.e2n(e1))  # [B, N, H] Eq. 10 (mean over incoming)
        e2 = torch.cat([ops.n2e(v), e1], dim=-1)  # [B, E, 3H]
        return ops.rows(self.n2e_o, e2)  # [B, E, H] (Eq. 11 with skip)

    def interact(
        self,
        e2: Tensor,
        orders: RIOrders | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> Tensor:
        """Eqs. 12-17: logits ``[B, E, K]`` from ``e2 [B, E, H]`` (on candidate
        slots: ``[B, N*D, .]``, padding ignored, its logits meaningless)."""
        b, e, hdim = e2.shape
        if edges is None:
            n = graph.n_nodes(e)
            d, mask = n - 1, None
        else:
            n, d = edges.n_nodes, edges.slots
            mask = edges.mask.expand(b, n, d)  # [B, N, D]
        ri = self.relation_interaction
        if ri == "none":
            return self.fc_out(e2)  # [B, E, K]
        if self.random and orders is None:
            raise ValueError("the GRU relation interaction needs orders")
        blocks = e2.view(b, n, d, hdim)  # [B, E, H] -> [B, N, D, H] by receiver
        if self.intra is not None:
            order = orders.intra.reshape(b * n, d) if self.random else None
            flat_mask = None if mask is None else mask.reshape(b * n, d)
            r1 = self.intra(blocks.reshape(b * n, d, hdim), order, flat_mask)
            r1 = r1.view(b, n, d, hdim)  # Eqs. 13-14: [B*N, D, H] -> [B, N, D, H]
        else:
            r1 = blocks  # "inter": the missing intra operation is the identity
        if self.inter is None:
            return self.fc_out(r1).view(b, e, -1)  # "intra": [B, E, K]
        if mask is None:
            pooled = r1.mean(dim=2)  # [B, N, H] (Eq. 15)
        else:  # Eq. 15 over the candidates of each receiver (0 without any)
            w = mask[..., None].to(r1.dtype)  # [B, N, D, 1]
            pooled = (r1 * w).sum(2) / w.sum(2).clamp(min=1)  # [B, N, H]
        r2 = self.inter(pooled, orders.inter if self.random else None)  # [B, N, H]
        if ri == "inter" and self.inter_only_reference:  # D1: one logit per receiver
            return self.fc_out(r2)[:, :, None].expand(b, n, d, -1).reshape(b, e, -1)
        r2e = r2[:, :, None].expand(b, n, d, hdim)  # [B, N, D, H] broadcast
        out = self.fc_out(torch.cat([r1, r2e], dim=-1))  # [B, N, D, K] (Eq. 17)
        return out.view(b, e, -1)  # [B, E, K]

    def forward(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        orders: RIOrders | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> EncoderOutput:
        if not self.orders_seeded:
            # D3 (reference): RI orders from a generator seeded from OS entropy at
            # every call (the encoder uses its generator for the orders only)
            generator = torch.Generator(device=x.device)
            generator.seed()
        e2 = self.trunk(x, edges)  # [B, E, H] (or [B, N*D, H] on candidates)
        b, n = x.shape[:2]
        ops = _Pairs(n, x.device, edges, "n_in")
        mask = None if edges is None else edges.mask
        if not self.random:
            return ops.full(self.interact(e2, None, edges))
        if orders is not None or self.training or self.eval_samples == 1:
            if orders is None:
                orders = random_orders(b, n, x.device, generator, mask)
            return ops.full(self.interact(e2, orders, edges))  # [B, E, K]
        q = torch.stack(
            [
                ops.full(
                    self.interact(
                        e2, random_orders(b, n, x.device, generator, mask), edges
                    )
                ).q
                for _ in range(self.eval_samples)
            ]
        ).mean(dim=0)  # [B, E, K]: q averaged over eval_samples orders
        logits = torch.log(q)
        if edges is not None:  # non-candidates keep their exact logits, not log 0
            fill = non_candidate_logits(logits.shape[-1]).to(logits)
            cand = graph.candidate_mask(edges)[..., None]  # [B', E, 1]
            logits = torch.where(cand, logits, fill)
        return EncoderOutput(logits, q)
