"""NRI-MPM decoders (Chen et al. 2021; spec/nri-mpm.md 4).

* :class:`STDecoder` (``RNNDEC``): spatio-temporal message passing, Eqs. 21-27.
* :class:`STAttentionDecoder` (``AttDEC``): the same with temporal attention (Kuramoto).
* :class:`GNNDecoder` (``GNNDEC``, "w/o ST"): NRI's MLP decoder with the messages
  divided by the number of used edge types.

All expose ``step(x_t, z, state) -> (x_next, state)`` for ``nri.rollout``. The
temporal state (:class:`STState`) lives only inside one rollout segment: ``state=None``
at every segment start (``rollout`` starts all segments together with ``None``), so
the first step of a segment is a stateless, mean-aggregating MLP-decoder step.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nri import graph
from nri.models.decoders import (
    MLPDecoder,
    TypedEdgeMLP,
    _check_step,
    _sparse,
    pass_messages,
)
from nri.nn.gru import FusedGRUCell

STParts = Literal["both", "edge", "node"]

__all__ = ["STState", "STDecoder", "STAttentionDecoder", "GNNDecoder"]


class STState:
    """Hidden state of the ST decoders within one rollout segment.

    Fields:
        edge: ``[B, E, (S,) H]`` edge hidden ``m^t`` (Eq. 22).
        node: ``[B, N, (S,) F + H]`` node hidden ``c^t`` (Eq. 24).
        keys, values: tuples of ``[B, N, (S,) A]`` (attention decoder only): the
            projected temporal-attention buffer of the segment.

    Indexing applies to every tensor (``state[:, :, :s]`` keeps the first s
    segments, as ``nri.rollout.rollout`` does when segments end).
    """

    __slots__ = ("edge", "node", "keys", "values")

    def __init__(
        self,
        edge: Tensor,
        node: Tensor,
        keys: tuple[Tensor, ...] = (),
        values: tuple[Tensor, ...] = (),
    ) -> None:
        self.edge = edge
        self.node = node
        self.keys = keys
        self.values = values

    def __getitem__(self, index: Any) -> STState:
        return STState(
            self.edge[index],
            self.node[index],
            tuple(k[index] for k in self.keys),
            tuple(v[index] for v in self.values),
        )


def _gru(cell: nn.GRUCell, u: Tensor, h: Tensor) -> Tensor:
    """A GRUCell on all leading positions at once: ``[..., I], [..., H] -> [..., H]``."""
    out = cell(u.reshape(-1, u.shape[-1]), h.reshape(-1, h.shape[-1]))
    return out.view(*u.shape[:-1], out.shape[-1])


class STDecoder(nn.Module):
    """Spatio-temporal decoder ``RNNDEC`` of NRI-MPM (Eqs. 21-27 of Chen et al. 2021).

    One step (spec/nri-mpm.md 4.1), with ``K' = K - skip_first`` used types:

    1. ``m~ = sum_{k used} z_k f_k([x_sender, x_receiver]) / K'`` (Eq. 21), ``f_k``:
       ``Linear(2F, H) -> ReLU -> Dropout -> Linear(H, H) -> ReLU``;
    2. ``m^t = GRU_edge(m~, m^{t-1})``, or ``m~`` at a segment start (Eq. 22);
    3. ``M_a = mean over the N-1 incoming edges of m^t`` (Eq. 23);
    4. ``c^t = GRU_node([x_a, M_a], c^{t-1})`` with hidden size F + H, or
       ``[x_a, M_a]`` at a segment start (Eq. 24);
    5. ``x^{t+1} = x^t + f_out(c^t)``, ``f_out = Linear(F + H, H) -> ReLU -> Dropout ->
       Linear(H, H) -> ReLU -> Dropout -> Linear(H, F)`` (Eqs. 25-27).

    Both GRUs compute the standard GRU equations of the reference's six Linear maps as
    :class:`~nri.nn.gru.FusedGRUCell` (``nn.GRUCell``'s parameters; one fused pass for
    the gate arithmetic on the CPU). 1,071,740 parameters for F = 4, H = 256, K = 2;
    1,067,083 for F = 3. PyTorch's default initialisation.

    Args:
        n_features: F.
        n_edge_types: K.
        hidden_dim: H (message, edge hidden and output widths).
        dropout: dropout in the message and output MLPs (respects eval mode).
        skip_first: type 0 sends no message (its MLP exists but gets no gradient).
        st_parts: ``"both"``; ``"node"`` drops S_edge, ``"edge"`` drops S_node (the
            reference's ``RNNDEC(option=...)``; not in the paper).
        edge_chunk: at most this many edges' messages (and edge-GRU updates) at a
            time, recomputed in the backward pass
            (:func:`~nri.models.decoders.pass_messages`; None: all at once).

    Shapes:
        step: x_t ``[B, N, F]`` or ``[B, N, S, F]``, z ``[B, E, K]``, state
        :class:`STState` or None -> (x_next like x_t, :class:`STState`). With
        ``edges`` (candidate slots): z ``[B, N*D, K]`` and the edge state
        ``[B, N*D, (S,) H]`` in their slot layout; only candidates enter the mean
        of Eq. 23 (still divided by N - 1). Non-candidates have no edge state at
        all, so this is not the dense model with them set to type 0 (there the
        edge GRU of a silent edge still sends ``GRU(0, m^{t-1})``).

    Differences from the paper: Eqs. 21 and 23 write sums, the code (and we) divide the
    messages by K' and average over incoming edges; Eqs. 22 and 24 suggest a history
    over all past steps, the code (and we) reset the hidden states at every
    teacher-forced frame, so the state only covers the current segment (spec 4.2).
    """

    stateful = True
    burn_in = False  # segments, hidden states reset per segment (Eqs. 19-20)

    def __init__(
        self,
        n_features: int,
        n_edge_types: int = 2,
        hidden_dim: int = 256,
        dropout: float = 0.0,
        skip_first: bool = False,
        st_parts: STParts = "both",
        edge_chunk: int | None = None,
    ) -> None:
        super().__init__()
        self.edge_chunk = edge_chunk
        if st_parts not in ("both", "edge", "node"):
            raise ValueError(
                f"st_parts must be 'both', 'edge' or 'node', got {st_parts!r}"
            )
        h = hidden_dim
        self.n_features = n_features
        self.n_edge_types = n_edge_types
        self.hidden_dim = h
        self.dropout = dropout
        self.skip_first = skip_first
        self.st_parts = st_parts
        self.msg = TypedEdgeMLP(
            self._msg_in_dim(), h, h, n_edge_types, "relu", skip_first
        )
        self.gru_edge = FusedGRUCell(h, h) if st_parts != "node" else None
        self.gru_node = (
            FusedGRUCell(n_features + h, n_features + h) if st_parts != "edge" else None
        )
        self.out_fc1 = nn.Linear(n_features + h, h)
        self.out_fc2 = nn.Linear(h, h)
        self.out_fc3 = nn.Linear(h, n_features)

    def _msg_in_dim(self) -> int:
        return self.n_features

    def _msg_input(self, x_t: Tensor) -> Tensor:
        return x_t

    def _f_out(self, c: Tensor) -> Tensor:
        h = F.dropout(F.relu(self.out_fc1(c)), self.dropout, self.training)
        h = F.dropout(F.relu(self.out_fc2(h)), self.dropout, self.training)
        return self.out_fc3(h)  # [B, N, *, F]

    def _spatial(
        self,
        x_t: Tensor,
        z: Tensor,
        state: STState | None,
        edges: graph.EdgeSet | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Steps 1-4: returns ``m^t [B, E, *, H]``, ``[x, M] [B, N, *, F+H]``, ``c^t``."""
        _check_step(x_t, z, self.n_features, self.n_edge_types, edges)
        n = x_t.shape[1]
        n_used = self.n_edge_types - self.msg.first_type
        zs = z / n_used if n_used > 1 else z  # [B, E, K]: Eq. 21 divided by K'
        h_in = self._msg_input(x_t)  # [B, N, *, D]
        slots = _sparse(x_t, edges, self.edge_chunk)
        gru_edge = self.gru_edge if state is not None else None
        if slots is not None:
            update, edge_state = None, None
            if gru_edge is not None and state is not None:
                edge_state = state.edge

                def update(m: Tensor, s: Tensor) -> Tensor:
                    return _gru(gru_edge, m, s)  # Eq. 22 on a chunk of slots

            agg, kept = pass_messages(
                self.msg, h_in, zs, slots, float(n - 1), self.dropout, self.training,
                self.edge_chunk, update, edge_state, keep_messages=True,
            )  # fmt: skip
            assert kept is not None
            msg = kept  # the next step's edge state [B, N*D, *, H]
        else:
            send, recv = graph.fully_connected(n, x_t.device)
            msg = self.msg(
                h_in, zs, send, recv, self.dropout, self.training
            )  # [B, E, *, H]
            if gru_edge is not None:
                msg = _gru(gru_edge, msg, state.edge)  # Eq. 22: [B, E, *, H]
            agg = graph.edge_to_node(
                msg, recv, n, float(n - 1)
            )  # Eq. 23 mean: [B, N, *, H]
        cat = torch.cat([x_t, agg.to(x_t.dtype)], dim=-1)  # [B, N, *, F + H]
        c = cat
        if state is not None and self.gru_node is not None:
            c = _gru(self.gru_node, cat, state.node)  # Eq. 24: [B, N, *, F + H]
        return msg, cat, c

    def step(
        self,
        x_t: Tensor,
        z: Tensor,
        state: STState | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> tuple[Tensor, STState]:
        """One prediction step; ``state=None`` starts a segment."""
        msg, _, c = self._spatial(x_t, z, state, edges)
        return x_t + self._f_out(c), STState(msg, c)  # Eqs. 25-26


class STAttentionDecoder(STDecoder):
    """``AttDEC``: :class:`STDecoder` with temporal attention (spec/nri-mpm.md 4.3).

    Messages read ``x_emb = [Linear(F, 128)(x), x]``. At a segment start
    ``c = [x, M]`` is used as in :class:`STDecoder` and starts the attention buffer.
    Later steps: ``c = GRU_node([x, M], c_prev)``; ``q = ReLU(W_q c)``,
    ``k_j = ReLU(W_k b_j)``, ``v_j = ReLU(W_v b_j)`` over the buffer ``b`` plus ``c``;
    ``o = ReLU(W_o sum_j softmax_j(q . k_j / sqrt(A)) v_j)``; ``x^{t+1} = x^t +
    f_out(o)``; ``o`` is appended to the buffer, ``c`` is the next GRU hidden. The
    buffer resets with the segment (at most M steps). ``attn_unused`` mirrors an
    unused ``Linear(F + H, A)`` of the reference (it gets no gradient); 1,531,470
    parameters for F = 3, H = 256, A = 256.

    Args:
        as :class:`STDecoder`, plus ``embed_dim`` (128) and ``attention_dim`` A (256).

    Differences from the paper: the paper only says "attention mechanisms are added to
    the decoder"; this is the reference code's design. Keys and values of the buffer
    are cached in the state (same values, computed once).
    """

    def __init__(
        self,
        n_features: int,
        n_edge_types: int = 2,
        hidden_dim: int = 256,
        dropout: float = 0.0,
        skip_first: bool = False,
        embed_dim: int = 128,
        attention_dim: int = 256,
        edge_chunk: int | None = None,
    ) -> None:
        self.embed_dim = embed_dim
        super().__init__(
            n_features, n_edge_types, hidden_dim, dropout, skip_first,
            edge_chunk=edge_chunk,
        )  # fmt: skip
        c, a = n_features + hidden_dim, attention_dim
        self.emb = nn.Linear(n_features, embed_dim)
        self.att_query = nn.Linear(c, a)
        self.att_key = nn.Linear(c, a)
        self.att_value = nn.Linear(c, a)
        self.att_out = nn.Linear(a, c)
        self.attn_unused = nn.Linear(c, a)  # the reference's unused `attn` layer

    def _msg_in_dim(self) -> int:
        return self.n_features + self.embed_dim

    def _msg_input(self, x_t: Tensor) -> Tensor:
        return torch.cat([self.emb(x_t), x_t], dim=-1)  # [B, N, *, 128 + F]

    def step(
        self,
        x_t: Tensor,
        z: Tensor,
        state: STState | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> tuple[Tensor, STState]:
        """One prediction step; ``state=None`` starts a segment (and its buffer)."""
        msg, _, c = self._spatial(x_t, z, state, edges)
        k_c = F.relu(self.att_key(c))  # [B, N, *, A]
        v_c = F.relu(self.att_value(c))
        if state is None:
            # segment start: Delta = f_out(c); the buffer starts as [c]
            return x_t + self._f_out(c), STState(msg, c, (k_c,), (v_c,))
        keys = torch.stack([*state.keys, k_c], dim=-2)  # [B, N, *, J, A]
        values = torch.stack([*state.values, v_c], dim=-2)  # [B, N, *, J, A]
        q = F.relu(self.att_query(c))  # [B, N, *, A]
        scores = (keys @ q[..., None]).squeeze(-1) / math.sqrt(q.shape[-1])  # [.., J]
        w = torch.softmax(scores, dim=-1)
        o = F.relu(self.att_out((w[..., None] * values).sum(dim=-2)))  # [B, N, *, F+H]
        new = STState(
            msg,
            c,
            (*state.keys, F.relu(self.att_key(o))),
            (*state.values, F.relu(self.att_value(o))),
        )
        return x_t + self._f_out(o), new


class GNNDecoder(MLPDecoder):
    """``GNNDEC`` ("NRI-MPM w/o ST", spec/nri-mpm.md 4.4): NRI's MLP decoder with the
    type mixture divided by the number of used types and a **sum** over incoming edges.

    ``x^{t+1} = x^t + f_out([x_a, sum_b sum_{k used} z_k f_k([x_b, x_a]) / K'])``;
    ``f_k`` and ``f_out`` as in :class:`STDecoder`. 269,828 parameters (F = 4, H = 256,
    K = 2). Markovian: the state is always None.

    Shapes:
        step: x_t ``[B, N, F]`` or ``[B, N, S, F]``, z ``[B, E, K]`` ->
        (x_next like x_t, None).

    Differences from the paper: the division by K' (Eq. 21 has none).
    """

    def __init__(
        self,
        n_features: int,
        n_edge_types: int = 2,
        hidden_dim: int = 256,
        dropout: float = 0.0,
        skip_first: bool = False,
        edge_chunk: int | None = None,
    ) -> None:
        h = hidden_dim
        super().__init__(
            n_features, n_edge_types, h, h, h, dropout, skip_first,
            mean_over_types=True, edge_chunk=edge_chunk,
        )  # fmt: skip
