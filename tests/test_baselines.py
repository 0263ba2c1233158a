"""Baselines (spec/evaluation.md 3): correlation, static, joint LSTM, SUGAR-like NRI,
NRI's supervised / true-graph variants, their presets, and the run directory and
metrics of `nri train` / `nri evaluate` for each."""

import dataclasses
import json
import math

import pytest
import torch
import torch.nn.functional as F_

from nri import graph
from nri.baselines import (
    SUGAR,
    CapabilityError,
    Correlation,
    CorrelationConfig,
    JointLSTM,
    LSTMConfig,
    NRISupervised,
    NRITrueGraph,
    Static,
    StaticConfig,
    SUGARConfig,
)
from nri.baselines.correlation import fit_threshold, pair_correlation
from nri.baselines.sugar import (
    binomial_pmf,
    degree_distribution,
    degree_kl,
    symmetrise,
)
from nri.config import resolve
from nri.data.dataset import Split, load_dataset
from nri.evaluate import evaluate_run, format_metrics
from nri.losses import gaussian_nll
from nri.models import NRI, NRIConfig
from nri.registry import MODELS
from nri.training.checkpoint import safe_load
from nri.training.fit import fit, load_run

SUFFIXES = ("springs5", "charged5", "kuramoto5", "springs10", "charged10", "kuramoto10")
METRIC_KEYS = {"acc", "acc_perm", "perm_mapping", "auroc", "asym", "mse", "mse_1",
               "mse_10", "mse_20", "mse_1step", "n_samples", "split"}  # fmt: skip
QUIET = ["train.progress_bar=false", "train.threads=1"]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def springs(reference_dir):
    return load_dataset(reference_dir, "springs5")


# ------------------------------------------------------------------ correlation
def test_pair_correlation_hand_made_case():
    # 3 objects, 4 frames, 1 feature: 1 is 0 scaled (rho 1), 2 alternates
    x = torch.tensor([[1.0, 2, 3, 4], [2.0, 4, 6, 8], [1.0, -1, 1, -1]])
    x = x[None, :, :, None]  # [1, 3, 4, 1]
    r02 = -2 / (2 * math.sqrt(5))  # centred dot -2, norms sqrt(5) and 2
    # edge order (receiver, sender): (0,1) (0,2) (1,0) (1,2) (2,0) (2,1)
    expected = torch.tensor([[1.0, r02, 1.0, r02, r02, r02]], dtype=torch.float64)
    assert torch.allclose(pair_correlation(x, absolute=False), expected)
    assert torch.allclose(pair_correlation(x), expected.abs())
    # constant trajectories have no correlation: score 0, not NaN
    flat = torch.ones(1, 3, 4, 1)
    assert torch.equal(pair_correlation(flat), torch.zeros(1, 6, dtype=torch.float64))


def test_pair_correlation_flattens_frames_and_features_like_corrcoef():
    x = torch.randn(2, 4, 6, 3, generator=gen(1))
    scores = pair_correlation(x, absolute=False)  # [2, 12]
    for b in range(2):
        rho = torch.corrcoef(x[b].reshape(4, -1).double())  # [N, N]
        assert torch.allclose(scores[b], graph.to_edges(rho[None])[0])


def test_pair_correlation_is_node_permutation_equivariant():
    x = torch.randn(2, 5, 7, 4, generator=gen(2))
    perm = torch.tensor([3, 0, 4, 1, 2])
    dense = graph.to_dense(pair_correlation(x))  # [B, N, N]
    dense_p = graph.to_dense(pair_correlation(x[:, perm]))
    assert torch.allclose(dense_p, dense[:, perm][:, :, perm])


