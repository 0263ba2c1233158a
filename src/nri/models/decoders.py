"""NRI decoders: one-step predictors p(x^{t+1} | x^{<=t}, z) (spec/nri.md section 5).

Both decoders expose ``step(x_t, z, state) -> (x_next, state)``; ``nri.rollout`` owns
teacher forcing, burn-in and the segment axis. Their message MLPs and the message
passing on candidate edges, in chunks, are in :mod:`nri.models.messages`.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nri import graph
from nri.models.messages import TypedEdgeMLP, pass_messages

__all__ = ["MLPDecoder", "RNNDecoder", "TypedEdgeMLP", "pass_messages"]

RNNAggNorm = Literal["n_in", "n_features"]


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
