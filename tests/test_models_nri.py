import dataclasses
import math

import numpy as np
import pytest
import torch

from nri import graph
from nri import rollout as ro
from nri.losses import gaussian_nll
from nri.metrics import EdgeMetrics
from nri.models import NRI, NRIConfig
from nri.nn.gumbel import gumbel_softmax
from nri.registry import MODELS

B, N, T, F = 2, 5, 12, 4
E = N * (N - 1)
SMALL = {"n_timesteps": T, "encoder_hidden_dim": 16, "decoder_hidden_dim": 16}


def small(**kw: object) -> NRI:
    torch.manual_seed(0)
    return NRI(NRIConfig(**{**SMALL, "pred_steps": 5, **kw}))


def x_data(t: int = T, seed: int = 0) -> torch.Tensor:
    return torch.randn(B, N, t, F, generator=torch.Generator().manual_seed(seed))


def test_registry_and_defaults() -> None:
    assert MODELS["nri"] == (NRI, NRIConfig)
    c = NRIConfig()
    assert (c.n_edge_types, c.tau, c.pred_steps, c.variance) == (2, 0.5, 10, 5e-5)
    assert (c.encoder, c.decoder, c.factor, c.hard, c.skip_first) == (
        "mlp",
        "mlp",
        True,
        False,
        False,
    )
    assert c.edge_to_node_norm == "n_in" and c.val_pred_steps == 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.tau = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"encoder": "gru"}, "encoder"),
        ({"prior": (0.5, 0.4)}, "prior"),
        ({"prior": (0.2, 0.3, 0.5)}, "prior"),
        ({"pred_steps": 49}, "pred_steps"),
        ({"skip_first": True, "n_edge_types": 1}, "skip_first"),
        ({"tau": 0.0}, "tau"),
        ({"encoder": "cnn", "n_timesteps": 10}, "n_timesteps >= 14"),
        ({"decoder_dropout": 1.0}, "decoder_dropout"),
        ({"n_edge_types": 0}, "n_edge_types"),
    ],
)
def test_config_validation(kw: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        NRIConfig(**kw)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"decoder": "rnn"},
        {"encoder": "cnn", "n_timesteps": 16},
        {"skip_first": True, "prior": (0.8, 0.2)},
        {"factor": False, "hard": True},
    ],
)
def test_loss_shapes_and_gradients_reach_every_parameter(kw: dict) -> None:
    model = small(**kw)
    x = x_data(model.config.n_timesteps)
    labels = torch.randint(0, 2, (B, E))
    out = model.loss(x, torch.Generator().manual_seed(0), labels)
    assert out.logits.shape == (B, E, 2) and out.loss.shape == ()
    assert set(out.logs) == {"nll", "kl", "mse", "acc"}
    torch.testing.assert_close(out.loss, out.logs["nll"] + out.logs["kl"])
    out.loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        if name.startswith("decoder.msg.") and model.config.skip_first:
            assert p.grad[0].abs().sum() == 0, name  # documented: type 0 unused
            assert p.grad[1].abs().sum() > 0, name
        else:
            assert p.grad.abs().sum() > 0, name


def test_loss_is_nll_plus_kl_with_the_sampled_graph() -> None:
    model = small(prior=(0.7, 0.3))
    x = x_data()
    out = model.loss(x, torch.Generator().manual_seed(3))
    logits, q = model.encode(x)
    z = gumbel_softmax(logits, 0.5, False, torch.Generator().manual_seed(3))
    pred = ro.rollout(model.decoder.step, x, z, 5)
    nll = gaussian_nll(pred, x[:, :, 1:], 5e-5)
    kl = (q * (torch.log(q + 1e-16) - torch.log(torch.tensor([0.7, 0.3])))).sum()
    torch.testing.assert_close(out.logs["nll"], nll)
    torch.testing.assert_close(out.logs["kl"], kl / (B * N))