def test_fit_threshold_hand_made_cases():
    s = torch.tensor([0.1, 0.4, 0.2, 0.3])
    fit = fit_threshold(s, torch.tensor([0, 1, 0, 1]))
    assert fit == pytest.approx((0.25, True, 1.0))
    fit = fit_threshold(s, torch.tensor([1, 0, 1, 0]))  # flipped: below -> 1
    assert fit == pytest.approx((0.25, False, 1.0))
    # one error is unavoidable; the cut is the first best one (0.15), labels -1 skipped
    fit = fit_threshold(
        torch.tensor([0.1, 0.2, 0.3, 0.4, 0.9]), torch.tensor([0, 1, 0, 1, -1])
    )
    assert fit == pytest.approx((0.15, True, 0.75))
    # equal scores cannot be split: all 1 (threshold below every score) is best
    fit = fit_threshold(torch.full((3,), 0.5), torch.tensor([0, 1, 1]))
    assert fit == pytest.approx((-0.5, True, 2 / 3))
    with pytest.raises(ValueError, match="labelled edge"):
        fit_threshold(torch.zeros(2), torch.tensor([-1, -1]))


def _split_with_cut(cut: float, n: int = 60, seed: int = 0) -> Split:
    """Random trajectories labelled 1 where |rho| > cut (a known best threshold)."""
    x = torch.randn(n, 3, 8, 2, generator=gen(seed))
    edges = (pair_correlation(x) > cut).long()
    return Split(x, edges)


def test_correlation_threshold_is_fitted_on_the_training_split_only():
    train, valid = _split_with_cut(0.2), _split_with_cut(0.5, seed=1)
    m = Correlation(CorrelationConfig(n_features=2, n_timesteps=8))
    logs = m.fit_splits(train, valid)
    thr = float(m.threshold)
    assert logs["train/acc"] == 1.0 and logs["fit/above_is_one"] == 1.0
    scores = pair_correlation(train.x).flatten()
    assert scores[scores <= 0.2].max() < thr < scores[scores > 0.2].min()
    assert logs["val/acc"] < 1.0  # valid has another cut: not fitted on it
    # other validation data: the same threshold; other training data: another one
    m.fit_splits(train, _split_with_cut(0.8, seed=2))
    assert float(m.threshold) == thr
    m.fit_splits(_split_with_cut(0.6, seed=3), valid)
    assert abs(float(m.threshold) - 0.6) < 0.1
    # the spec's variant fits on the validation split
    mv = Correlation(CorrelationConfig(n_features=2, n_timesteps=8, fit_split="valid"))
    assert mv.fit_splits(train, valid)["val/acc"] == 1.0
    assert abs(float(mv.threshold) - 0.5) < 0.1


def test_correlation_logits_predict_and_rank_by_score():
    train = _split_with_cut(0.3)
    m = Correlation(CorrelationConfig(n_features=2, n_timesteps=8))
    with pytest.raises(CapabilityError, match="not been fitted"):
        m.encode(train.x)
    m.fit_splits(train, train)
    x = torch.randn(4, 3, 30, 2, generator=gen(5))
    logits, q = m.encode(x)
    score = pair_correlation(x[:, :, :8])  # only frames 0 .. T-1
    assert torch.equal(logits.argmax(-1), (score > m.threshold).long())
    assert torch.equal(q[..., 1].argsort(), score.float().argsort())  # monotone
    ev = m.evaluate_batch(x)
    assert torch.equal(ev.z.argmax(-1), logits.argmax(-1))
    assert torch.isnan(ev.sq_err).all() and math.isnan(ev.one_step_sq_err)
    with pytest.raises(CapabilityError, match="relations only"):
        m.forecast(x, ev.z, 3)


# -------------------------------------------------------- static and LSTM on a toy
def constant_velocity(n: int, frames: int, seed: int = 0, dt: float = 0.05):
    """Two objects moving at constant velocity v: positions p0 + v dt t, features
    (x, y, vx, vy) inside [-1.5, 1.5] for 40 frames. Shapes: -> [S, 2, T, 4]."""
    g = gen(seed)
    p0 = torch.rand(n, 2, 1, 2, generator=g) - 0.5
    v = torch.rand(n, 2, 1, 2, generator=g) - 0.5
    t = torch.arange(frames, dtype=torch.float32)[None, None, :, None]
    pos = p0 + v * dt * t  # [S, 2, T, 2]
    return torch.cat([pos, v.expand_as(pos)], dim=-1)


