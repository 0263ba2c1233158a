"""NRI encoders: q(z | x) over edge types (Kipf et al. 2018; spec/nri.md section 3).

Equation numbers refer to the restatement of NRI in Chen et al. 2021 (NRI-MPM),
Eqs. (1)-(3) and (8)-(11).

Every encoder takes an optional ``edges`` (:class:`nri.graph.EdgeSet`, candidate
edges; docs/scale.md): it then computes only the candidates' pairs and returns the
full ``[B, E, K]`` layout with every other edge fixed to "no interaction"
(:data:`NON_CANDIDATE_LOGITS`: type 0 with probability exactly 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import torch
from torch import Tensor, nn

from nri import graph
from nri.nn.cnn import CNN, MIN_TIMESTEPS
from nri.nn.mlp import MLP

EdgeToNodeNorm = Literal["n_in", "n_nodes"]

# the logits of an edge that is not a candidate: softmax gives exactly (1, 0, ..)
# in float32 and float64 (exp(-1e4) underflows), and the value is finite so that
# q log q and the KL stay 0 * finite = 0
NON_CANDIDATE_LOGIT = -1.0e4


def non_candidate_logits(n_edge_types: int) -> Tensor:
    """``[K]``: ``(0, -1e4, ..., -1e4)``, the logits of a non-candidate edge."""
    out = torch.full((n_edge_types,), NON_CANDIDATE_LOGIT)
    out[0] = 0.0
    return out


def is_non_candidate(logits: Tensor) -> Tensor:
    """Which edges carry exactly :func:`non_candidate_logits` (``[..., K] -> [...]``
    bool); an encoder's own logits never equal them exactly."""
    return (logits[..., 0] == 0) & (logits[..., 1:] == NON_CANDIDATE_LOGIT).all(-1)


class _Pairs:
    """Node-to-edge and edge-to-node on all pairs (the dense path, unchanged) or on
    candidate slots (``edges``), and the map of the logits to the full layout."""

    def __init__(
        self, n: int, device: torch.device, edges: graph.EdgeSet | None, norm: str
    ) -> None:
        self.n, self.edges, self.norm = n, edges, norm
        self.valid: Tensor | None = None  # [B', N*D] where there is padding
        if edges is None:
            self.send, self.recv = graph.fully_connected(n, device)
        elif edges.n_nodes != n:
            raise ValueError(f"edges are for {edges.n_nodes} nodes, x has {n}")
        elif not bool(edges.mask.all()):
            self.valid = edges.flat_mask()

    def rows(self, fn: Callable[[Tensor], Tensor], e: Tensor) -> Tensor:
        """``fn`` on the candidates' rows only (``[B, E, ...] -> [B, E, ...']``):
        the batch-norm statistics of the edge MLPs are the candidates' (padding
        rows are 0)."""
        if self.valid is None:
            return fn(e)
        v = self.valid.expand(e.shape[0], -1)  # [B, N*D]
        out = fn(e[v])  # [M, ...']
        zeros = out.new_zeros(*e.shape[:2], *out.shape[1:])
        return zeros.index_put((v,), out)

    def n2e(self, h: Tensor) -> Tensor:  # [B, N, ..., H] -> [B, E or N*D, ..., 2H]
        if self.edges is None:
            return graph.node_to_edge(h, self.send, self.recv)
        return graph.node_to_slots(h, self.edges)

    def e2n(self, e: Tensor) -> Tensor:  # [B, E or N*D, H] -> [B, N, H]
        if self.edges is None:
            return graph.edge_to_node(e, self.recv, self.n, _norm(self.n, self.norm))
        norm = "degree" if self.norm == "n_in" else float(self.n)  # type: ignore
        return graph.slots_to_node(e, self.edges, norm)

    def full(self, logits: Tensor) -> EncoderOutput:  # [B, E or N*D, K] -> full
        if self.edges is None:
            return _output(logits)
        fill = non_candidate_logits(logits.shape[-1]).to(logits.device)
        return _output(graph.slots_to_full(logits.float(), self.edges, fill))


class EncoderOutput(NamedTuple):
    """Encoder output: ``logits [B, E, K]`` and ``q = softmax(logits) [B, E, K]``.

    Both are float32 (also under autocast), in the edge order of ``graph.py``.
    """

    logits: Tensor
    q: Tensor


