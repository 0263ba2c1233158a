import numpy as np
import pytest
import torch

from nri import graph


def test_edge_order_n3_is_pinned():
    send, recv = graph.fully_connected(3)
    assert recv.tolist() == [0, 0, 1, 1, 2, 2]
    assert send.tolist() == [1, 2, 0, 2, 0, 1]
    assert graph.reverse_index(3).tolist() == [2, 4, 0, 5, 1, 3]


def test_edge_order_n5_matches_spec_table():
    send, recv = graph.fully_connected(5)
    # spec/data.md 4: k = 9 is 2<-1, k = 12 is 3<-0, k = 19 is 4<-3
    assert (recv[9].item(), send[9].item()) == (2, 1)
    assert (recv[12].item(), send[12].item()) == (3, 0)
    assert (recv[19].item(), send[19].item()) == (4, 3)
    rev = graph.reverse_index(5).tolist()
    assert rev[:10] == [4, 8, 12, 16, 0, 9, 13, 17, 1, 5]
    assert rev[10:] == [14, 18, 2, 6, 10, 19, 3, 7, 11, 15]


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_formula_and_reverse(n):
    send, recv = graph.fully_connected_np(n)
    for k, (i, j) in enumerate(zip(recv, send, strict=True)):
        assert k == i * (n - 1) + (j if j < i else j - 1)
    rev = graph.reverse_index_np(n)
    assert np.array_equal(rev[rev], np.arange(n * (n - 1)))
    assert np.array_equal(send[rev], recv) and np.array_equal(recv[rev], send)
    # incoming edges of receiver i are a contiguous block
    assert np.array_equal(recv, np.repeat(np.arange(n), n - 1))


def test_dense_round_trip_and_orientation():
    adj = torch.arange(16.0).reshape(1, 4, 4)  # [b, receiver, sender]
    edges = graph.to_edges(adj)
    send, recv = graph.fully_connected(4)
    assert torch.equal(edges[0], adj[0, recv, send])
    back = graph.to_dense(edges)
    assert torch.equal(back[0].fill_diagonal_(0), adj[0].clone().fill_diagonal_(0))
    assert np.array_equal(graph.to_edges_np(adj.numpy()), edges.numpy())
    assert np.array_equal(graph.to_dense_np(edges.numpy()), back.numpy())


def test_node_to_edge_sender_first_and_edge_to_node_sum():
    b, n, h = 2, 4, 3
    x = torch.randn(b, n, h)
    send, recv = graph.fully_connected(n)
    e = graph.node_to_edge(x, send, recv)
    assert torch.equal(e[:, :, :h], x[:, send]) and torch.equal(e[:, :, h:], x[:, recv])
    m = torch.randn(b, n * (n - 1), h)
    expected = torch.zeros(b, n, h).index_add_(1, recv, m)
    assert torch.allclose(graph.edge_to_node(m, recv, n), expected, atol=1e-6)
    assert torch.allclose(
        graph.edge_to_node(m, recv, n, norm=3.0), expected / 3, atol=1e-6
    )


def test_bad_sizes():
    with pytest.raises(ValueError, match="at least 2 nodes"):
        graph.fully_connected(1)
    with pytest.raises(ValueError, match="N\\(N-1\\) for any N"):
        graph.to_dense(torch.zeros(7))