def test_static_is_exact_for_constant_trajectories_and_hand_computed_otherwise():
    m = Static(StaticConfig(n_timesteps=10, test_horizon=5))
    still = torch.randn(3, 2, 1, 4, generator=gen(0)).expand(-1, -1, 16, -1)
    ev = m.evaluate_batch(still)
    assert torch.equal(ev.sq_err, torch.zeros(5, dtype=torch.float64))
    assert ev.logits is None and ev.z is None and float(ev.one_step_sq_err) == 0.0
    x = constant_velocity(3, frames=16)
    ev = m.evaluate_batch(x)
    v2 = x[:, :, 0, 2:].double().pow(2).sum()  # sum over samples, objects of |v|^2
    h = torch.arange(1, 6, dtype=torch.float64)
    assert torch.allclose(ev.sq_err, (h * 0.05) ** 2 * v2)  # positions drift: h v dt
    assert ev.count == 3 * 2 * 4
    p = m.predict(x, None, pred_steps=3)  # frame j+1 <- ground truth 3 * (j // 3)
    assert torch.equal(p[:, :, 4], x[:, :, 3]) and torch.equal(p[:, :, 2], x[:, :, 0])
    with pytest.raises(CapabilityError):
        m.encode(x)


def test_lstm_size_burn_in_and_test_protocol():
    assert sum(p.numel() for p in JointLSTM(LSTMConfig()).parameters()) == 27_967_252
    torch.manual_seed(0)
    c = LSTMConfig(n_objects=3, hidden_dim=8, n_timesteps=10, pred_steps=4,
                   val_pred_steps=4, test_horizon=6)  # fmt: skip
    m = JointLSTM(c).eval()
    x = torch.randn(2, 3, 10, 4, generator=gen(0))
    pred = m.predict(x, None, 4)  # truth at steps 0..6, own outputs at 7, 8
    assert pred.shape == (2, 3, 9, 4)
    x2 = x.clone()
    x2[:, :, 7:9] += 1.0  # frames replaced by the model's own predictions
    assert torch.equal(m.predict(x2, None, 4), pred)
    x2[:, :, 6] += 1.0  # the last burn-in frame is read
    assert not torch.equal(m.predict(x2, None, 4)[:, :, 6:], pred[:, :, 6:])
    # test: burn-in on frames 0..T, predictions of T+1..T+H, nothing later is read
    long = torch.randn(2, 3, 20, 4, generator=gen(1))
    ev = m.evaluate_batch(long)
    fc = m.forecast(long[:, :, :11], None, 6)  # [B, N, 6, F]
    sq = (fc - long[:, :, 11:17]).double().pow(2).sum((0, 1, 3))
    assert torch.allclose(ev.sq_err, sq)
    assert ev.logits is None and ev.z is None
    with pytest.raises(ValueError, match="N=3"):
        m.predict(torch.randn(2, 4, 10, 4), None, 1)
    out = m.loss(x)
    out.loss.backward()
    assert out.logits is None and set(out.logs) == {"nll", "mse"}
    assert all(p.grad is not None for p in m.parameters())
    nll = gaussian_nll(pred, x[:, :, 1:]).item()
    assert out.loss.item() == pytest.approx(nll, 1e-5)


