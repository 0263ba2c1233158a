"""Candidate edges and chunked decoder messages (issue 16 items 1-2, docs/scale.md)."""

import json

import numpy as np
import pytest
import torch

from nri import graph, metrics
from nri.models.configs import MPMConfig, NRIConfig
from nri.models.decoders import MLPDecoder, RNNDecoder
from nri.models.encoders import (
    CNNEncoder,
    MLPEncoder,
    is_non_candidate,
    non_candidate_logits,
)
from nri.models.mpm import NRIMPM
from nri.models.nri import NRI
from nri.models.relation_interaction import RelationInteractionEncoder, random_orders
from nri.models.ri_sequence import SetSequence
from nri.models.st_decoder import GNNDecoder, STAttentionDecoder, STDecoder

B, N, T, F, H = 2, 6, 16, 4, 16


def _x(seed=0, b=B, n=N, t=T):
    return torch.randn(b, n, t, F, generator=torch.Generator().manual_seed(seed))


def _ragged(n=N, seed=3):
    """A shared candidate graph with in-degrees 0 .. n-1 (one receiver has none)."""
    rng = np.random.RandomState(seed)
    adj = rng.rand(n, n) < 0.5
    adj[0] = False  # receiver 0: no candidates
    adj[1] = True  # receiver 1: all
    return graph.from_adjacency(torch.from_numpy(adj))


# ----------------------------------------------------------------- graph: edge sets
def test_edge_sets_hand_made():
    # receivers 0 and 2 of N = 3; [receiver, sender]
    adj = torch.tensor([[0, 1, 1], [0, 0, 0], [1, 1, 1]])
    es = graph.from_adjacency(adj)
    assert es.send.tolist() == [[[1, 2], [1, 1], [0, 1]]]
    assert es.mask.tolist() == [[[True, True], [False, False], [True, True]]]
    assert graph.candidate_mask(es).tolist() == [[True, True, False, False, True, True]]
    assert graph.to_dense(graph.candidate_mask(es).int())[0].tolist() == [
        [0, 1, 1], [0, 0, 0], [1, 1, 0]
    ]  # fmt: skip
    full = graph.all_pairs(4)
    assert torch.equal(full.flat_send()[0], graph.fully_connected(4)[0])
    assert torch.equal(graph.slot_index(full)[0], torch.arange(12))


def test_candidate_mask_of_ragged_sets_keeps_every_candidate():
    """Padding slots point at their receiver's first edge; a candidate there must
    stay a candidate (receiver 3 of N = 4 below: 3 <- 0 and one padding slot)."""
    adj = torch.zeros(4, 4, dtype=torch.bool)
    adj[2, [0, 1]] = adj[3, 0] = True
    assert torch.equal(graph.candidate_mask(graph.from_adjacency(adj))[0],
                       graph.to_edges(adj))  # fmt: skip
    gen = torch.Generator().manual_seed(4)
    for _ in range(50):
        a = torch.rand(3, 6, 6, generator=gen) < 0.3
        a &= ~torch.eye(6, dtype=torch.bool)
        assert torch.equal(graph.candidate_mask(graph.from_adjacency(a)),
                           graph.to_edges(a))  # fmt: skip


def test_knn_is_the_k_nearest_by_trajectory_distance():
    x = _x(1)
    es = graph.knn(x, 2)
    flat = x.reshape(B, N, -1)
    for b in range(B):
        for i in range(N):
            d = [
                (float((flat[b, i] - flat[b, j]).norm()), j) for j in range(N) if j != i
            ]
            assert es.send[b, i].tolist() == sorted(j for _, j in sorted(d)[:2])
    with pytest.raises(ValueError, match="k < N - 1"):
        graph.knn(x, N - 1)


def test_knn_candidates_are_equivariant_under_relabelling():
    x = _x(2)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(5))
    dense = graph.to_dense(graph.candidate_mask(graph.knn(x, 3)).int())  # [B, N, N]
    dense_p = graph.to_dense(graph.candidate_mask(graph.knn(x[:, perm], 3)).int())
    assert torch.equal(dense_p, dense[:, perm][:, :, perm])


