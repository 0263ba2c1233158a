"""The edge order of a fully connected directed graph, and the maps between nodes
and edges in it (part of :mod:`nri.graph`; import the names from there).

Edges are all ordered pairs (receiver i, sender j), i != j, read row by row from an
[N, N] matrix indexed [receiver, sender] (spec/data.md section 4); see :mod:`nri.graph`
for the layout.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import Tensor


def n_edges(n_nodes: int) -> int:
    """Number of directed edges E = N (N - 1)."""
    return n_nodes * (n_nodes - 1)


def n_nodes(n_edges: int) -> int:
    """Number of nodes N of a fully connected graph with E = N (N - 1) directed edges."""
    n = int(round((1 + (1 + 4 * n_edges) ** 0.5) / 2))
    if n < 2 or n * (n - 1) != n_edges:
        raise ValueError(f"{n_edges} edges is not N(N-1) for any N >= 2")
    return n


@lru_cache(maxsize=64)
def _order(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(n_nodes, int) or n_nodes < 2:
        raise ValueError(f"a graph needs at least 2 nodes, got n_nodes={n_nodes!r}")
    recv, send = np.nonzero(~np.eye(n_nodes, dtype=bool))  # row-major off-diagonal
    recv.setflags(write=False)
    send.setflags(write=False)
    return send.astype(np.int64), recv.astype(np.int64)


def fully_connected_np(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Sender and receiver index of every edge, as NumPy int64 arrays ``[E]``."""
    send, recv = _order(n_nodes)
    return send.copy(), recv.copy()


def fully_connected(
    n_nodes: int, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """Sender and receiver index of every edge.

    Shapes:
        returns ``send [E]``, ``recv [E]`` (int64).
    """
    send, recv = _order(n_nodes)
    return (
        torch.from_numpy(send.copy()).to(device),
        torch.from_numpy(recv.copy()).to(device),
    )


def edge_index(n_nodes: int, device: torch.device | str | None = None) -> Tensor:
    """PyTorch Geometric style ``edge_index [2, E]``: row 0 senders, row 1 receivers."""
    send, recv = fully_connected(n_nodes, device)
    return torch.stack([send, recv])


@lru_cache(maxsize=64)
def _reverse(n_nodes: int) -> np.ndarray:
    send, recv = _order(n_nodes)
    index = -np.ones((n_nodes, n_nodes), dtype=np.int64)
    index[recv, send] = np.arange(len(send))
    rev = index[send, recv]  # edge (recv=j, send=i) for edge (recv=i, send=j)
    rev.setflags(write=False)
    return rev


def reverse_index_np(n_nodes: int) -> np.ndarray:
    """Index of the reverse edge (j <- i) of every edge (i <- j), NumPy ``[E]``."""
    return _reverse(n_nodes).copy()


def reverse_index(n_nodes: int, device: torch.device | str | None = None) -> Tensor:
    """Index of the reverse edge of every edge: ``q[:, rev]`` gives ``q'(i, j) = q(j, i)``.

    Shapes:
        returns ``rev [E]`` (int64).
    """
    return torch.from_numpy(_reverse(n_nodes).copy()).to(device)


def to_edges(adj: Tensor) -> Tensor:
    """Dense relations ``[..., N, N]`` indexed [receiver, sender] -> edge values ``[..., E]``.

    The diagonal is dropped. Extra trailing axes are not allowed; for per-type values
    use ``to_edges`` on each type.
    """
    n = adj.shape[-1]
    if adj.ndim < 2 or adj.shape[-2] != n:
        raise ValueError(f"adj must be [..., N, N], got {tuple(adj.shape)}")
    send, recv = fully_connected(n, adj.device)
    return adj[..., recv, send]


def to_dense(edges: Tensor, fill: float = 0.0) -> Tensor:
    """Edge values ``[..., E]`` -> dense ``[..., N, N]`` indexed [receiver, sender].

    The diagonal is set to ``fill``.
    """
    n = n_nodes(edges.shape[-1])
    send, recv = fully_connected(n, edges.device)
    out = edges.new_full((*edges.shape[:-1], n, n), fill)
    out[..., recv, send] = edges
    return out


def to_edges_np(adj: np.ndarray) -> np.ndarray:
    """NumPy version of :func:`to_edges`: ``[..., N, N]`` -> ``[..., E]``."""
    n = adj.shape[-1]
    if adj.ndim < 2 or adj.shape[-2] != n:
        raise ValueError(f"adj must be [..., N, N], got {tuple(adj.shape)}")
    send, recv = _order(n)
    return adj[..., recv, send]


def to_dense_np(edges: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """NumPy version of :func:`to_dense`: ``[..., E]`` -> ``[..., N, N]``."""
    n = n_nodes(edges.shape[-1])
    send, recv = _order(n)
    out = np.full((*edges.shape[:-1], n, n), fill, dtype=edges.dtype)
    out[..., recv, send] = edges
    return out


def node_to_edge(h: Tensor, send: Tensor, recv: Tensor) -> Tensor:
    """Pair features, sender first.

    Shapes:
        h ``[B, N, ...]`` -> ``[B, E, ..., 2 * last]``.
    """
    # index_select: its backward (index_add) is about 3x faster on CPU than that of
    # advanced indexing (index_put with accumulate).
    return torch.cat([h.index_select(1, send), h.index_select(1, recv)], dim=-1)


def edge_to_node(m: Tensor, recv: Tensor, n_nodes: int, norm: float = 1.0) -> Tensor:
    """Sum of incoming edge messages at each receiver, divided by ``norm``.

    Uses the contiguous-block layout of the edge order (a reshape and a sum), which is
    the same as a scatter-add over ``recv`` but faster and deterministic.

    Shapes:
        m ``[B, E, ...]`` -> ``[B, N, ...]``.
    """
    b, e = m.shape[:2]
    if e != n_nodes * (n_nodes - 1):
        raise ValueError(f"expected {n_nodes * (n_nodes - 1)} edges, got {e}")
    agg = m.reshape(b, n_nodes, n_nodes - 1, *m.shape[2:]).sum(dim=2)
    return agg / norm if norm != 1.0 else agg