def test_lstm_learns_linear_motion_static_does_not():
    torch.manual_seed(0)
    c = LSTMConfig(n_objects=2, hidden_dim=16, n_timesteps=6, pred_steps=2,
                   val_pred_steps=2, test_horizon=20)  # fmt: skip
    m = JointLSTM(c)
    train = constant_velocity(64, frames=27)  # 6-frame windows at random offsets
    offsets = torch.randint(0, 22, (200,), generator=gen(5)).tolist()
    opt = torch.optim.Adam(m.parameters(), lr=2e-2)
    for off in offsets:
        opt.zero_grad()
        m.loss(train[:, :, off : off + 6]).loss.backward()
        opt.step()
    test = constant_velocity(32, frames=27, seed=1)
    lstm = m.eval().evaluate_batch(test)
    static = Static(StaticConfig(n_timesteps=6, test_horizon=20)).evaluate_batch(test)
    ratio = (lstm.sq_err / lstm.count) / (static.sq_err / static.count)  # [H]
    assert (ratio < 0.1).all(), ratio  # static's error grows as h^2 v^2 dt^2


# ------------------------------------------------------------------------- SUGAR
def test_degree_distribution_and_binomial_prior_by_hand():
    p = torch.tensor([[[0.5, 0.5], [1.0, 0.0], [0.2, 0.7]]])  # [1, 3, 2]
    d = degree_distribution(p)
    expected = [
        [0.25, 0.5, 0.25],
        [0.0, 1.0, 0.0],
        [0.8 * 0.3, 0.2 * 0.3 + 0.8 * 0.7, 0.14],
    ]
    assert torch.allclose(d[0], torch.tensor(expected))
    assert torch.allclose(
        binomial_pmf(3, 0.5), torch.tensor([1, 3, 3, 1.0]).double() / 8
    )
    n, e = 4, 12
    half = torch.full((2, e, 2), 0.5)  # every node Binomial(3, 0.5): KL 0
    assert degree_kl(half, 0.5).item() == pytest.approx(0.0, abs=1e-6)
    empty = torch.tensor([1.0, 0.0]).expand(2, e, 2)  # every degree 0: KL = log 8
    assert degree_kl(empty, 0.5).item() == pytest.approx(math.log(8), rel=1e-5)
    assert n * (n - 1) == e


def _sugar(**kw) -> SUGAR:
    torch.manual_seed(0)
    small = {"n_timesteps": 12, "encoder_hidden_dim": 16, "decoder_hidden_dim": 16,
             "pred_steps": 5, "val_pred_steps": 5}  # fmt: skip
    return SUGAR(SUGARConfig(**{**small, **kw}))


def test_sugar_hard_symmetry_and_degree_term():
    m = _sugar()
    x = torch.randn(2, 5, 12, 4, generator=gen(0))
    rev = graph.reverse_index(5)
    logits, q = m.encode(x)
    assert torch.equal(logits, logits[:, rev]) and torch.equal(q, q[:, rev])
    z = m.sample_edges(logits, hard=True, generator=gen(1))
    assert torch.equal(z, z[:, rev])  # z_ij = z_ji: one sample per pair
    v = torch.arange(2 * 20.0).reshape(1, 20, 2)
    s = symmetrise(v)
    send, recv = graph.fully_connected(5)
    upper = recv > send
    assert torch.equal(s[:, upper], v[:, upper]) and torch.equal(s, s[:, rev])
    # the loss is NRI's plus degree_lambda * degree (same weights, same noise)
    out = m.loss(x, gen(2))
    plain = _sugar(degree_lambda=0.0)
    base = plain.loss(x, gen(2))
    deg = degree_kl(torch.softmax(out.logits, -1), 0.5)
    assert out.loss.item() == pytest.approx(base.loss.item() + deg.item(), rel=1e-5)
    assert out.logs["degree"].item() == pytest.approx(deg.item())
    out.loss.backward()
    assert all(p.grad is not None for p in m.encoder.parameters())
    # without hard symmetry and prior it is NRI exactly
    nri = NRI(NRIConfig(**{k: getattr(plain.config, k) for k in
                           ("n_timesteps", "encoder_hidden_dim", "decoder_hidden_dim",
                            "pred_steps", "val_pred_steps")}))  # fmt: skip
    nri.load_state_dict(plain.state_dict())
    free = _sugar(hard_sym=False, degree_lambda=0.0)
    assert free.loss(x, gen(3)).loss.item() == nri.loss(x, gen(3)).loss.item()
    with pytest.raises(ValueError, match="degree_prior_p"):
        SUGARConfig(degree_prior_p=1.0)