def test_slot_maps_round_trip():
    es = _ragged()
    v = torch.randn(B, N * es.slots, 3)
    fill = torch.tensor([7.0, 8.0, 9.0])
    full = graph.slots_to_full(v, es, fill)  # [B, E, 3]
    cand = graph.candidate_mask(es)[0]
    assert torch.equal(full[:, ~cand], fill.expand(B, int((~cand).sum()), 3))
    back = graph.full_to_slots(full, es)
    m = es.flat_mask()[..., None]
    assert torch.equal(back, v * m)


# ------------------------------------------------------------------------- encoders
def _encoders():
    torch.manual_seed(0)
    yield MLPEncoder(T, F, H)
    yield CNNEncoder(F, H)
    for seq in ("gru", "attention", "transformer"):
        for reducer in ("mlp", "cnn"):
            yield RelationInteractionEncoder(
                F, T, H, reducer=reducer, sequence_model=seq
            ).eval()
    # eval mode averaging q over 3 random orders (logits = log of the mean q)
    yield RelationInteractionEncoder(F, T, H, eval_samples=3).eval()


@pytest.mark.parametrize("enc", list(_encoders()), ids=lambda e: type(e).__name__)
def test_full_candidate_set_equals_the_dense_encoder(enc):
    x = _x(3)
    kw = {}
    if getattr(enc, "eval_samples", 1) > 1:  # draws its orders: the same draws
        dense = enc(x, torch.Generator().manual_seed(1))
        sparse = enc(x, torch.Generator().manual_seed(1), edges=graph.all_pairs(N))
        torch.testing.assert_close(sparse.q, dense.q, rtol=1e-5, atol=1e-6)
        return
    if getattr(enc, "random", False):
        kw["orders"] = random_orders(B, N, generator=torch.Generator().manual_seed(1))
    dense = enc(x, **kw)
    sparse = enc(x, edges=graph.all_pairs(N), **kw)
    torch.testing.assert_close(sparse.logits, dense.logits, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("enc", list(_encoders()), ids=lambda e: type(e).__name__)
def test_non_candidates_are_no_interaction_with_probability_one(enc):
    es = _ragged()
    out = enc(_x(4), edges=es)
    cand = graph.candidate_mask(es)[0]
    assert torch.equal(
        out.q[:, ~cand], torch.tensor([1.0, 0.0]).expand(B, int((~cand).sum()), 2)
    )
    assert bool(is_non_candidate(out.logits[:, ~cand]).all())
    assert not bool(is_non_candidate(out.logits[:, cand]).any())
    assert torch.isfinite(out.logits).all()


def test_ri_encoder_on_ragged_groups_equals_each_group_alone():
    """Attention RI on padded groups = the same trunk output read receiver by
    receiver over its candidates only (no padding at all)."""
    torch.manual_seed(1)
    enc = RelationInteractionEncoder(F, T, H, sequence_model="attention").eval()
    es = _ragged()
    x = _x(5)
    e2 = enc.trunk(x, es)  # [B, N*D, H]
    d = es.slots
    blocks = e2.view(B, N, d, H)
    r1 = torch.zeros_like(blocks)
    pooled = torch.zeros(B, N, H)
    for i in range(N):
        m = es.mask[0, i]
        if m.any():
            r1[:, i, m] = enc.intra(blocks[:, i, m])  # one set, no mask needed
            pooled[:, i] = r1[:, i, m].mean(1)
    r2 = enc.inter(pooled)
    want = enc.fc_out(torch.cat([r1, r2[:, :, None].expand(B, N, d, H)], -1))
    got = enc.interact(e2, None, es).view(B, N, d, -1)
    m = es.mask[0]
    torch.testing.assert_close(got[:, m], want[:, m], rtol=1e-5, atol=1e-5)


def test_gru_set_sequence_reads_padding_last():
    seq = SetSequence("gru", H)
    h = torch.randn(3, 5, H)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]]).bool()
    orders = random_orders(1, 3, generator=torch.Generator().manual_seed(0),
                           mask=mask[None]).intra[0]  # fmt: skip
    out = seq(h, orders, mask)
    alone = seq(h[:1, :2], orders[:1, :2])  # the two elements, same reading order
    torch.testing.assert_close(out[0, :2], alone[0])