def test_validation_loss_uses_hard_samples_and_val_pred_steps() -> None:
    model = small(val_pred_steps=5).eval()
    x = x_data()
    with torch.no_grad():
        out = model.validation_loss(x, torch.Generator().manual_seed(1))
        assert {"nll_1step", "mse_1step"} <= set(out.logs)
        z = gumbel_softmax(out.logits, 0.5, True, torch.Generator().manual_seed(1))
        assert set(z.unique().tolist()) == {0.0, 1.0}
        nll5 = gaussian_nll(model.predict(x, z, 5), x[:, :, 1:])
        nll1 = gaussian_nll(model.predict(x, z, 1), x[:, :, 1:])
    torch.testing.assert_close(out.logs["nll"], nll5)
    torch.testing.assert_close(out.logs["nll_1step"], nll1)
    ref = small(val_pred_steps=1).eval()  # Q4 reference: one-step validation only
    with torch.no_grad():
        out1 = ref.validation_loss(x, torch.Generator().manual_seed(1))
    assert "nll_1step" not in out1.logs
    torch.testing.assert_close(out1.logs["nll"], nll1)


def test_encoder_equivariance_in_eval_mode() -> None:
    model = small().double().eval()
    x = x_data().double()
    perm = torch.tensor([4, 2, 0, 3, 1])
    idx = graph.to_dense(torch.arange(E))
    eperm = graph.to_edges(idx[perm][:, perm])
    a = model.encode(x).logits
    b = model.encode(x[:, perm]).logits
    torch.testing.assert_close(b, a[:, eperm], rtol=0, atol=1e-10)


@pytest.mark.parametrize("decoder", ["mlp", "rnn"])
def test_evaluate_batch_follows_the_test_protocol(decoder: str) -> None:
    model = small(decoder=decoder, test_horizon=6).eval()
    x = x_data(2 * T + 1)  # like 99 = 2 * 49 + 1
    out = model.evaluate_batch(x, torch.Generator().manual_seed(4))
    logits = model.encode(x[:, :, :T]).logits
    torch.testing.assert_close(out.logits, logits)
    z = gumbel_softmax(logits, 0.5, True, torch.Generator().manual_seed(4))
    torch.testing.assert_close(out.z, z)
    with torch.no_grad():
        if decoder == "mlp":  # sees frame T only
            window = x[:, :, T : T + 7]
            pred = ro.rollout(model.decoder.step, window, z, 6)
        else:  # burn-in on frames 0 .. T, then free running
            pred = ro.rollout_sequential(model.decoder.step, x, z, burn_in_steps=T)
            pred = pred[:, :, T : T + 6]
    target = x[:, :, T + 1 : T + 7]
    sq = (pred.double() - target.double()).pow(2).sum(dim=(0, 1, 3))
    torch.testing.assert_close(out.sq_err, sq)
    assert out.count == B * N * F and out.sq_err.shape == (6,)
    last = x[:, :, -T:]
    with torch.no_grad():
        pred1 = model.predict(last, z, 1)
    torch.testing.assert_close(
        out.one_step_sq_err, (pred1.double() - last[:, :, 1:].double()).pow(2).sum()
    )
    assert out.one_step_count == B * N * (T - 1) * F
    with pytest.raises(ValueError, match="T >= 19"):
        model.evaluate_batch(x[:, :, :18])


def test_dynamic_graph_q14_reinfers_from_ground_truth_windows() -> None:
    with pytest.raises(ValueError, match="dynamic_graph"):
        NRIConfig(dynamic_graph=True)
    model = small(decoder="rnn", dynamic_graph=True, test_horizon=4).eval()
    x = x_data(2 * T + 1)
    out = model.evaluate_batch(x, torch.Generator().manual_seed(6))
    gen = torch.Generator().manual_seed(6)
    with torch.no_grad():
        z = gumbel_softmax(model.encode(x[:, :, :T]).logits, 0.5, True, gen)
        state, preds = None, []
        for s in range(T + 4):
            if s >= T:  # fresh hard sample from the window of ground truth [s-T, s)
                logits = model.encode(x[:, :, s - T : s]).logits
                z = gumbel_softmax(logits, 0.5, True, gen)
            y, state = model.decoder.step(x[:, :, s] if s <= T else preds[-1], z, state)
            preds.append(y)
    pred = torch.stack(preds[T:], 2)
    sq = (pred.double() - x[:, :, T + 1 : T + 5].double()).pow(2).sum(dim=(0, 1, 3))
    torch.testing.assert_close(out.sq_err, sq)
    static = small(decoder="rnn", test_horizon=4).eval()
    ref = static.evaluate_batch(x, torch.Generator().manual_seed(6))
    assert not torch.allclose(ref.sq_err[1:], out.sq_err[1:])


