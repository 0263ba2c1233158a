"""NRI-MPM model: config, symmetric prior, hard symmetry, schemes, test protocol,
presets and one Lightning epoch (spec/nri-mpm.md)."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F_

from nri import graph
from nri import rollout as ro
from nri.config import preset_names, resolve
from nri.losses import gaussian_nll, kl_categorical_uniform, symmetric_kl
from nri.models import NRIMPM, MPMConfig
from nri.registry import MODELS

B, N, T, F = 2, 5, 12, 4
E = N * (N - 1)
SMALL = {"n_timesteps": T, "hidden_dim": 16, "pred_steps": 5, "val_pred_steps": 5}
ABLATIONS = {
    "mpm_wo_ri": ("relation_interaction", "none"),
    "mpm_wo_intra_ri": ("relation_interaction", "inter"),
    "mpm_wo_inter_ri": ("relation_interaction", "intra"),
    "mpm_wo_st": ("decoder", "gnn"),
    "mpm_wo_sym": ("sym_lambda", 0.0),
    "mpm_hard_sym": ("hard_sym", True),
    "mpm_supervised": ("scheme", "supervised"),
    "mpm_true_graph": ("scheme", "true_graph"),
}


def small(**kw) -> NRIMPM:
    torch.manual_seed(0)
    return NRIMPM(MPMConfig(**{**SMALL, **kw}))


def x_data(t: int = T, seed: int = 0) -> torch.Tensor:
    return torch.randn(B, N, t, F, generator=torch.Generator().manual_seed(seed))


def labels(seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 2, (B, E), generator=torch.Generator().manual_seed(seed))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_registry_defaults_and_fields_read_by_training():
    assert MODELS["nri_mpm"] == (NRIMPM, MPMConfig)
    c = MPMConfig()
    assert (c.lr, c.adam_eps, c.sym_lambda, c.tau, c.variance) == (
        2.5e-4,
        1e-3,
        100.0,
        0.5,
        5e-5,
    )
    assert (c.pred_steps, c.val_pred_steps, c.test_horizon, c.n_timesteps) == (
        10,
        10,
        20,
        49,
    )
    assert (c.reducer, c.relation_interaction, c.ri_sequence, c.decoder) == (
        "mlp",
        "both",
        "gru",
        "st",
    )
    assert (c.lr_decay_step, c.lr_decay_gamma, c.lr_step_before_epoch) == (
        200,
        0.5,
        False,
    )
    assert c.hard_sym is False and c.hard_sym_shared_sample is True
    # fields nri.training.module and nri.evaluate read from a model config
    for name in (
        "n_edge_types skip_first lr adam_eps lr_decay_step lr_decay_gamma "
        "lr_step_before_epoch n_features n_timesteps test_horizon eval_graph"
    ).split():
        assert hasattr(c, name), name
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.tau = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"reducer": "gru"}, "reducer"),
        ({"relation_interaction": "node"}, "relation_interaction"),
        ({"decoder": "transformer"}, "decoder"),  # mlp is NRI's: allowed
        ({"sym_lambda": -1.0}, "sym_lambda"),
        ({"pred_steps": 49}, "pred_steps"),
        ({"reducer": "cnn", "n_timesteps": 10}, "n_timesteps >= 14"),
        ({"ri_eval_samples": 0}, "ri_eval_samples"),
        ({"prior": (0.5, 0.4)}, "prior"),
        ({"ri_sequence": "transformer", "hidden_dim": 18}, "divisible"),
    ],
)
def test_config_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        MPMConfig(**kw)


def test_full_size_parameter_counts():
    assert n_params(NRIMPM(MPMConfig())) == 1_502_210 + 1_071_740
    kur = NRIMPM(MPMConfig(reducer="cnn", n_features=3, decoder="st_attention"))
    assert n_params(kur) == 1_722_371 + 1_531_470
    wo = NRIMPM(MPMConfig(relation_interaction="none", decoder="gnn"))
    assert n_params(wo) == 712_194 + 269_828


# ---------------------------------------------------------------- symmetric prior
def test_symmetric_kl_hand_computed():
    q = torch.tensor([[[0.9, 0.1], [0.6, 0.4]]])  # N = 2: edges (0<-1), (1<-0)
    rev = graph.reverse_index(2)
    assert rev.tolist() == [1, 0]
    e0 = 0.6 * math.log(0.6 / 0.9) + 0.4 * math.log(0.4 / 0.1)  # q' = q(1<-0)
    e1 = 0.9 * math.log(0.9 / 0.6) + 0.1 * math.log(0.1 / 0.4)
    assert symmetric_kl(q, rev).item() == pytest.approx((e0 + e1) / 2, rel=1e-5)


def test_symmetric_kl_zero_iff_symmetric_and_gradients_flow():
    rev = graph.reverse_index(N)
    q = torch.softmax(torch.randn(B, E, 3), -1)
    q_sym = 0.5 * (q + q[:, rev])
    assert symmetric_kl(q_sym, rev).item() == pytest.approx(0.0, abs=1e-6)
    q.requires_grad_(True)
    value = symmetric_kl(q, rev)
    assert value.item() > 0
    value.backward()
    assert q.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="rev"):
        symmetric_kl(q, rev[:-1])


def test_loss_is_nll_plus_kl_plus_lambda_sym():
    for lam in (100.0, 0.0):
        m = small(sym_lambda=lam)
        out = m.loss(x_data(), gen(0), labels())
        logs = out.logs
        assert set(logs) == {"nll", "kl", "sym", "mse", "acc"}
        total = logs["nll"] + logs["kl"] + lam * logs["sym"]
        assert out.loss.item() == pytest.approx(total.item(), rel=1e-5)
        assert logs["sym"] > 0
        assert logs["nll"].item() == pytest.approx(
            1e4 * (T - 1) * F * logs["mse"].item(), rel=1e-4
        )
    scaled = small(loss_scale=1e-5).loss(x_data(), gen(0))
    assert scaled.loss.item() == pytest.approx(
        1e-5 * small().loss(x_data(), gen(0)).loss.item(), rel=1e-5
    )


def test_loss_terms_match_the_pieces():
    m = small()
    x = x_data()
    out = m.loss(x, gen(3))
    g = gen(3)
    logits, q = m.encode(x, g)
    z = m.sample_edges(logits, False, g)
    pred = ro.rollout(m.decoder.step, x, z, 5)
    assert torch.allclose(out.logits, logits)
    nll = gaussian_nll(pred, x[:, :, 1:])
    kl = kl_categorical_uniform(q)
    sym = symmetric_kl(q, graph.reverse_index(N))
    assert out.loss.item() == pytest.approx((nll + kl + 100 * sym).item(), rel=1e-5)


# ----------------------------------------------------------------- hard symmetry
def test_hard_symmetry_gives_symmetric_q_and_z():
    rev = graph.reverse_index(N)
    send, recv = graph.fully_connected(N)
    m = small(hard_sym=True).eval()
    x = x_data()
    logits, q = m.encode(x, gen(1))
    assert torch.equal(q, q[:, rev]) and torch.equal(logits, logits[:, rev])
    for hard in (False, True):
        z = m.sample_edges(logits, hard, gen(2))
        assert torch.equal(z, z[:, rev])
    out = m.validation_loss(x, gen(1))
    assert out.logs["sym"].item() == pytest.approx(0.0, abs=1e-6)
    # reference (D7): independent noise per direction, z not symmetric
    ref = small(hard_sym=True, hard_sym_shared_sample=False)
    z_ref = ref.sample_edges(logits, False, gen(2))
    assert not torch.allclose(z_ref, z_ref[:, rev])
    # gradients reach the encoder only through edges with receiver > sender
    m.train()
    raw = []
    m.encoder.register_forward_hook(lambda mod, inp, out: raw.append(out.logits))
    logits = m.encode(x, gen(1)).logits
    raw[0].retain_grad()
    logits.sum().backward()
    assert (raw[0].grad[:, recv < send] == 0).all()
    assert (raw[0].grad[:, recv > send] == 2).all()
    no_sym = small().eval()
    assert not torch.equal(
        no_sym.encode(x, gen(1)).q, no_sym.encode(x, gen(1)).q[:, rev]
    )


# ---------------------------------------------------------------------- ablations
@pytest.mark.parametrize("preset", sorted(ABLATIONS))
def test_ablation_switches_change_parameters_or_loss(preset):
    field, value = ABLATIONS[preset]
    base, abl = small(), small(**{field: value})
    kb, ka = set(base.state_dict()), set(abl.state_dict())
    x, lab = x_data(), labels()
    if field == "relation_interaction":
        part = {
            "none": "encoder.in",
            "inter": "encoder.intra",
            "intra": "encoder.inter",
        }
        removed = {k for k in kb - ka if not k.startswith("encoder.fc_out")}
        assert removed and all(k.startswith(part[value]) for k in removed)
        assert ka - kb == set()
    elif field == "decoder":
        assert {k for k in kb - ka if "gru" in k} and not ka - kb
    elif field == "scheme":
        gone = "decoder." if value == "supervised" else "encoder."
        assert kb - ka == {k for k in kb if k.startswith(gone)} and not ka - kb
    else:
        assert ka == kb
    la, lb = abl.loss(x, gen(0), lab), base.loss(x, gen(0), lab)
    assert not math.isclose(la.loss.item(), lb.loss.item(), rel_tol=1e-6)


def test_supervised_scheme_cross_entropy_on_logits():
    m = small(scheme="supervised")
    assert m.decoder is None
    x, lab = x_data(), labels()
    lab[0, :3] = -1  # unknown labels are ignored
    out = m.loss(x, gen(0), lab)
    ce = F_.cross_entropy(out.logits.reshape(-1, 2), lab.reshape(-1), ignore_index=-1)
    assert out.loss.item() == pytest.approx(ce.item(), rel=1e-6)
    assert set(out.logs) == {"nll", "sym", "acc"}
    double = small(scheme="supervised", supervised_double_softmax=True)
    ce2 = F_.cross_entropy(torch.softmax(out.logits, -1).reshape(-1, 2), lab.reshape(-1),
                           ignore_index=-1)  # fmt: skip
    assert double.loss(x, gen(0), lab).loss.item() == pytest.approx(
        ce2.item(), rel=1e-6
    )
    with pytest.raises(ValueError, match="edge_types"):
        m.loss(x, gen(0))
    ev = m.eval().evaluate_batch(x_data(T + 21), gen(0))
    assert torch.isnan(ev.sq_err).all()


def test_true_graph_scheme_feeds_the_labels():
    m = small(scheme="true_graph")
    assert m.encoder is None
    x, lab = x_data(), labels()
    out = m.loss(x, gen(0), lab)
    z = F_.one_hot(lab, 2).float()
    pred = ro.rollout(m.decoder.step, x, z, 5)
    assert out.loss.item() == pytest.approx(
        gaussian_nll(pred, x[:, :, 1:]).item(), 1e-5
    )
    assert out.logs["acc"] == 1.0 and "kl" not in out.logs
    with pytest.raises(ValueError, match="-1"):
        m.loss(x, gen(0), torch.full((B, E), -1))
    ev = m.eval().evaluate_batch(x_data(T + 21), gen(0), lab)
    assert torch.equal(ev.z, z)


# ------------------------------------------------------------- gradients, seeding
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"reducer": "cnn", "n_timesteps": 20, "decoder": "st_attention"},
        {"ri_sequence": "attention", "hard_sym": True, "skip_first": True},
        {"relation_interaction": "none", "decoder": "gnn", "n_edge_types": 3},
        {"relation_interaction": "inter", "ri_sequence": "transformer"},
    ],
)
def test_gradients_reach_every_parameter(kw):
    m = small(**kw)
    x = x_data(m.config.n_timesteps)
    out = m.loss(x, gen(0), torch.randint(0, m.config.n_edge_types, (B, E)))
    out.loss.backward()
    missing = {k for k, p in m.named_parameters() if p.grad is None or not p.grad.any()}
    unused = {"decoder.attn_unused.weight", "decoder.attn_unused.bias"}
    assert missing == (unused if kw.get("decoder") == "st_attention" else set())


def test_same_seed_same_outputs_different_seed_different():
    m = small()
    x = x_data()
    a, b, c = (m.loss(x, gen(s)).loss.item() for s in (7, 7, 8))
    assert a == b and a != c
    m.eval()
    ea, eb, ec = (m.evaluate_batch(x_data(T + 21), gen(s)) for s in (7, 7, 8))
    assert torch.equal(ea.logits, eb.logits) and torch.equal(ea.sq_err, eb.sq_err)
    assert not torch.equal(ea.logits, ec.logits)


# ---------------------------------------------------------------- test protocol
def test_evaluate_batch_decoder_starts_empty_at_frame_T():
    m = small().eval()
    x = x_data(T + 21)
    out = m.evaluate_batch(x, gen(4))
    logits, _ = m.encode(x[:, :, :T], gen(4))  # encoded once, then the graph sample
    assert torch.equal(out.logits, logits)
    cur, state, preds = x[:, :, T], None, []
    with torch.no_grad():
        for _ in range(20):
            cur, state = m.decoder.step(cur, out.z, state)
            preds.append(cur)
    sq = (torch.stack(preds, 2).double() - x[:, :, T + 1 : T + 21].double()).pow(2)
    assert torch.allclose(out.sq_err, sq.sum(dim=(0, 1, 3)))
    assert out.count == B * N * F and out.sq_err.shape == (20,)
    assert out.one_step_count == B * N * (T - 1) * F
    assert ((out.z == 0) | (out.z == 1)).all()
    with pytest.raises(ValueError, match="T >= 33"):
        m.evaluate_batch(x_data(T + 20), gen(0))


def test_shapes_ten_objects_three_types():
    m = small(n_edge_types=3, ri_eval_samples=2)
    x = torch.randn(B, 10, T, F)
    out = m.loss(x, gen(0))
    assert out.logits.shape == (B, 90, 3)
    m.eval()
    with torch.no_grad():
        v = m.validation_loss(x, gen(0))
    assert {"nll_1step", "mse_1step", "sym"} <= set(v.logs)


# ------------------------------------------------------------------------ presets
def test_presets_resolve_and_build():
    data_presets = {
        "mpm_springs5": ("mlp", "st", 100.0, 4, False),
        "mpm_springs10": ("mlp", "st", 100.0, 4, False),
        "mpm_charged5": ("cnn", "st", 100.0, 4, False),
        "mpm_charged10": ("cnn", "st", 100.0, 4, False),
        "mpm_kuramoto5": ("cnn", "st_attention", 1.0, 3, True),
        "mpm_kuramoto10": ("cnn", "st_attention", 1000.0, 3, True),
    }
    names = {n for n in preset_names() if n.startswith("mpm_")}
    assert names == set(data_presets) | set(ABLATIONS)
    for name, expected in data_presets.items():
        cfg = resolve([name], [])
        mc = cfg.model_config
        assert cfg.model == "nri_mpm" and cfg.data.suffix == name[4:]
        assert (mc.reducer, mc.decoder, mc.sym_lambda, mc.n_features) == expected[:4]
        assert mc.skip_first == expected[4]
    for name, (field, value) in ABLATIONS.items():
        cfg = resolve(["mpm_charged10", name], [])
        assert getattr(cfg.model_config, field) == value
        assert cfg.model_config.reducer == "cnn" and cfg.data.suffix == "charged10"
        model_cls, _ = MODELS[cfg.model]
        model = model_cls(dataclasses.replace(cfg.model_config, hidden_dim=8))
        assert isinstance(model, NRIMPM)


# ---------------------------------------------------------------- Lightning path
@pytest.mark.slow
def test_one_epoch_through_lightning(tmp_path, reference_dir):
    from nri.data.dataset import load_dataset
    from nri.evaluate import evaluate_run
    from nri.training.fit import fit

    cfg = resolve(
        ["mpm_springs5"],
        [
            "model.hidden_dim=16",
            "train.epochs=1",
            "train.n_train=64",
            "train.n_valid=32",
            "train.batch_size=32",
            "train.progress_bar=false",
            "train.threads=1",
        ],
    )
    data = load_dataset(reference_dir, "springs5")
    res = fit(cfg, tmp_path / "run", data=data)
    assert (res.run_dir / "checkpoints" / "best.ckpt").exists()
    metrics = evaluate_run(res.run_dir, data, write=False, batch_size=256)
    assert len(metrics["mse"]) == 20 and math.isfinite(metrics["mse_20"])
    assert 0 <= metrics["acc"] <= 1


def test_ri_output_mlp_adds_a_hidden_layer_and_is_used():
    lin, mlp = small(), small(ri_output="mlp")
    h, k = SMALL["hidden_dim"], 2
    extra = (2 * h * h + h + h * k + k) - (2 * h * k + k)
    assert n_params(mlp) - n_params(lin) == extra
    mlp.eval()
    out = mlp.encode(x_data(), gen()).logits
    assert out.shape == (B, E, 2)
    with torch.no_grad():
        mlp.encoder.fc_out[2].bias.add_(1.0)  # the last layer really feeds the logits
    assert torch.allclose(mlp.encode(x_data(), gen()).logits, out + 1.0, atol=1e-5)


def test_reference_orders_d3_are_not_reproducible_ours_are():
    ours, ref = small(), small(ri_orders_seeded=False)
    ours.eval(), ref.eval()
    x = x_data()
    with torch.no_grad():
        assert torch.equal(ours.encode(x, gen(3)).logits, ours.encode(x, gen(3)).logits)
        a, b = ref.encode(x, gen(3)).logits, ref.encode(x, gen(3)).logits
    assert not torch.equal(a, b)  # fresh OS-entropy orders at every call


def test_eval_encode_twice_d6_keeps_the_accuracy_logits_changes_the_graph():
    once, twice = small(), small(eval_encode_twice=True)
    twice.load_state_dict(once.state_dict())
    once.eval(), twice.eval()
    x = x_data(T + 1 + 20)
    a = once.evaluate_batch(x, gen(5))
    b = twice.evaluate_batch(x, gen(5))
    assert torch.equal(a.logits, b.logits)  # the first encoding gives the accuracy
    assert not torch.equal(a.z, b.z)  # the rollout graph comes from a second one