# ------------------------------------------------------------------------- decoders
def _decoders(skip_first=True, chunk=None):
    torch.manual_seed(2)
    yield MLPDecoder(F, 2, H, H, H, skip_first=skip_first, edge_chunk=chunk)
    yield RNNDecoder(F, 2, H, skip_first=skip_first, edge_chunk=chunk)
    yield GNNDecoder(F, 2, H, skip_first=skip_first, edge_chunk=chunk)
    yield STDecoder(F, 2, H, skip_first=skip_first, edge_chunk=chunk)
    yield STAttentionDecoder(F, 2, H, skip_first=skip_first, edge_chunk=chunk)


def _z(b=B, n=N, seed=6):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(b, n * (n - 1), 2, generator=g), -1)


def _roll(dec, x_t, z, steps=3, edges=None):
    state, outs = None, []
    for _ in range(steps):
        x_t, state = dec.step(x_t, z, state, **({"edges": edges} if edges else {}))
        outs.append(x_t)
    return torch.stack(outs)


@pytest.mark.parametrize("kind", range(3), ids=["mlp", "rnn", "gnn"])
def test_sparse_decoder_equals_dense_with_non_candidates_type_0(kind):
    """skip_first: type 0 sends nothing, so candidates only = the dense decoder
    with every non-candidate set to type 0 (the Markovian and RNN decoders)."""
    dec = list(_decoders(skip_first=True))[kind]
    es = _ragged()
    z = _z()
    cand = graph.candidate_mask(es)[0]
    z_dense = z.clone()
    z_dense[:, ~cand] = torch.tensor([1.0, 0.0])
    x_t = torch.randn(B, N, 3, F)  # with a segment axis
    dense = _roll(dec, x_t, z_dense)
    sparse = _roll(dec, x_t, graph.full_to_slots(z, es), edges=es)
    torch.testing.assert_close(sparse, dense, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", range(5), ids=["mlp", "rnn", "gnn", "st", "st_att"])
@pytest.mark.parametrize("sparse", [False, True], ids=["all", "ragged"])
def test_chunked_decoder_equals_unchunked_values_and_gradients(kind, sparse):
    es = _ragged() if sparse else None
    z0 = _z() if not sparse else graph.full_to_slots(_z(), es)
    x0 = torch.randn(B, N, 2, F)
    results = []
    for chunk in (None, 7):
        dec = list(_decoders(skip_first=False, chunk=chunk))[kind]
        z = z0.clone().requires_grad_(True)
        x_t = x0.clone().requires_grad_(True)
        out = _roll(dec, x_t, z, edges=es)
        out.pow(2).sum().backward()
        grads = [p.grad for p in dec.parameters() if p.grad is not None]
        results.append((out.detach(), z.grad, x_t.grad, grads))
    (o1, z1, x1, g1), (o2, z2, x2, g2) = results
    torch.testing.assert_close(o2, o1, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(z2, z1, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(x2, x1, rtol=1e-4, atol=1e-5)
    assert len(g1) == len(g2) > 0
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------- models and metrics
def _tiny(cls, cfg_cls, **kw):
    hd = {"hidden_dim": H} if cfg_cls is MPMConfig else {
        "encoder_hidden_dim": H, "decoder_hidden_dim": H}  # fmt: skip
    cfg = cfg_cls(n_timesteps=T, pred_steps=4, val_pred_steps=4, test_horizon=4,
                  **hd, **kw)  # fmt: skip
    torch.manual_seed(0)
    return cls(cfg)


@pytest.mark.parametrize("cls,cfg_cls", [(NRI, NRIConfig), (NRIMPM, MPMConfig)])
def test_knn_model_outputs_and_metrics_treat_non_candidates_as_no_interaction(
    cls, cfg_cls
):
    model = _tiny(cls, cfg_cls, candidates="knn", candidates_k=2).eval()
    x = _x(7, t=T + 1 + 4)
    cand = graph.candidate_mask(graph.knn(x[:, :, :T], 2))  # [B, E]
    out = model.evaluate_batch(x, torch.Generator().manual_seed(0))
    q = torch.softmax(out.logits, -1)
    assert torch.equal(q[~cand], torch.tensor([1.0, 0.0]).expand(int((~cand).sum()), 2))
    assert torch.equal(out.z[~cand], torch.zeros(int((~cand).sum()), 2))  # silent
    assert torch.equal(out.z[cand].sum(-1), torch.ones(int(cand.sum())))
    # a true edge that is not a candidate is a miss, a true non-edge a hit
    labels = out.logits.argmax(-1)  # every candidate right
    labels[~cand] = 1
    frac = float(cand.float().mean())
    assert float(metrics.batch_accuracy(out.logits, labels)) == pytest.approx(frac)
    labels[~cand] = 0
    assert float(metrics.batch_accuracy(out.logits, labels)) == 1.0
    score = q[..., 1]  # the edge score of AUROC: 0 for every non-candidate
    assert torch.equal(score[~cand], torch.zeros(int((~cand).sum())))
    truth = torch.zeros_like(score, dtype=torch.long)
    truth[cand] = 1  # the candidates outrank every non-candidate: AUROC 1
    assert metrics.auroc(score.flatten(), truth.flatten()) == 1.0
    # training: finite, backward works, the KL counts candidates only
    model.train()
    loss = model.loss(x[:, :, :T], torch.Generator().manual_seed(1))
    loss.loss.backward()
    assert torch.isfinite(loss.loss)


def test_kl_prior_counts_candidates_only():
    from nri.models.priors import CategoricalKL, SymmetricKL

    logits = torch.randn(1, 6, 2)
    logits[0, 1] = non_candidate_logits(2)  # edge 1 of N = 3 is no candidate
    q = torch.softmax(logits, -1)
    kl = CategoricalKL()(logits, q)
    keep = [0, 2, 3, 4, 5]
    qk = q[0, keep]
    want = (qk * (qk.log() + np.log(2))).sum() / 3
    torch.testing.assert_close(kl, want)
    rev = graph.reverse_index(3)  # [2, 4, 0, 5, 1, 3]: edge 1's reverse is edge 4
    both = [0, 2, 3, 5]
    want_sym = (
        sum((q[0, rev[e]] * (q[0, rev[e]].log() - q[0, e].log())).sum() for e in both)
        / 3
    )
    torch.testing.assert_close(SymmetricKL()(logits, q), want_sym)


@pytest.mark.parametrize("cls,cfg_cls", [(NRI, NRIConfig), (NRIMPM, MPMConfig)])
@pytest.mark.parametrize("training", [True, False])
def test_file_candidates_shared_graph(tmp_path, cls, cfg_cls, training):
    adj = np.zeros((N, N), dtype=int)
    adj[2, [0, 1]] = 1
    adj[4, 5] = 1
    adj[5, 0] = 1  # receiver 5's first edge, next to padding slots
    np.save(tmp_path / "g.npy", adj)
    model = _tiny(cls, cfg_cls, candidates=str(tmp_path / "g.npy"))
    model.train(training)  # NRI-MPM's evaluation averages q over RI orders
    with torch.no_grad():
        out = model.encode(_x(8), torch.Generator().manual_seed(0))
    cand = graph.to_edges(torch.from_numpy(adj).bool())
    assert bool(is_non_candidate(out.logits[:, ~cand]).all())
    assert not bool(is_non_candidate(out.logits[:, cand]).any())


# ------------------------------------------------------------------ config and CLI
def test_settings_are_refused_in_one_line(tmp_path):
    from nri.config import ConfigError
    from nri.models.candidates import check_candidates

    with pytest.raises(ValueError, match="candidates_k must be an int >= 1"):
        NRIConfig(candidates="knn", candidates_k=0)
    with pytest.raises(ValueError, match="edge_chunk"):
        NRIConfig(edge_chunk=0)
    with pytest.raises(ConfigError, match="'all', 'knn' or a .npy/.csv"):
        NRIConfig(candidates="nearest")
    np.savetxt(tmp_path / "bad.csv", np.full((4, 4), 0.5), delimiter=",")
    with pytest.raises(ConfigError, match="only 0 and 1"):
        NRIConfig(candidates=str(tmp_path / "bad.csv"))
    np.save(tmp_path / "rect.npy", np.zeros((3, 4)))
    with pytest.raises(ConfigError, match=r"\[N, N\]"):
        MPMConfig(candidates=str(tmp_path / "rect.npy"))
    with pytest.raises(ConfigError, match="^model.dynamic_graph"):
        NRIConfig(candidates="knn", decoder="rnn", dynamic_graph=True)
    with pytest.raises(ValueError, match="must be < N - 1 = 4"):
        check_candidates(NRIConfig(candidates="knn", candidates_k=4), 5)
    loops = np.ones((5, 5))
    np.save(tmp_path / "loops.npy", loops)
    with pytest.warns(UserWarning, match="5 self-loop.*ignored"):
        cfg = NRIConfig(candidates=str(tmp_path / "loops.npy"))
    with pytest.raises(ValueError, match=r"\[5, 5\] graph but the data have N = 6"):
        check_candidates(cfg, 6)


def test_cli_trains_with_knn_candidates_and_refuses_k(tmp_path, capsys):
    from nri.cli import main

    data = tmp_path / "data"
    assert main(["simulate", "springs", "--objects", "6", "--train", "8", "--valid",
                 "4", "--test", "4", "--out", str(data), "--quiet"]) == 0  # fmt: skip
    base = ["train", "--preset", "springs5", "--preset", "cpu", "--data", str(data),
            "--set", "data.suffix=springs6", "--set", "train.progress_bar=false",
            "--epochs", "1", "--no-eval"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "bad"), "--set",
                 "model.candidates=knn", "--set", "model.candidates_k=5"]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert err.startswith("nri: error:") and "\n" not in err and "< N - 1 = 5" in err
    run = tmp_path / "run"
    assert main([*base, "--out", str(run), "--set", "model.candidates=knn", "--set",
                 "model.candidates_k=2", "--set", "model.edge_chunk=8"]) == 0  # fmt: skip
    text = (run / "config.yaml").read_text()
    assert "candidates: knn" in text and "candidates_k: 2" in text
    assert "edge_chunk: 8" in text


@pytest.mark.parametrize("cls,cfg_cls", [(NRI, NRIConfig), (NRIMPM, MPMConfig)])
def test_a_candidate_file_of_all_pairs_gives_the_default_model(tmp_path, cls, cfg_cls):
    """Every pair as a candidate file: encoder, decoder and priors run on slots and
    give the default model's loss and gradients (to float rounding)."""
    np.save(tmp_path / "all.npy", np.ones((N, N), dtype=int) - np.eye(N, dtype=int))
    x = _x(9)
    outs = []
    for cand in ("all", str(tmp_path / "all.npy")):
        model = _tiny(cls, cfg_cls, candidates=cand, edge_chunk=None)
        out = model.loss(x, torch.Generator().manual_seed(2))
        out.loss.backward()
        outs.append((out.loss.detach(), [p.grad for p in model.parameters()]))
    torch.testing.assert_close(outs[1][0], outs[0][0], rtol=1e-5, atol=1e-3)
    for a, b in zip(outs[0][1], outs[1][1], strict=True):
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-4)


def test_model_rollout_on_candidates_equals_dense_with_type_0(tmp_path):
    """NRI with skip_first: predicting with a candidate graph = the default model
    predicting with every non-candidate set to type 0."""
    adj = (np.random.RandomState(0).rand(N, N) < 0.4).astype(int)
    np.fill_diagonal(adj, 0)
    np.save(tmp_path / "g.npy", adj)
    sparse = _tiny(NRI, NRIConfig, candidates=str(tmp_path / "g.npy"), skip_first=True)
    dense = _tiny(NRI, NRIConfig, skip_first=True)
    dense.load_state_dict(sparse.state_dict())
    x = _x(10)
    logits = sparse.encode(x).logits
    z = sparse.sample_edges(logits, False, torch.Generator().manual_seed(0))
    cand = graph.to_edges(torch.from_numpy(adj).bool())
    assert torch.equal(z[:, ~cand], torch.zeros(B, int((~cand).sum()), 2))
    z_dense = z.clone()
    z_dense[:, ~cand] = torch.tensor([1.0, 0.0])
    torch.testing.assert_close(
        sparse.predict(x, z, 4), dense.predict(x, z_dense, 4), rtol=1e-5, atol=1e-5
    )


# ------------------------------------------------------------ candidate recall
def test_coverage_counts_true_edges_inside_the_candidates_by_hand(tmp_path):
    from nri.models.candidates import coverage, coverage_notice

    n = 4  # 12 ordered pairs; candidates: 2 <- 0, 2 <- 1, 3 <- 0
    adj = np.zeros((n, n), dtype=int)
    adj[2, [0, 1]] = 1
    adj[3, 0] = 1
    np.save(tmp_path / "g.npy", adj)
    cfg = NRIConfig(candidates=str(tmp_path / "g.npy"))
    truth = torch.zeros(2, n, n, dtype=torch.bool)
    truth[0, 2, 0] = truth[0, 1, 3] = True  # sample 0: one inside, one outside
    truth[1, 3, 0] = truth[1, 2, 1] = truth[1, 0, 1] = True  # sample 1: 2 of 3 inside
    labels = graph.to_edges(truth).long()  # [2, 12]
    labels[1, 0] = -1  # an unknown label is not a pair: edge 0 is 0 <- 1
    cov = coverage(cfg, torch.zeros(2, n, 5, 4), labels)
    assert (cov.true_in, cov.true, cov.candidates, cov.pairs) == (3, 4, 6, 23)
    assert cov.recall == 0.75 and cov.share == 6 / 23
    assert "hold 75.0% of the true edges" in coverage_notice(cfg, cov, "x")
    assert "random candidates" not in coverage_notice(cfg, cov, "x")
    low = cov._replace(true_in=1)  # 25 % inside, 26 % of the pairs: chance
    assert "random candidates would hold as many" in coverage_notice(cfg, low, "x")
    assert coverage(NRIConfig(), torch.zeros(2, n, 5, 4), labels) is None  # all pairs
    assert coverage(cfg, torch.zeros(2, n, 5, 4), torch.zeros_like(labels)) is None


def test_train_and_evaluate_report_the_candidates_recall(tmp_path, capsys):
    """nri train says which share of the training split's true edges the candidate
    file holds; nri evaluate writes it for the test split; both equal the count
    made from the data files themselves."""
    from nri.cli import main

    data = tmp_path / "data"
    assert main(["simulate", "springs", "--objects", "5", "--train", "8", "--valid",
                 "4", "--test", "4", "--out", str(data), "--quiet"]) == 0  # fmt: skip
    adj = np.zeros((5, 5), dtype=int)
    adj[0, 1:] = 1
    adj[3, 4] = 1
    np.save(tmp_path / "g.npy", adj)
    run = tmp_path / "run"
    capsys.readouterr()
    assert main(["train", "--preset", "springs5", "--preset", "cpu", "--data",
                 str(data), "--set", "train.progress_bar=false", "--epochs", "1",
                 "--set", f"model.candidates={tmp_path / 'g.npy'}", "--out",
                 str(run)]) == 0  # fmt: skip
    err = capsys.readouterr().err

    def recall(split):
        e = np.load(data / f"edges_{split}_springs5.npy") != 0  # [S, N, N]
        inside = (e & (adj != 0)[None]).sum()
        return inside / (e.sum() - np.trace(e, axis1=1, axis2=2).sum())

    want = f"hold {recall('train'):.1%} of the true edges of the training split"
    assert "nri: notice: the candidate edges" in err and want in err
    m = json.loads((run / "metrics.json").read_text())
    assert m["candidate_recall"] == pytest.approx(recall("test"))
    assert m["candidate_share"] == pytest.approx(5 / 20)