def test_eval_graph_argmax_is_deterministic() -> None:
    model = small(eval_graph="argmax").eval()
    x = x_data(35)
    a = model.evaluate_batch(x, torch.Generator().manual_seed(0))
    b = model.evaluate_batch(x, torch.Generator().manual_seed(1))
    assert torch.equal(a.z, b.z) and torch.equal(a.sq_err, b.sq_err)
    assert torch.equal(a.z.argmax(-1), a.logits.argmax(-1))


def test_forecast_shapes() -> None:
    for decoder in ("mlp", "rnn"):
        model = small(decoder=decoder)
        z = torch.softmax(torch.randn(B, E, 2), -1)
        assert model.forecast(x_data(), z, 7).shape == (B, N, 7, F)


def test_bf16_autocast_loss_is_float32_and_close() -> None:
    for decoder in ("mlp", "rnn"):
        model = small(decoder=decoder)
        x = x_data()
        ref = model.loss(x, torch.Generator().manual_seed(0)).loss
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model.loss(x, torch.Generator().manual_seed(0))
        assert out.loss.dtype == torch.float32 and torch.isfinite(out.loss)
        assert abs(out.loss.item() - ref.item()) < 0.05 * abs(ref.item())
        out.loss.backward()


def _springs(n_sims: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A tiny 2-d springs toy: random symmetric springs, semi-implicit Euler, a box."""
    n, frames, sub, dt, k = 5, 20, 50, 0.002, 2.0
    adj = np.triu((rng.random((n_sims, n, n)) < 0.5).astype(float), 1)
    adj = adj + adj.transpose(0, 2, 1)  # [S, N, N], [receiver, sender]
    pos = rng.normal(0, 0.5, (n_sims, n, 2))
    vel = rng.normal(0, 0.5, (n_sims, n, 2))
    out = []
    for t in range(frames * sub):
        if t % sub == 0:
            out.append(np.concatenate([pos, vel], -1))
        diff = pos[:, :, None] - pos[:, None]  # [S, N, N, 2] x_i - x_j
        vel = vel - dt * k * (adj[..., None] * diff).sum(2)
        pos = pos + dt * vel
        over = np.abs(pos) > 2.0  # reflect at the walls of [-2, 2]^2
        vel = np.where(over, -vel, vel)
        pos = np.where(over, np.sign(pos) * 4.0 - pos, pos)
    x = np.stack(out, 2)  # [S, N, T, 4]
    x = x / np.abs(x).reshape(-1, 4).max(0)
    return x.astype(np.float32), graph.to_edges_np(adj).astype(np.int64)


@pytest.mark.slow
def test_training_on_a_springs_toy_recovers_the_graph() -> None:
    x, y = map(torch.from_numpy, _springs(600, np.random.default_rng(0)))
    n_train = 500
    torch.manual_seed(0)
    cfg = NRIConfig(
        n_timesteps=20, encoder_hidden_dim=64, decoder_hidden_dim=64, skip_first=True
    )
    model = NRI(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: one thread is as fast, and robust to load
    try:
        for _ in range(250):
            idx = torch.randint(0, n_train, (32,), generator=gen)
            out = model.loss(x[idx], gen)
            opt.zero_grad()
            out.loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    metrics = EdgeMetrics(2, skip_first=True)
    with torch.no_grad():
        metrics.update(model.encode(x[n_train:]).logits, y[n_train:])
    result = metrics.compute()
    assert abs(y.float().mean() - 0.5) < 0.05  # chance is about 0.5
    assert result["acc_perm"] > 0.7, result
    assert result["auroc"] > 0.75, result
    assert math.isfinite(out.loss.item())