# ------------------------------------------------------- NRI supervised / true graph
def test_nri_supervised_and_true_graph_variants():
    small = NRIConfig(n_timesteps=12, encoder_hidden_dim=16, decoder_hidden_dim=16,
                      pred_steps=5, val_pred_steps=5)  # fmt: skip
    x = torch.randn(2, 5, 12, 4, generator=gen(0))
    lab = torch.randint(0, 2, (2, 20), generator=gen(1))
    sup = NRISupervised(small)
    assert sup.decoder is None and sup.selection_metric() == ("val/acc", "max")
    out = sup.loss(x, edge_types=lab)
    ce = F_.cross_entropy(out.logits.reshape(-1, 2), lab.reshape(-1))  # on logits
    assert out.loss.item() == pytest.approx(ce.item())
    ev = sup.eval().evaluate_batch(torch.randn(2, 5, 40, 4), edge_types=lab)
    assert torch.isnan(ev.sq_err).all() and ev.logits.shape == (2, 20, 2)
    with pytest.raises(ValueError, match="edge_types"):
        sup.loss(x)
    tg = NRITrueGraph(small)
    assert tg.encoder is None
    out = tg.loss(x, edge_types=lab)
    pred = tg.predict(x, F_.one_hot(lab, 2).float(), 5)
    assert out.loss.item() == pytest.approx(gaussian_nll(pred, x[:, :, 1:]).item())
    ev = tg.eval().evaluate_batch(torch.randn(2, 5, 40, 4), edge_types=lab)
    assert ev.logits is None and torch.isfinite(ev.sq_err).all()
    with pytest.raises(CapabilityError):
        tg.encode(x)


def test_mpm_schemes_supervised_without_mse_true_graph_without_edges():
    from nri.models import NRIMPM, MPMConfig

    small = {"n_timesteps": 12, "hidden_dim": 8, "pred_steps": 5, "val_pred_steps": 5}
    x = torch.randn(2, 5, 40, 4, generator=gen(0))
    lab = torch.randint(0, 2, (2, 20), generator=gen(1))
    torch.manual_seed(0)
    sup = NRIMPM(MPMConfig(scheme="supervised", **small)).eval()
    out = sup.loss(x[:, :, :12], gen(2), lab)
    ce = F_.cross_entropy(
        out.logits.reshape(-1, 2), lab.reshape(-1)
    )  # no double softmax
    assert out.loss.item() == pytest.approx(ce.item(), rel=1e-6)
    ev = sup.evaluate_batch(x, gen(2), lab)
    assert ev.logits.shape == (2, 20, 2) and torch.isnan(ev.sq_err).all()
    tg = NRIMPM(MPMConfig(scheme="true_graph", **small)).eval()
    ev = tg.evaluate_batch(x, gen(2), lab)
    assert ev.logits is None and torch.isfinite(ev.sq_err).all()
    assert torch.equal(ev.z, F_.one_hot(lab, 2).float())


