"""Candidate edges (docs/scale.md) as an :class:`EdgeSet` (part of :mod:`nri.graph`;
import the names from there).

The same receiver-major blocks as the full edge order of :mod:`nri.graph_order`, ``D``
slots per receiver instead of ``N - 1`` (padded with a mask where receivers have fewer
candidates); :func:`all_pairs`, :func:`knn`, :func:`from_adjacency`,
:func:`from_edge_mask` build one, :func:`slots_to_full` / :func:`full_to_slots` map
between the slots and the full ``N(N-1)`` layout.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from nri.graph_order import fully_connected, n_nodes, to_edges


class EdgeSet(NamedTuple):
    """Candidate edges as receiver-major blocks of ``D`` slots (docs/scale.md).

    Slot ``d`` of receiver ``i`` is the edge ``i <- send[., i, d]``; the candidates
    of a receiver fill its first slots in ascending sender order (the order of the
    full edge list), the remaining slots are padding (``mask`` False; their sender
    is ``i`` itself and every model ignores them). The leading axis ``B'`` is 1 for
    one candidate graph shared by the batch, or ``B`` (one per sample, e.g. kNN).
    :func:`all_pairs` is the full graph: ``D = N - 1``, the slots in exactly the
    order of :func:`fully_connected`.

    Fields:
        send: ``[B', N, D]`` int64 senders.
        mask: ``[B', N, D]`` bool, True for a candidate.
    """

    send: Tensor
    mask: Tensor

    @property
    def n_nodes(self) -> int:
        return int(self.send.shape[1])

    @property
    def slots(self) -> int:
        """D, the slots per receiver."""
        return int(self.send.shape[2])

    def flat_send(self) -> Tensor:
        """Senders ``[B', N*D]`` (slot order)."""
        return self.send.reshape(self.send.shape[0], -1)

    def flat_mask(self) -> Tensor:
        """Mask ``[B', N*D]`` (slot order)."""
        return self.mask.reshape(self.mask.shape[0], -1)


def all_pairs(n_nodes: int, device: torch.device | str | None = None) -> EdgeSet:
    """Every ordered pair: ``D = N - 1`` slots in the order of :func:`fully_connected`."""
    send, _ = fully_connected(n_nodes, device)
    send = send.view(1, n_nodes, n_nodes - 1)
    return EdgeSet(send, torch.ones_like(send, dtype=torch.bool))


def from_edge_mask(mask: Tensor) -> EdgeSet:
    """Candidates given in the full edge layout: ``mask [B', E]`` bool -> EdgeSet.

    ``D`` is the largest in-degree (at least 1); receivers with fewer candidates
    are padded.
    """
    b, e = mask.shape
    n = n_nodes(e)
    blocks = mask.reshape(b, n, n - 1)  # [B', N, N-1] by receiver
    d = max(int(blocks.sum(-1).max()), 1)
    # stable sort puts the candidates first, in ascending sender order
    pos = torch.argsort((~blocks).to(torch.int8), dim=-1, stable=True)[..., :d]
    ok = blocks.gather(-1, pos)  # [B', N, D]
    recv = torch.arange(n, device=mask.device).view(1, n, 1)
    send = pos + (pos >= recv).to(pos.dtype)  # position in the block -> sender
    send = torch.where(ok, send, recv.expand_as(send))  # padding: the receiver
    return EdgeSet(send, ok)


def from_adjacency(adj: Tensor) -> EdgeSet:
    """Candidates from a 0/1 matrix ``[N, N]`` (shared) or ``[B, N, N]`` indexed
    [receiver, sender]; the diagonal is ignored."""
    a = adj if adj.ndim == 3 else adj[None]
    if a.ndim != 3 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"adj must be [N, N] or [B, N, N], got {tuple(adj.shape)}")
    return from_edge_mask(to_edges(a != 0))


def knn_distances(x: Tensor) -> Tensor:
    """Distance of every pair of objects over a window: the Euclidean distance of
    their whole state trajectories, ``d(i, j) = sqrt(sum_t sum_f (x_itf - x_jtf)^2)``
    (all features, e.g. position and velocity, as given, i.e. normalised).

    Shapes:
        x ``[B, N, T, F]`` -> ``[B, N, N]`` (float32, diagonal 0).
    """
    flat = x.reshape(x.shape[0], x.shape[1], -1).float()  # [B, N, T*F]
    return torch.cdist(flat, flat)


def knn(x: Tensor, k: int) -> EdgeSet:
    """The ``k`` nearest neighbours of every receiver as its candidate senders (the
    choice of Collective Relational Inference at 100 particles): the ``k`` objects
    ``j != i`` with the smallest :func:`knn_distances` ``d(i, j)`` over the window
    ``x``, one set per sample. Ties go to the lower index. Relabelling the objects
    relabels the candidates (equivariant) when there are no ties.

    Shapes:
        x ``[B, N, T, F]`` -> EdgeSet with ``send, mask [B, N, k]`` (no padding).
    """
    b, n = x.shape[:2]
    if not 1 <= k < n - 1:
        raise ValueError(
            f"k nearest neighbours needs 1 <= k < N - 1 = {n - 1}, got k={k} "
            "(use all pairs instead)"
        )
    dist = knn_distances(x)  # [B, N, N]
    eye = torch.eye(n, dtype=torch.bool, device=x.device)
    dist = dist.masked_fill(eye, float("inf"))
    # stable sort: ties go to the lower index; then the k senders in ascending order
    near = torch.argsort(dist, dim=-1, stable=True)[..., :k]  # [B, N, k]
    send = near.sort(dim=-1).values
    return EdgeSet(send, torch.ones_like(send, dtype=torch.bool))


def slot_index(edges: EdgeSet) -> Tensor:
    """Index of every slot's edge in the full layout: ``i*(N-1) + j - (j > i)``
    (padding slots: the receiver's first edge; mask them).

    Shapes:
        returns ``[B', N*D]`` int64.
    """
    n = edges.n_nodes
    recv = torch.arange(n, device=edges.send.device).view(1, n, 1)
    j = edges.send
    idx = recv * (n - 1) + j - (j > recv).to(j.dtype)
    idx = torch.where(edges.mask, idx, recv * (n - 1))
    return idx.reshape(idx.shape[0], -1)


def candidate_mask(edges: EdgeSet) -> Tensor:
    """The candidates in the full edge layout: ``[B', E]`` bool."""
    b = edges.send.shape[0]
    n = edges.n_nodes
    e = n * (n - 1)
    # padding slots point at their receiver's first edge (slot_index); send them to
    # a spare column instead, or their False could overwrite that edge's True
    mask = edges.flat_mask()
    idx = torch.where(mask, slot_index(edges), e)
    out = torch.zeros(b, e + 1, dtype=torch.bool, device=edges.send.device)
    return out.scatter(1, idx, mask)[:, :e]


def slots_to_full(values: Tensor, edges: EdgeSet, fill: Tensor) -> Tensor:
    """Slot values ``[B, N*D, ...]`` -> full layout ``[B, E, ...]``; every edge
    that is not a candidate gets ``fill`` (broadcast to ``[...]``). Differentiable
    in ``values``.
    """
    b = values.shape[0]
    n = edges.n_nodes
    e = n * (n - 1)
    rest = values.shape[2:]
    base = fill.to(values).expand(b, e, *rest).reshape(b * e, -1)
    mask = edges.flat_mask().expand(b, -1).reshape(-1)  # [B*N*D]
    target = slot_index(edges).expand(b, -1)
    target = (target + torch.arange(b, device=target.device)[:, None] * e).reshape(-1)
    src = values.reshape(-1, base.shape[1])[mask]
    return base.index_copy(0, target[mask], src).view(b, e, *rest)


def full_to_slots(values: Tensor, edges: EdgeSet) -> Tensor:
    """Full-layout values ``[B, E, ...]`` -> slots ``[B, N*D, ...]`` (padding: 0)."""
    idx = slot_index(edges).expand(values.shape[0], -1)  # [B, N*D]
    out = values.gather(1, idx.view(*idx.shape, *([1] * (values.ndim - 2))).expand(
        *idx.shape, *values.shape[2:]))  # fmt: skip
    m = edges.flat_mask().view(*edges.flat_mask().shape, *([1] * (values.ndim - 2)))
    return out * m.to(out.dtype)


def gather_senders(h: Tensor, send: Tensor) -> Tensor:
    """Node rows of the senders: ``h [B, N, ...]``, ``send [B', M]`` -> ``[B, M, ...]``.

    A shared ``send`` (``B' = 1``) is one ``index_select``; per-sample senders are
    one over the flattened batch.
    """
    if send.shape[0] == 1:
        return h.index_select(1, send[0])
    b, n = h.shape[:2]
    offset = torch.arange(b, device=send.device)[:, None] * n
    flat = h.reshape(b * n, *h.shape[2:]).index_select(0, (send + offset).reshape(-1))
    return flat.view(b, send.shape[1], *h.shape[2:])


def node_to_slots(h: Tensor, edges: EdgeSet) -> Tensor:
    """Pair features ``[h_sender, h_receiver]`` of every slot (:func:`node_to_edge`
    on candidates).

    Shapes:
        h ``[B, N, ..., H]`` -> ``[B, N*D, ..., 2H]``.
    """
    n, d = edges.n_nodes, edges.slots
    recv = torch.arange(n, device=h.device).repeat_interleave(d)  # [N*D]
    return torch.cat(
        [gather_senders(h, edges.flat_send()), h.index_select(1, recv)], dim=-1
    )


def slots_to_node(
    m: Tensor, edges: EdgeSet, norm: float | str = 1.0, masked: bool = True
) -> Tensor:
    """Sum of the slot messages at each receiver (padding excluded when
    ``masked``), divided by ``norm``: a number, or ``"degree"`` for the mean over
    the receiver's candidates (0 for a receiver without any).

    Shapes:
        m ``[B, N*D, ...]`` -> ``[B, N, ...]``.
    """
    b = m.shape[0]
    n, d = edges.n_nodes, edges.slots
    blocks = m.reshape(b, n, d, *m.shape[2:])  # [B, N, D, ...]
    extra = (1,) * (m.ndim - 2)
    if masked:
        blocks = blocks * edges.mask.view(*edges.mask.shape, *extra).to(m.dtype)
    agg = blocks.sum(dim=2)  # [B, N, ...]
    if norm == "degree":
        deg = edges.mask.sum(-1).clamp(min=1).to(m.dtype)  # [B', N]
        return agg / deg.view(*deg.shape, *extra)
    assert isinstance(norm, float | int)
    return agg / norm if norm != 1.0 else agg
