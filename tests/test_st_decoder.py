"""NRI-MPM decoders: ST step, segment resets, attention variant, GNN decoder
(spec/nri-mpm.md 4)."""

import pytest
import torch
import torch.nn.functional as F_

from nri import graph
from nri import rollout as ro
from nri.models.st_decoder import GNNDecoder, STAttentionDecoder, STDecoder, STState

B, N, F, H = 2, 5, 4, 16
E = N * (N - 1)


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def make(cls=STDecoder, **kw):
    torch.manual_seed(0)
    return cls(F, hidden_dim=H, **kw)


def data(t: int = 49, k: int = 2, n: int = N, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, n, t, F, generator=g)
    z = torch.softmax(torch.randn(B, n * (n - 1), k, generator=g), -1)
    return x, z


def naive_messages(dec, h, z):
    """sum_{k used} z_k f_k([h_sender, h_receiver]) / K', edge by edge: [B, E, H]."""
    send, recv = graph.fully_connected(h.shape[1])
    msg = dec.msg
    k0 = msg.first_type
    n_used = z.shape[-1] - k0
    out = []
    for e in range(send.shape[0]):
        pair = torch.cat([h[:, send[e]], h[:, recv[e]]], -1)  # [B, 2D]
        m = 0
        for k in range(k0, z.shape[-1]):
            hid = torch.relu(pair @ msg.w1[k] + msg.b1[k])
            m = m + z[:, e, k, None] * torch.relu(hid @ msg.w2[k] + msg.b2[k])
        out.append(m / n_used)
    return torch.stack(out, 1)


def f_out(dec, c):
    return dec.out_fc3(F_.relu(dec.out_fc2(F_.relu(dec.out_fc1(c)))))


@pytest.mark.parametrize(
    ("cls", "f", "expected"),
    [
        (STDecoder, 4, 1_071_740),
        (STDecoder, 3, 1_067_083),
        (STAttentionDecoder, 3, 1_531_470),
        (GNNDecoder, 4, 269_828),
    ],
)
def test_parameter_counts_match_the_spec(cls, f, expected):
    assert n_params(cls(f)) == expected


def test_st_component_sizes():
    d = STDecoder(4)
    assert n_params(d.msg) == 136_192 and n_params(d.gru_edge) == 394_752
    assert n_params(d.gru_node) == 407_160
    out = sum(n_params(getattr(d, f"out_fc{i}")) for i in (1, 2, 3))
    assert out == 133_636
    assert d.gru_node.hidden_size == 4 + 256


@pytest.mark.parametrize("skip_first", [False, True])
def test_first_step_is_a_stateless_mean_aggregating_step(skip_first):
    dec = make(skip_first=skip_first)
    x, z = data()
    x_t = x[:, :, 0]
    with torch.no_grad():
        out, state = dec.step(x_t, z, None)
        msg = naive_messages(dec, x_t, z)  # [B, E, H]
        agg = msg.view(B, N, N - 1, H).mean(2)  # mean over incoming edges
        expected = x_t + f_out(dec, torch.cat([x_t, agg], -1))
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.allclose(state.edge, msg, atol=1e-5)
    assert state.node.shape == (B, N, F + H)


def test_second_step_uses_both_grus():
    dec = make()
    x, z = data()
    with torch.no_grad():
        x1, s1 = dec.step(x[:, :, 0], z, None)
        x2, s2 = dec.step(x1, z, s1)
        m = dec.gru_edge(
            naive_messages(dec, x1, z).reshape(-1, H), s1.edge.reshape(-1, H)
        ).view(B, E, H)
        cat = torch.cat([x1, m.view(B, N, N - 1, H).mean(2)], -1)
        c = dec.gru_node(cat.reshape(-1, F + H), s1.node.reshape(-1, F + H))
        expected = x1 + f_out(dec, c.view(B, N, F + H))
        stateless, _ = dec.step(x1, z, None)
    assert torch.allclose(x2, expected, atol=1e-5)
    assert not torch.allclose(x2, stateless, atol=1e-4)  # the state matters


@pytest.mark.parametrize("cls", [STDecoder, STAttentionDecoder])
@pytest.mark.parametrize(("length", "p"), [(49, 10), (12, 5), (12, 1)])
def test_rollout_resets_the_state_at_every_segment(cls, length, p):
    dec = make(cls)
    x, z = data(length)
    with torch.no_grad():
        pred = ro.rollout(dec.step, x, z, p)  # [B, N, L-1, F]
        for s0 in range(0, length - 1, p):
            cur, state = x[:, :, s0], None
            for m in range(min(p, length - 1 - s0)):
                cur, state = dec.step(cur, z, state)
                assert torch.allclose(pred[:, :, s0 + m], cur, atol=1e-5), (s0, m)
        # no leak: changing the first segment's start frame leaves later segments
        x2 = x.clone()
        x2[:, :, 0] += 1.0
        pred2 = ro.rollout(dec.step, x2, z, p)
    assert torch.equal(pred2[:, :, p:], pred[:, :, p:])
    assert not torch.allclose(pred2[:, :, :p], pred[:, :, :p])


def test_state_slicing_keeps_segments():
    dec = make(STAttentionDecoder)
    x, z = data(4)
    with torch.no_grad():
        _, state = dec.step(x[:, :, :3], z, None)  # 3 segments
        _, state = dec.step(x[:, :, :3], z, state)
    sub = state[:, :, :2]
    assert isinstance(sub, STState)
    assert sub.edge.shape == (B, E, 2, H) and sub.node.shape == (B, N, 2, F + H)
    assert len(sub.keys) == 2 and sub.keys[1].shape == (B, N, 2, 256)
    assert torch.equal(sub.keys[1], state.keys[1][:, :, :2])