# ----------------------------------------------------------------------- presets
def test_baseline_presets_resolve_for_every_data_set():
    for s in SUFFIXES:
        mpm = resolve([f"mpm_{s}"], []).model_config
        nri = resolve([s], []).model_config
        f = 3 if s.startswith("kuramoto") else 4
        n = int(s[-2:]) if s.endswith("10") else 5
        for method, model in (("correlation", "correlation"), ("static", "static"),
                              ("lstm", "lstm"), ("sugar", "sugar"),
                              ("supervised", "nri_mpm"), ("true_graph", "nri_mpm")):  # fmt: skip
            cfg = resolve([f"{method}_{s}"], [])
            assert (cfg.model, cfg.data.suffix) == (model, s), method
            assert cfg.model_config.n_features == f
        assert resolve([f"lstm_{s}"], []).model_config.n_objects == n
        sup = resolve([f"supervised_{s}"], []).model_config
        assert sup.scheme == "supervised" and not sup.supervised_double_softmax
        assert sup.reducer == mpm.reducer
        tg = resolve([f"true_graph_{s}"], []).model_config
        assert tg.scheme == "true_graph"
        assert (tg.decoder, tg.skip_first) == (mpm.decoder, mpm.skip_first)
        sg = resolve([f"sugar_{s}"], []).model_config
        assert sg.hard_sym and sg.degree_lambda > 0
        # SUGAR = NRI's preset + its parts: the degree prior and hard symmetry
        common = {f.name for f in dataclasses.fields(NRIConfig)} - {
            "priors",
            "hard_sym",
        }
        assert {k: getattr(sg, k) for k in common} == {
            k: v for k, v in dataclasses.asdict(nri).items() if k in common
        }
    cfg = resolve(["charged5", "nri_supervised"], [])
    assert MODELS[cfg.model][0] is NRISupervised


# ------------------------------------------------------------- train / evaluate
def test_closed_form_runs_train_and_evaluate_like_any_model(tmp_path, springs, capsys):
    from nri.cli import main

    run = tmp_path / "corr"
    data = str(springs.source)
    assert main(["train", "--preset", "correlation_springs5", "--data", data,
                 "--out", str(run)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "MSE 1 step" in out and "n/a" in out
    ckpt = safe_load(run / "checkpoints" / "best.ckpt")  # weights_only
    loaded = load_run(run)
    assert float(loaded.model.threshold) == float(ckpt["state_dict"]["model.threshold"])
    assert (run / "checkpoints" / "last.ckpt").exists()
    assert (run / "logs" / "metrics.csv").read_text().startswith("epoch,step,")
    assert main(["evaluate", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    assert 0.0 <= metrics["acc"] <= 1.0
    assert metrics["mse_1"] is None  # strict JSON: null, not NaN
    # static: MSE by hand, no edge metrics
    cfg = resolve(["static_springs5"], [*QUIET])
    res = fit(cfg, tmp_path / "static", data=springs)
    v = springs.valid.x.double()
    assert res.monitor == "val/mse_1step"
    assert res.best_score == pytest.approx(
        float((v[:, :, 1:] - v[:, :, :-1]).pow(2).mean())
    )
    m = evaluate_run(res.run_dir, springs, write=False)
    assert METRIC_KEYS <= set(m)
    x = springs.test.x
    by_hand = (x[:, :, 50:70].double() - x[:, :, 49:50].double()).pow(2).mean((0, 1, 3))
    assert m["mse"] == pytest.approx(by_hand.tolist(), rel=1e-9)
    assert math.isnan(m["acc"]) and math.isnan(m["auroc"])
    text = format_metrics(m)
    assert "n/a" in text and "nan" not in text


def test_lstm_trains_and_evaluates_through_lightning(tmp_path, springs):
    cfg = resolve(["lstm_springs5"], [*QUIET, "model.hidden_dim=8", "train.epochs=1",
                  "train.n_train=64", "train.n_valid=32", "train.batch_size=32"])  # fmt: skip
    res = fit(cfg, tmp_path / "lstm", data=springs)
    assert res.monitor == "val/nll" and math.isfinite(res.best_score)
    m = evaluate_run(res.run_dir, springs, write=False)
    assert all(math.isfinite(v) for v in m["mse"]) and math.isnan(m["acc"])
    with pytest.raises(ValueError, match="model.n_objects=5"):
        fit(resolve(["lstm_springs10"], QUIET), tmp_path / "bad", data=springs)
