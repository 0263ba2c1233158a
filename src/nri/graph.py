"""The one place where the edge order of a fully connected directed graph is built.

Edges are all ordered pairs (receiver i, sender j), i != j, read row by row from an
[N, N] matrix indexed [receiver, sender] (the order of the original NRI code and
data sets; spec/data.md section 4). For N = 3::

    recv = [0, 0, 1, 1, 2, 2]
    send = [1, 2, 0, 2, 0, 1]
    reverse_index = [2, 4, 0, 5, 1, 3]

The incoming edges of receiver i are the contiguous block ``i*(N-1) .. i*(N-1)+N-2``.

Candidate edges (docs/scale.md) belong here too, as an :class:`EdgeSet`: the same
receiver-major blocks, ``D`` slots per receiver instead of ``N - 1`` (padded with a
mask where receivers have fewer candidates); :func:`all_pairs`, :func:`knn`,
:func:`from_adjacency`, :func:`from_edge_mask` build one, :func:`slots_to_full` /
:func:`full_to_slots` map between the slots and the full ``N(N-1)`` layout.

The full-graph order lives in :mod:`nri.graph_order`, the candidate edges in
:mod:`nri.graph_candidates`; every name is re-exported here, and callers import from
``nri.graph``.
"""

from __future__ import annotations

from nri.graph_candidates import (
    EdgeSet,
    all_pairs,
    candidate_mask,
    from_adjacency,
    from_edge_mask,
    full_to_slots,
    gather_senders,
    knn,
    knn_distances,
    node_to_slots,
    slot_index,
    slots_to_full,
    slots_to_node,
)
from nri.graph_order import (
    edge_index,
    edge_to_node,
    fully_connected,
    fully_connected_np,
    n_edges,
    n_nodes,
    node_to_edge,
    reverse_index,
    reverse_index_np,
    to_dense,
    to_dense_np,
    to_edges,
    to_edges_np,
)

__all__ = [
    "n_edges",
    "n_nodes",
    "fully_connected",
    "fully_connected_np",
    "edge_index",
    "reverse_index",
    "reverse_index_np",
    "to_dense",
    "to_edges",
    "to_edges_np",
    "to_dense_np",
    "node_to_edge",
    "edge_to_node",
    "EdgeSet",
    "all_pairs",
    "knn",
    "knn_distances",
    "from_adjacency",
    "from_edge_mask",
    "candidate_mask",
    "slot_index",
    "slots_to_full",
    "full_to_slots",
    "gather_senders",
    "node_to_slots",
    "slots_to_node",
]