def test_attention_decoder_second_step():
    dec = make(STAttentionDecoder)
    x, z = data()
    with torch.no_grad():
        x_t = x[:, :, 0]
        x1, s1 = dec.step(x_t, z, None)
        emb = torch.cat([dec.emb(x_t), x_t], -1)
        agg = naive_messages(dec, emb, z).view(B, N, N - 1, H).mean(2)
        c1 = torch.cat([x_t, agg], -1)
        assert torch.allclose(x1, x_t + f_out(dec, c1), atol=1e-5)
        x2, s2 = dec.step(x1, z, s1)
        emb1 = torch.cat([dec.emb(x1), x1], -1)
        m = dec.gru_edge(
            naive_messages(dec, emb1, z).reshape(-1, H), s1.edge.reshape(-1, H)
        ).view(B, N, N - 1, H)
        cat = torch.cat([x1, m.mean(2)], -1).reshape(-1, F + H)
        c2 = dec.gru_node(cat, c1.reshape(-1, F + H)).view(B, N, F + H)
        buf = torch.stack([c1, c2], -2)  # [B, N, 2, F+H]
        q = torch.relu(dec.att_query(c2))
        k, v = torch.relu(dec.att_key(buf)), torch.relu(dec.att_value(buf))
        w = torch.softmax((k * q[:, :, None]).sum(-1) / 256**0.5, -1)
        o = torch.relu(dec.att_out((w[..., None] * v).sum(-2)))
    assert torch.allclose(x2, x1 + f_out(dec, o), atol=1e-5)
    assert torch.allclose(s2.node, c2, atol=1e-5)  # the next GRU hidden is c, not o
    assert torch.allclose(s2.keys[-1], torch.relu(dec.att_key(o)), atol=1e-5)


def test_gnn_decoder_sums_messages_divided_by_used_types():
    dec = make(GNNDecoder)
    x, z = data()
    x_t = x[:, :, 3]
    with torch.no_grad():
        out, state = dec.step(x_t, z, None)
        agg = naive_messages(dec, x_t, z).view(B, N, N - 1, H).sum(2)
        expected = x_t + f_out(dec, torch.cat([x_t, agg], -1))
    assert state is None
    assert torch.allclose(out, expected, atol=1e-5)


def test_st_parts_switch_removes_a_gru():
    node_only, edge_only = make(st_parts="node"), make(st_parts="edge")
    assert node_only.gru_edge is None and node_only.gru_node is not None
    assert edge_only.gru_node is None and edge_only.gru_edge is not None
    full = make()
    assert {k for k in full.state_dict() if k.startswith("gru_edge")}
    assert not {k for k in node_only.state_dict() if k.startswith("gru_edge")}


@pytest.mark.parametrize("cls", [STDecoder, STAttentionDecoder, GNNDecoder])
def test_node_relabelling_equivariance(cls):
    dec = make(cls)
    x, z = data(12)
    p = torch.tensor([4, 2, 0, 1, 3])
    zp = graph.to_edges(graph.to_dense(z.permute(0, 2, 1))[:, :, p][:, :, :, p])
    with torch.no_grad():
        a = ro.rollout(dec.step, x, z, 5)
        b = ro.rollout(dec.step, x[:, p], zp.permute(0, 2, 1), 5)
    assert torch.allclose(b, a[:, p], atol=1e-5)


@pytest.mark.parametrize("cls", [STDecoder, STAttentionDecoder, GNNDecoder])
def test_shapes_for_more_types_ten_objects_and_no_segment_axis(cls):
    dec = make(cls, n_edge_types=3)
    x, z = data(8, k=3, n=10)
    pred = ro.rollout(dec.step, x, z, 3)
    assert pred.shape == (B, 10, 7, F)
    out = ro.forecast(dec.step, x, z, 4, burn_in=False)
    assert out.shape == (B, 10, 4, F)


@pytest.mark.parametrize("cls", [STDecoder, STAttentionDecoder, GNNDecoder])
@pytest.mark.parametrize("skip_first", [False, True])
def test_gradients_reach_every_parameter(cls, skip_first):
    dec = make(cls, skip_first=skip_first)
    x, z = data(12)
    z.requires_grad_(True)
    pred = ro.rollout(dec.step, x, z, 5)
    (pred * torch.randn_like(pred)).sum().backward()
    unused = {"attn_unused.weight", "attn_unused.bias"}  # documented: the reference's
    missing = {
        k for k, p in dec.named_parameters() if p.grad is None or not p.grad.any()
    }
    assert missing == (unused if cls is STAttentionDecoder else set())
    assert (z.grad[..., 0] == 0).all() == skip_first  # type 0 silent under skip_first
    if skip_first:  # the type-0 MLP exists but gets no gradient
        assert not dec.msg.w1.grad[0].any() and dec.msg.w1.grad[1].any()


def test_step_input_errors():
    dec = make()
    x, z = data()
    with pytest.raises(ValueError, match="z must be"):
        dec.step(x[:, :, 0], z[:, :-1])
    with pytest.raises(ValueError, match="x_t must be"):
        dec.step(x[:, :, 0, :3], z)