def _norm(n_nodes: int, edge_to_node_norm: EdgeToNodeNorm) -> float:
    if edge_to_node_norm == "n_in":
        return float(n_nodes - 1)
    if edge_to_node_norm == "n_nodes":
        return float(n_nodes)
    raise ValueError(
        f"edge_to_node_norm must be 'n_in' or 'n_nodes', got {edge_to_node_norm!r}"
    )


def _check_x(x: Tensor, n_features: int) -> None:
    if x.ndim != 4 or x.shape[3] != n_features or x.shape[1] < 2:
        raise ValueError(
            f"x must be [B, N, T, F] with N >= 2 and F={n_features}, "
            f"got {tuple(x.shape)}"
        )


def _output(logits: Tensor) -> EncoderOutput:
    logits = logits.float()  # [B, E, K]; float32 also under autocast
    return EncoderOutput(logits, torch.softmax(logits, dim=-1))


class MLPEncoder(nn.Module):
    """NRI MLP encoder (Eqs. (8)-(11), (1)-(2); spec/nri.md 3.1).

    Factor graph: ``h = mlp1(x_i)``; ``e = mlp2([h_s, h_r])`` (kept as skip);
    ``v = mlp3(edge_to_node(e))``; ``logits = fc_out(mlp4([v_s, v_r, e]))``.
    Non-factor: ``logits = fc_out(mlp4([mlp3(e), e]))``.
    710,146 (factor) / 644,610 (non-factor) parameters for T*F = 196, H = 256, K = 2.

    Args:
        n_timesteps: T, the number of frames the encoder reads (tied to the weights).
        n_features: F per object.
        hidden_dim: H.
        n_edge_types: K.
        dropout: dropout inside the MLP blocks.
        factor: factor-graph variant (edge -> node -> edge) instead of edge-only.
        edge_to_node_norm: ``"n_in"`` divides the sum of incoming edges by N - 1 (a
            mean; our default); ``"n_nodes"`` divides by N (ethanfetaya/NRI quirk Q1,
            spec/nri.md 12).

    Shapes:
        x ``[B, N, T, F]`` -> ``EncoderOutput(logits [B, E, K], q [B, E, K])``;
        with ``edges`` (candidates) only their pairs are computed, the mean over
        incoming edges is over the receiver's candidates, and the other edges get
        :func:`non_candidate_logits`.

    Differences from the paper: Eq. 10 writes a plain sum over incoming edges; like the
    reference code we normalise it (by N - 1 by default, by N with the Q1 switch), and
    like the reference code the second node-to-edge step concatenates a skip
    connection from the first edge embedding.
    """

    def __init__(
        self,
        n_timesteps: int,
        n_features: int,
        hidden_dim: int = 256,
        n_edge_types: int = 2,
        dropout: float = 0.0,
        factor: bool = True,
        edge_to_node_norm: EdgeToNodeNorm = "n_in",
    ) -> None:
        super().__init__()
        _norm(2, edge_to_node_norm)  # validate early
        self.n_timesteps = n_timesteps
        self.n_features = n_features
        self.factor = factor
        self.edge_to_node_norm = edge_to_node_norm
        h = hidden_dim
        self.mlp1 = MLP(n_timesteps * n_features, h, h, dropout)
        self.mlp2 = MLP(2 * h, h, h, dropout)
        self.mlp3 = MLP(h, h, h, dropout)
        self.mlp4 = MLP(3 * h if factor else 2 * h, h, h, dropout)
        self.fc_out = nn.Linear(h, n_edge_types)
        nn.init.xavier_normal_(self.fc_out.weight)
        nn.init.constant_(self.fc_out.bias, 0.1)

    def forward(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> EncoderOutput:
        # generator: the encoder interface's (nri.models.parts); deterministic here
        _check_x(x, self.n_features)
        b, n, t, f = x.shape
        if t != self.n_timesteps:
            raise ValueError(
                f"x must be [B, N, T, F] with T={self.n_timesteps} for the MLP "
                f"encoder, got {tuple(x.shape)}"
            )
        pairs = _Pairs(n, x.device, edges, self.edge_to_node_norm)
        h = self.mlp1(x.reshape(b, n, t * f))  # [B, N, T*F] -> [B, N, H], time-major
        e = pairs.rows(self.mlp2, pairs.n2e(h))  # [B, E, 2H] -> [B, E, H] (E: slots)
        skip = e
        if self.factor:
            v = pairs.e2n(e)  # [B, E, H] -> [B, N, H]
            v = self.mlp3(v)  # [B, N, H]
            e = torch.cat([pairs.n2e(v), skip], -1)  # [B, E, 3H]
        else:
            e = torch.cat([pairs.rows(self.mlp3, e), skip], dim=-1)  # [B, E, 2H]
        return pairs.full(self.fc_out(pairs.rows(self.mlp4, e)))  # [B, E, K]


class CNNEncoder(nn.Module):
    """NRI CNN encoder (Kipf et al. 2018, supplementary; spec/nri.md 3.2).

    Each edge reads the channel sequence ``[x_sender, x_receiver]`` through the
    temporal :class:`~nri.nn.cnn.CNN`; then, factor graph: ``e = mlp1(cnn)`` (skip),
    ``v = mlp2(edge_to_node(e))``, ``logits = fc_out(mlp3([v_s, v_r, e]))``;
    non-factor: ``logits = fc_out(mlp1(cnn))``. 933,379 parameters (factor, F = 4,
    H = 256, K = 2). Works for any T >= 14.

    Args:
        n_features: F per object.
        hidden_dim: H.
        n_edge_types: K.
        dropout: dropout in the CNN and MLP blocks.
        factor: factor-graph variant.
        edge_to_node_norm: ``"n_in"`` (mean, default) or ``"n_nodes"`` (quirk Q1).

    Shapes:
        x ``[B, N, T, F]`` -> ``EncoderOutput(logits [B, E, K], q [B, E, K])``;
        with ``edges`` (candidates) only their pairs are computed, the mean over
        incoming edges is over the receiver's candidates, and the other edges get
        :func:`non_candidate_logits`.

    Differences from the paper: as for :class:`MLPEncoder` (normalised edge-to-node,
    skip connection). In the non-factor variant the reference builds ``mlp2`` and
    ``mlp3`` and never uses them; we do not build them.
    """

    def __init__(
        self,
        n_features: int,
        hidden_dim: int = 256,
        n_edge_types: int = 2,
        dropout: float = 0.0,
        factor: bool = True,
        edge_to_node_norm: EdgeToNodeNorm = "n_in",
    ) -> None:
        super().__init__()
        _norm(2, edge_to_node_norm)
        self.n_features = n_features
        self.factor = factor
        self.edge_to_node_norm = edge_to_node_norm
        h = hidden_dim
        self.cnn = CNN(2 * n_features, h, h, dropout)
        self.mlp1 = MLP(h, h, h, dropout)
        if factor:
            self.mlp2 = MLP(h, h, h, dropout)
            self.mlp3 = MLP(3 * h, h, h, dropout)
        self.fc_out = nn.Linear(h, n_edge_types)
        nn.init.xavier_normal_(self.fc_out.weight)
        nn.init.constant_(self.fc_out.bias, 0.1)

    def forward(
        self,
        x: Tensor,
        generator: torch.Generator | None = None,
        edges: graph.EdgeSet | None = None,
    ) -> EncoderOutput:
        # generator: the encoder interface's (nri.models.parts); deterministic here
        _check_x(x, self.n_features)
        b, n, t, f = x.shape
        if t < MIN_TIMESTEPS:
            raise ValueError(
                f"x must be [B, N, T, F] with T >= {MIN_TIMESTEPS} for the CNN "
                f"encoder, got {tuple(x.shape)}"
            )
        ops = _Pairs(n, x.device, edges, self.edge_to_node_norm)
        pairs = ops.n2e(x)  # [B, E, T, 2F], sender first (E: edges or slots)
        e_count = pairs.shape[1]
        if ops.valid is None:
            seq = pairs.reshape(b * e_count, t, 2 * f).transpose(1, 2)  # [B*E, 2F, T]
            e = self.cnn(seq).view(b, e_count, -1)  # [B*E, H] -> [B, E, H]
        else:  # the candidates' rows: [M, T, 2F] -> [M, 2F, T] -> [M, H]
            e = ops.rows(lambda p: self.cnn(p.transpose(1, 2)), pairs)
        e = ops.rows(self.mlp1, e)  # [B, E, H]
        if self.factor:
            skip = e
            v = self.mlp2(ops.e2n(e))  # [B, N, H]
            e = torch.cat([ops.n2e(v), skip], -1)  # [B, E, 3H]
            e = ops.rows(self.mlp3, e)  # [B, E, H]
        return ops.full(self.fc_out(e))  # [B, E, K]
