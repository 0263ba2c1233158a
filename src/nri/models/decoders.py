"""NRI decoders: one-step predictors p(x^{t+1} | x^{<=t}, z) (spec/nri.md section 5).

Both decoders expose ``step(x_t, z, state) -> (x_next, state)``; ``nri.rollout`` owns
teacher forcing, burn-in and the segment axis. The per-edge-type message MLPs are the
hot path: the first Linear of the pair ``[h_sender, h_receiver]`` is applied per node
before the gather (N rows instead of E), the type-0 MLP is not evaluated at all under
``skip_first``, and the per-type messages are accumulated in place (``addcmul``).
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

RNNAggNorm = Literal["n_in", "n_features"]


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


def _check_step(
    x_t: Tensor,
    z: Tensor,
    n_features: int,
    n_edge_types: int,
    edges: graph.EdgeSet | None = None,
) -> None:
    if x_t.ndim not in (3, 4) or x_t.shape[-1] != n_features or x_t.shape[1] < 2:
        raise ValueError(
            f"x_t must be [B, N, F] or [B, N, S, F] with F={n_features}, "
            f"got {tuple(x_t.shape)}"
        )
    b, n = x_t.shape[:2]
    e = n * (n - 1) if edges is None else n * edges.slots
    if edges is not None and edges.n_nodes != n:
        raise ValueError(f"edges are for {edges.n_nodes} nodes, x_t has {n}")
    if z.shape != (b, e, n_edge_types):
        raise ValueError(
            f"z must be [B, E, K] = {(b, e, n_edge_types)}, got {tuple(z.shape)}"
        )


def _sparse(
    x_t: Tensor, edges: graph.EdgeSet | None, edge_chunk: int | None
) -> graph.EdgeSet | None:
    """The slots to pass messages on: the candidates, all pairs when only chunking
    (their slot layout is the full edge layout), or None (the dense path)."""
    if edges is None and edge_chunk:
        return graph.all_pairs(x_t.shape[1], x_t.device)
    return edges


class MLPDecoder(nn.Module):
    """NRI Markovian MLP decoder (Kipf et al. 2018; spec/nri.md 5.1).

    Implements Eqs. (21), (23), (25)-(27) of the NRI restatement in Chen et al. 2021
    (NRI-MPM) without the sequence models S_edge, S_node:

    ``m_ij = sum_k z_ij,k f_e^k([x_j, x_i])`` (plain sum over types),
    ``mu_i = x_i + f_v([x_i, sum_{j} m_ij])``. 269,828 parameters for F = 4,
    K = 2, all widths 256.

    Args:
        n_features: F.
        n_edge_types: K.
        msg_hidden_dim: hidden width of the message MLPs.
        msg_out_dim: message width.
        hidden_dim: width of the output MLP.
        dropout: dropout probability in the message and output MLPs.
        skip_first: type 0 sends no message ("no interaction").
        dropout_in_eval: keep dropout active in eval mode (ethanfetaya/NRI quirk Q6).
        mean_over_types: divide the type mixture by the number of used types (the
            NRI-MPM variant, ``GNNDEC``); NRI sums.
        edge_chunk: at most this many edges' messages at a time, recomputed in
            the backward pass (:func:`pass_messages`; None: all at once).

    Shapes:
        step: x_t ``[B, N, F]`` or ``[B, N, S, F]``, z ``[B, E, K]`` ->
        (x_next with the shape of x_t, None). With ``edges`` (candidate slots,
        :class:`nri.graph.EdgeSet`) z is ``[B, N*D, K]`` in their slot layout and
        only candidates send messages (the sum over incoming edges is theirs).

    Differences from the paper: none in the equations; messages are summed (not
    averaged) over incoming edges and over edge types, as in the reference code.
    """

    stateful = False
    burn_in = False  # rolled out in segments (nri.models.parts)

    def __init__(
        self,
        n_features: int,
        n_edge_types: int = 2,
        msg_hidden_dim: int = 256,
        msg_out_dim: int = 256,
        hidden_dim: int = 256,
        dropout: float = 0.0,
        skip_first: bool = False,
        dropout_in_eval: bool = False,
        mean_over_types: bool = False,
        edge_chunk: int | None = None,
    ) -> None:
        super().__init__()
        self.edge_chunk = edge_chunk
        self.n_features = n_features
        self.n_edge_types = n_edge_types
        self.dropout = dropout
        self.dropout_in_eval = dropout_in_eval
        self.skip_first = skip_first
        self.mean_over_types = mean_over_types
        self.msg = TypedEdgeMLP(
            n_features, msg_hidden_dim, msg_out_dim, n_edge_types, "relu", skip_first
        )
        self.out_fc1 = nn.Linear(n_features + msg_out_dim, hidden_dim)
        self.out_fc2 = nn.Linear(hidden_dim, hidden_dim)
        self.out_fc3 = nn.Linear(hidden_dim, n_features)

    def step(
        self,
        x_t: Tensor,
        z: Tensor,
        state: Tensor | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """One prediction step; ``state`` is ignored and None is returned."""
        _check_step(x_t, z, self.n_features, self.n_edge_types, edges)
        n = x_t.shape[1]
        active = self.training or self.dropout_in_eval
        n_used = self.n_edge_types - self.msg.first_type
        if self.mean_over_types and n_used > 1:
            z = z / n_used
        slots = _sparse(x_t, edges, self.edge_chunk)
        if slots is None:
            send, recv = graph.fully_connected(n, x_t.device)
            msg = self.msg(x_t, z, send, recv, self.dropout, active)  # [B, E, *, Mo]
            agg = graph.edge_to_node(msg, recv, n)  # [B, E, *, Mo] -> [B, N, *, Mo]
        else:
            agg, _ = pass_messages(
                self.msg, x_t, z, slots, 1.0, self.dropout, active, self.edge_chunk
            )  # [B, N, *, Mo]
        h = torch.cat([x_t, agg.to(x_t.dtype)], dim=-1)  # [B, N, *, F + Mo]
        h = F.dropout(F.relu(self.out_fc1(h)), self.dropout, training=active)
        h = F.dropout(F.relu(self.out_fc2(h)), self.dropout, training=active)
        return x_t + self.out_fc3(h), None  # residual: [B, N, *, F]


class RNNDecoder(nn.Module):
    """NRI recurrent decoder (Kipf et al. 2018, section 3.3; spec/nri.md 5.2).

    Eqs. (21)-(27) of the restatement in Chen et al. 2021 with a GRU as S_node:

    Messages are computed from the hidden states,
    ``m_ij = sum_k z_ij,k tanh-MLP_k([h_j, h_i]) / K'``; the aggregated message plays
    the role of the previous hidden state in a GRU update with input x_t; the output
    MLP predicts the change of x. 727,300 parameters for F = 4, K = 2, H = 256.

    Args:
        n_features: F.
        n_edge_types: K.
        hidden_dim: H (hidden state and message width).
        dropout: dropout probability in the message and output MLPs.
        skip_first: type 0 sends no message.
        rnn_agg_norm: ``"n_in"`` divides the summed incoming messages by N - 1 (our
            default); ``"n_features"`` divides by F (ethanfetaya/NRI quirk Q2).
        dropout_in_eval: keep dropout active in eval mode (quirk Q6).
        edge_chunk: as :class:`MLPDecoder`.

    Shapes:
        step: x_t ``[B, N, F]`` or ``[B, N, S, F]``, z ``[B, E, K]``,
        state ``[B, N, (S,) H]`` or None (zeros) -> (x_next like x_t, new state).
        With ``edges``: z ``[B, N*D, K]`` in their slot layout, only candidates
        send (still divided by N - 1: the dense model with the other edges silent).

    Differences from the paper: the aggregated messages are divided by the number of
    used edge types and by N - 1 (reference: by F, switch ``rnn_agg_norm``). The three
    input maps and the three hidden maps of the GRU are fused into one Linear each
    (same parameter count and initialisation distribution).
    """

    stateful = True
    burn_in = True  # burn-in on ground truth, then its own outputs

    def __init__(
        self,
        n_features: int,
        n_edge_types: int = 2,
        hidden_dim: int = 256,
        dropout: float = 0.0,
        skip_first: bool = False,
        rnn_agg_norm: RNNAggNorm = "n_in",
        dropout_in_eval: bool = False,
        edge_chunk: int | None = None,
    ) -> None:
        super().__init__()
        self.edge_chunk = edge_chunk
        if rnn_agg_norm not in ("n_in", "n_features"):
            raise ValueError(
                f"rnn_agg_norm must be 'n_in' or 'n_features', got {rnn_agg_norm!r}"
            )
        self.n_features = n_features
        self.n_edge_types = n_edge_types
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.dropout_in_eval = dropout_in_eval
        self.skip_first = skip_first
        self.rnn_agg_norm = rnn_agg_norm
        h = hidden_dim
        self.msg = TypedEdgeMLP(h, h, h, n_edge_types, "tanh", skip_first)
        self.input_fc = nn.Linear(n_features, 3 * h)  # r, u, c input maps
        self.hidden_fc = nn.Linear(h, 3 * h, bias=False)  # r, u, c hidden maps
        self.out_fc1 = nn.Linear(h, h)
        self.out_fc2 = nn.Linear(h, h)
        self.out_fc3 = nn.Linear(h, n_features)

    def step(
        self,
        x_t: Tensor,
        z: Tensor,
        state: Tensor | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> tuple[Tensor, Tensor]:
        """One prediction step; ``state=None`` starts from zero hidden states."""
        _check_step(x_t, z, self.n_features, self.n_edge_types, edges)
        n = x_t.shape[1]
        hdim = self.hidden_dim
        if state is None:
            state = x_t.new_zeros(*x_t.shape[:-1], hdim)  # [B, N, *, H]
        active = self.training or self.dropout_in_eval
        n_used = self.n_edge_types - self.msg.first_type
        norm = float(n - 1 if self.rnn_agg_norm == "n_in" else self.n_features)
        slots = _sparse(x_t, edges, self.edge_chunk)
        if slots is None:
            send, recv = graph.fully_connected(n, x_t.device)
            msg = self.msg(state, z, send, recv, self.dropout, active)  # [B, E, *, H]
            agg = graph.edge_to_node(msg, recv, n) / (n_used * norm)  # [B, N, *, H]
        else:
            agg, _ = pass_messages(
                self.msg, state, z, slots, 1.0, self.dropout, active, self.edge_chunk
            )
            agg = agg / (n_used * norm)  # [B, N, *, H]
        gi = self.input_fc(x_t)  # [B, N, *, 3H]
        gh = self.hidden_fc(agg)  # [B, N, *, 3H]
        r = torch.sigmoid(gi[..., :hdim] + gh[..., :hdim])
        u = torch.sigmoid(gi[..., hdim : 2 * hdim] + gh[..., hdim : 2 * hdim])
        c = torch.tanh(gi[..., 2 * hdim :] + r * gh[..., 2 * hdim :])
        new_state = (1 - u) * c + u * state  # [B, N, *, H]
        h = F.dropout(F.relu(self.out_fc1(new_state)), self.dropout, training=active)
        h = F.dropout(F.relu(self.out_fc2(h)), self.dropout, training=active)
        return x_t + self.out_fc3(h), new_state  # [B, N, *, F], [B, N, *, H]
