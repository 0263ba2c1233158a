"""NRI-MPM encoder: MPM MLP block, trunk, relation interaction (spec/nri-mpm.md 2)."""

import pytest
import torch

from nri import graph
from nri.models.relation_interaction import (
    RelationInteractionEncoder,
    RIOrders,
    SetSequence,
    random_orders,
)
from nri.nn.mlp import MLP

B, N, T, F, H = 2, 5, 12, 4, 16
E = N * (N - 1)


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def enc(**kw) -> RelationInteractionEncoder:
    torch.manual_seed(0)
    args = {"n_features": F, "n_timesteps": T, "hidden_dim": H, **kw}
    return RelationInteractionEncoder(**args)


def x_data(n: int = N, t: int = T, seed: int = 0) -> torch.Tensor:
    return torch.randn(B, n, t, F, generator=torch.Generator().manual_seed(seed))


def relabel_edges(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Edge values [B, E, K] of a graph whose node i' is old node p[i']."""
    dense = graph.to_dense(v.permute(0, 2, 1))  # [B, K, N, N] [receiver, sender]
    return graph.to_edges(dense[:, :, p][:, :, :, p]).permute(0, 2, 1)


def relabel_orders(orders: RIOrders, p: torch.Tensor) -> RIOrders:
    """The orders that read the same (old) edges and nodes after relabelling by p."""
    n = p.shape[0]
    pinv = torch.argsort(p)
    intra = torch.empty_like(orders.intra)
    for a_new in range(n):
        a_old = int(p[a_new])
        senders_old = torch.tensor([s for s in range(n) if s != a_old])
        s_old = senders_old[orders.intra[:, a_old]]  # [B, N-1] old sender ids read
        s_new = pinv[s_old]
        intra[:, a_new] = s_new - (s_new > a_new).long()  # position among senders
    return RIOrders(intra, pinv[orders.inter])


def test_mpm_mlp_block_adds_one_batchnorm_and_nri_block_is_unchanged():
    nri_mlp, mpm_mlp = MLP(196, 256, 256), MLP(196, 256, 256, hidden_batch_norm=True)
    assert n_params(nri_mlp) == 116_736 and n_params(mpm_mlp) == 117_248
    assert set(mpm_mlp.state_dict()) - set(nri_mlp.state_dict()) == {
        "bn_hidden.weight",
        "bn_hidden.bias",
        "bn_hidden.running_mean",
        "bn_hidden.running_var",
        "bn_hidden.num_batches_tracked",
    }
    x = torch.randn(3, 7, 196)
    mpm_mlp.train()
    h = torch.nn.functional.elu(mpm_mlp.fc1(x)).reshape(-1, 256)
    mpm_mlp(x)  # the hidden BatchNorm takes its statistics over all 21 rows
    assert torch.allclose(mpm_mlp.bn_hidden.running_mean, 0.1 * h.mean(0), atol=1e-5)


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, 1_502_210),
        ({"reducer": "cnn"}, 1_724_931),
        ({"reducer": "cnn", "n_features": 3}, 1_722_371),
        ({"sequence_model": "attention"}, 1_107_458),
        ({"relation_interaction": "none"}, 712_194),
    ],
)
def test_parameter_counts_match_the_spec(kw, expected):
    args = {"n_features": 4, "n_timesteps": 49, **kw}
    assert n_params(RelationInteractionEncoder(**args)) == expected


def test_reference_component_sizes():
    m = RelationInteractionEncoder(4, 49)
    sizes = {
        name: n_params(getattr(m, name))
        for name in ("emb", "n2e_i", "e2n", "n2e_o", "intra", "inter", "fc_out")
    }
    assert sizes == {
        "emb": 117_248,
        "n2e_i": 198_144,
        "e2n": 132_608,
        "n2e_o": 263_680,
        "intra": 394_752,
        "inter": 394_752,
        "fc_out": 1_026,
    }
    assert torch.all(m.fc_out.bias == 0.1)


def test_gru_set_sequence_reads_in_order_and_unpermutes():
    torch.manual_seed(0)
    s = SetSequence("gru", 8)
    h = torch.randn(3, 4, 8)
    order = torch.tensor([[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]])
    out = s(h, order)
    for m in range(3):
        state = torch.zeros(1, 8)
        for pos in order[m]:
            state = s.seq(h[m, pos][None], state)
            # the output of an element is the state right after it was read
            assert torch.allclose(out[m, pos], state[0], atol=1e-6)
    with pytest.raises(ValueError, match="order"):
        s(h)


@pytest.mark.parametrize("seq", ["attention", "transformer"])
@pytest.mark.parametrize("ri", ["both", "intra", "inter"])
def test_attention_variants_are_permutation_equivariant(seq, ri):
    m = enc(sequence_model=seq, relation_interaction=ri).eval()
    x = x_data()
    p = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        out = m(x).logits
        out_p = m(x[:, p]).logits
        out2 = m(x).logits
    assert torch.equal(out, out2)  # no randomness
    assert torch.allclose(out_p, relabel_edges(out, p), atol=1e-5)
    assert not torch.allclose(out_p, out, atol=1e-3)  # the relabelling is not trivial


@pytest.mark.parametrize("ri", ["both", "intra", "inter"])
def test_gru_is_equivariant_when_the_orders_are_relabelled_too(ri):
    m = enc(relation_interaction=ri).eval()
    x = x_data()
    p = torch.tensor([2, 4, 0, 3, 1])
    orders = random_orders(B, N, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = m(x, orders=orders).logits
        out_p = m(x[:, p], orders=relabel_orders(orders, p)).logits
        out_wrong = m(x[:, p], orders=orders).logits
    assert torch.allclose(out_p, relabel_edges(out, p), atol=1e-5)
    # with the unrelabelled orders the GRU is not equivariant (it depends on order)
    assert not torch.allclose(out_wrong, relabel_edges(out, p), atol=1e-4)


def test_trunk_is_exactly_equivariant():
    m = enc(reducer="cnn").eval()
    x = x_data(t=14)
    p = torch.tensor([1, 2, 3, 4, 0])
    with torch.no_grad():
        e2, e2_p = m.trunk(x), m.trunk(x[:, p])
    assert torch.allclose(e2_p, relabel_edges(e2, p), atol=1e-5)


def test_gru_orders_come_from_the_generator():
    m = enc().eval()
    x = x_data()

    def run(seed: int) -> torch.Tensor:
        with torch.no_grad():
            return m(x, torch.Generator().manual_seed(seed)).logits

    assert torch.equal(run(3), run(3))
    assert not torch.allclose(run(3), run(4))
    a = random_orders(B, N, generator=torch.Generator().manual_seed(3))
    b = random_orders(B, N, generator=torch.Generator().manual_seed(4))
    assert not torch.equal(a.intra, b.intra)
    # the drawn orders are the ones used
    orders = random_orders(B, N, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(m(x, orders=orders).logits, run(3))
    # intra: one order per (sample, receiver); inter: one per sample
    assert a.intra.shape == (B, N, N - 1) and a.inter.shape == (B, N)
    assert torch.equal(a.intra.sort(-1).values, torch.arange(N - 1).expand(B, N, -1))


def test_eval_samples_average_q_over_orders():
    m = enc(eval_samples=3).eval()
    x = x_data()
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        out = m(x, torch.Generator().manual_seed(5))
        e2 = m.trunk(x)
        qs = [torch.softmax(m.interact(e2, random_orders(B, N, None, gen)), -1)]
        qs += [torch.softmax(m.interact(e2, random_orders(B, N, None, gen)), -1)]
        qs += [torch.softmax(m.interact(e2, random_orders(B, N, None, gen)), -1)]
    q = torch.stack(qs).mean(0)
    assert torch.allclose(out.q, q, atol=1e-6)
    assert torch.allclose(out.logits, q.log(), atol=1e-6)
    m.train()  # training: one order per call whatever eval_samples is
    single = m(x, torch.Generator().manual_seed(5))
    assert torch.allclose(single.q.sum(-1), torch.ones(B, E))


def test_ablation_switches_remove_their_part():
    keys = {
        ri: {k.split(".")[0] for k in enc(relation_interaction=ri).state_dict()}
        for ri in ("both", "intra", "inter", "none")
    }
    trunk = {"emb", "n2e_i", "e2n", "n2e_o", "fc_out"}
    assert keys["both"] == trunk | {"intra", "inter"}
    assert keys["intra"] == trunk | {"intra"}
    assert keys["inter"] == trunk | {"inter"}
    assert keys["none"] == trunk
    assert enc(relation_interaction="none").fc_out.in_features == H
    assert enc(relation_interaction="intra").fc_out.in_features == H
    assert enc(relation_interaction="inter").fc_out.in_features == 2 * H
    att = enc(sequence_model="attention").state_dict()
    assert "intra.seq.query.weight" in att and "intra.seq.weight_ih" not in att


def test_inter_only_fixed_version_is_not_degenerate():
    x = x_data()
    fixed = enc(relation_interaction="inter").eval()
    ref = enc(relation_interaction="inter", inter_only_reference=True).eval()
    assert ref.fc_out.in_features == H
    orders = random_orders(B, N, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        lf = fixed(x, orders=orders).logits.view(B, N, N - 1, 2)
        lr = ref(x, orders=orders).logits.view(B, N, N - 1, 2)
    # D1: the reference gives all incoming edges of a receiver the same logits
    assert torch.allclose(lr, lr[:, :, :1].expand_as(lr))
    assert not torch.allclose(lf, lf[:, :, :1].expand_as(lf), atol=1e-4)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"reducer": "cnn"},
        {"sequence_model": "attention"},
        {"sequence_model": "transformer"},
        {"relation_interaction": "inter"},
        {"relation_interaction": "none"},
    ],
)
def test_gradients_reach_every_parameter(kw):
    m = enc(**kw)
    t = (
        20 if kw.get("reducer") == "cnn" else T
    )  # T=14 leaves one CNN frame (no att grad)
    out = m(x_data(t=t), torch.Generator().manual_seed(0))
    (out.logits * torch.randn_like(out.logits)).sum().backward()
    missing = [k for k, p in m.named_parameters() if p.grad is None or not p.grad.any()]
    assert missing == []


@pytest.mark.parametrize("seq", ["gru", "attention", "transformer"])
def test_shapes_for_more_types_and_ten_objects(seq):
    m = enc(n_edge_types=3, sequence_model=seq)
    out = m(x_data(n=10), torch.Generator().manual_seed(0))
    assert out.logits.shape == (B, 90, 3) and out.q.shape == (B, 90, 3)
    assert torch.allclose(out.q.sum(-1), torch.ones(B, 90))


def test_input_errors():
    m = enc()
    with pytest.raises(ValueError, match="T=12"):
        m(x_data(t=13))
    with pytest.raises(ValueError, match="F=4"):
        m(torch.randn(B, N, T, 3))
    with pytest.raises(ValueError, match="relation_interaction"):
        enc(relation_interaction="edge")
    with pytest.raises(ValueError, match="sequence model"):
        enc(sequence_model="lstm")
