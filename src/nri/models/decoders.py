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

    def forward(
        self,
        h: Tensor,
        z: Tensor,
        send: Tensor,
        recv: Tensor,
        dropout: float = 0.0,
        dropout_active: bool = False,
    ) -> Tensor:
        act_: Callable[[Tensor], Tensor] = (
            torch.relu_ if self.activation == "relu" else torch.tanh_
        )
        b, n = h.shape[:2]
        d = h.shape[-1]
        extra = h.shape[2:-1]
        r = math.prod(extra)
        hm, mo = self.w1.shape[2], self.w2.shape[2]
        e = send.shape[0]
        hf = h.reshape(b * n * r, d)  # [B, N, *, D] -> [B*N*R, D]
        msg: Tensor | None = None
        # A Python loop over the K' used types with 2-d GEMMs: on CPU this beat one
        # batched matmul over stacked types (bmm) by about 10 %.
        for k in range(self.first_type, self.w1.shape[0]):
            w1 = self.w1[
                k
            ]  # [2D, Hm]: rows 0..D-1 act on the sender, D.. on the receiver
            # first Linear per node, then gather: [h_s, h_r] W1 = h_s W1[:D] + h_r W1[D:]
            a_s = (hf @ w1[:d]).view(b, n, r, hm)  # [B, N, R, Hm]
            a_r = torch.addmm(self.b1[k], hf, w1[d:]).view(b, n, 1, r, hm)
            # receiver-major edge order: the incoming edges of node i are one
            # contiguous block of N-1 (graph.py), so the receiver term broadcasts
            a_s = a_s.index_select(1, send)  # [B, E, R, Hm] (fast backward on CPU)
            pre = a_s.view(b, n, n - 1, r, hm) + a_r  # [B, N, N-1, R, Hm]
            hid = act_(pre).view(b * e * r, hm)  # [B*E*R, Hm]
            hid = F.dropout(hid, dropout, training=dropout_active)
            out = act_(torch.addmm(self.b2[k], hid, self.w2[k]))  # [B*E*R, Mo]
            out = out.view(b, e, r, mo)
            zk = z[:, :, k, None, None].to(out.dtype)  # [B, E, 1, 1]
            msg = out * zk if msg is None else torch.addcmul(msg, out, zk)
        assert msg is not None  # at least one used type (checked in __init__)
        return msg.view(b, e, *extra, mo)  # [B, E, *, Mo]


def _check_step(x_t: Tensor, z: Tensor, n_features: int, n_edge_types: int) -> None:
    if x_t.ndim not in (3, 4) or x_t.shape[-1] != n_features or x_t.shape[1] < 2:
        raise ValueError(
            f"x_t must be [B, N, F] or [B, N, S, F] with F={n_features}, "
            f"got {tuple(x_t.shape)}"
        )
    b, n = x_t.shape[:2]
    if z.shape != (b, n * (n - 1), n_edge_types):
        raise ValueError(
            f"z must be [B, E, K] = {(b, n * (n - 1), n_edge_types)}, "
            f"got {tuple(z.shape)}"
        )


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

    Shapes:
        step: x_t ``[B, N, F]`` or ``[B, N, S, F]``, z ``[B, E, K]`` ->
        (x_next with the shape of x_t, None).

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
    ) -> None:
        super().__init__()
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
        self, x_t: Tensor, z: Tensor, state: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """One prediction step; ``state`` is ignored and None is returned."""
        _check_step(x_t, z, self.n_features, self.n_edge_types)
        n = x_t.shape[1]
        send, recv = graph.fully_connected(n, x_t.device)
        active = self.training or self.dropout_in_eval
        n_used = self.n_edge_types - self.msg.first_type
        if self.mean_over_types and n_used > 1:
            z = z / n_used
        msg = self.msg(x_t, z, send, recv, self.dropout, active)  # [B, E, *, Mo]
        agg = graph.edge_to_node(msg, recv, n)  # [B, E, *, Mo] -> [B, N, *, Mo]
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

    Shapes:
        step: x_t ``[B, N, F]`` or ``[B, N, S, F]``, z ``[B, E, K]``,
        state ``[B, N, (S,) H]`` or None (zeros) -> (x_next like x_t, new state).

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
    ) -> None:
        super().__init__()
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
        self, x_t: Tensor, z: Tensor, state: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """One prediction step; ``state=None`` starts from zero hidden states."""
        _check_step(x_t, z, self.n_features, self.n_edge_types)
        n = x_t.shape[1]
        hdim = self.hidden_dim
        if state is None:
            state = x_t.new_zeros(*x_t.shape[:-1], hdim)  # [B, N, *, H]
        send, recv = graph.fully_connected(n, x_t.device)
        active = self.training or self.dropout_in_eval
        msg = self.msg(state, z, send, recv, self.dropout, active)  # [B, E, *, H]
        n_used = self.n_edge_types - self.msg.first_type
        norm = float(n - 1 if self.rnn_agg_norm == "n_in" else self.n_features)
        agg = graph.edge_to_node(msg, recv, n) / (n_used * norm)  # [B, N, *, H]
        gi = self.input_fc(x_t)  # [B, N, *, 3H]
        gh = self.hidden_fc(agg)  # [B, N, *, 3H]
        r = torch.sigmoid(gi[..., :hdim] + gh[..., :hdim])
        u = torch.sigmoid(gi[..., hdim : 2 * hdim] + gh[..., hdim : 2 * hdim])
        c = torch.tanh(gi[..., 2 * hdim :] + r * gh[..., 2 * hdim :])
        new_state = (1 - u) * c + u * state  # [B, N, *, H]
        h = F.dropout(F.relu(self.out_fc1(new_state)), self.dropout, training=active)
        h = F.dropout(F.relu(self.out_fc2(h)), self.dropout, training=active)
        return x_t + self.out_fc3(h), new_state  # [B, N, *, F], [B, N, *, H]
