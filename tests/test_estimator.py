"""The estimator API (nri.NRI / nri.NRIMPM / nri.Model, nri.load): fit on a tiny set,
infer, forecast, save, load; the same outputs as the CLI's code paths; units; resume;
one-line refusals."""

import numpy as np
import pytest
import torch

import nri
from nri.config import ConfigError
from nri.data.errors import DataError
from nri.estimator import NRI, Model
from nri.forecast import forecast_trajectories
from nri.infer import infer_edges
from nri.sim.springs import SpringsConfig, simulate_springs
from nri.training.run_dir import RunError

S, N, T, F = 24, 3, 12, 4
TINY = dict(
    epochs=1, batch_size=8, encoder_hidden_dim=16, decoder_hidden_dim=16,
    skip_first=True, progress_bar=False, threads=1, seed=3,
)  # fmt: skip


def springs(n_samples: int = S, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Springs ``[S, N, T, F]`` in centimetres around 10 m, and the relations."""
    res = simulate_springs(
        SpringsConfig(n_objects=N), n_sims=n_samples, n_steps=(T + 1) * 100,
        rng=np.random.default_rng(seed),
    )  # fmt: skip
    x = np.concatenate([res.loc, res.vel], axis=2).transpose(0, 3, 1, 2) * 100.0
    x[..., :2] += 1000.0
    return x, res.edges


@pytest.fixture(scope="module")
def data():
    return springs()


@pytest.fixture(scope="module")
def fitted(data):
    x, adj = data
    return NRI(**TINY).fit(x, edges=adj)


def test_round_trip(fitted, data, tmp_path):
    x, _ = data
    g = fitted.infer(x)
    assert g.shape == (S, N, N, 2) and g.dtype == np.float64
    off = ~np.eye(N, dtype=bool)
    assert np.allclose(g.sum(-1)[:, off], 1.0) and (g[:, ~off] == 0).all()
    agg = fitted.infer(x, aggregate=True)
    assert agg.shape == (N, N) and np.allclose(agg[off], 1 - g[:, off, 0].mean(0))
    assert np.allclose(
        fitted.infer(x, aggregate=True, edge_type=0)[off], g[:, off, 0].mean(0)
    )
    y = fitted.forecast(x, steps=5)
    assert y.shape == (S, N, 5, F)
    # torch input, any float type: the same numbers
    assert np.allclose(fitted.infer(torch.from_numpy(x).float()), g, atol=1e-5)
    path = fitted.save(tmp_path / "saved")
    for name in ("config.yaml", "normalizer.json", "checkpoints/best.ckpt"):
        assert (path / name).exists()
    again = nri.load(path)
    assert type(again) is NRI and again.run_dir_ == path
    assert np.array_equal(again.infer(x), g)
    assert np.array_equal(again.forecast(x, steps=5), y)
    with pytest.raises(RunError, match="not empty"):
        fitted.save(path)
    refit = nri.load(path).fit(x, edges=data[1])  # the run's settings, trained again
    assert refit.run_.config.model_config == fitted.run_.config.model_config
    assert np.allclose(refit.infer(x), g)  # same seed, same data: same weights


def test_a_sample_is_the_mean_of_its_windows(fitted, data):
    x, _ = data
    w = fitted.run_.config.model_config.n_timesteps  # 8
    long = np.concatenate([x[:3, :, :w], x[3:6, :, :w], x[:3, :, :2]], axis=2)
    g = fitted.infer(long)  # frames 0..7 and 8..15 (the last 2 frames unread)
    both = (fitted.infer(x[:3, :, :w]) + fitted.infer(x[3:6, :, :w])) / 2
    assert np.allclose(g, both)


def test_same_numbers_as_the_cli_paths(fitted, data, tmp_path):
    """infer = nri infer's infer_edges, forecast = nri forecast's, on a file of X."""
    x, _ = data
    np.save(tmp_path / "x.npy", x)
    res = infer_edges(fitted.run_dir_, tmp_path / "x.npy")
    g = fitted.infer(x)
    assert np.allclose(g[:, res.recv, res.send], res.probs)  # one window per sample
    fc = forecast_trajectories(fitted.run_dir_, tmp_path / "x.npy", n_steps=4)
    assert np.allclose(fitted.forecast(x, steps=4), fc.pred)


def test_forecast_in_the_units_of_x(fitted, data):
    """Min/max normalisation fitted on the training data: the same fit on
    ``a x + b`` forecasts ``a y + b`` and infers the same graph."""
    x, adj = data
    a, b = 3.0, -250.0
    other = NRI(**TINY).fit(a * x + b, edges=adj)
    assert np.allclose(other.infer(a * x + b), fitted.infer(x), atol=1e-4)
    y = fitted.forecast(x, steps=3)
    assert np.allclose(
        other.forecast(a * x + b, steps=3), a * y + b, rtol=1e-4, atol=1e-2
    )
    assert np.abs(y[..., :2] - 1000.0).max() < 1000.0  # around the data, not in [-1, 1]


def test_a_run_of_nri_train_loads(data, tmp_path, capsys):
    from nri.cli import main

    x, adj = data
    np.savez(tmp_path / "own.npz", x=x, edges=adj)
    assert main(["import", str(tmp_path / "own.npz"), "--out", str(tmp_path / "d"),
                 "--name", "own"]) == 0  # fmt: skip
    argv = [
        "train",
        "--preset",
        "cpu",
        "--data",
        str(tmp_path / "d"),
        "--out",
        str(tmp_path / "run"),
        "--epochs",
        "1",
        "--set",
        "data.suffix=own",
    ]
    for key, value in (
        ("n_timesteps", 8),
        ("test_horizon", 3),
        ("pred_steps", 7),
        ("val_pred_steps", 7),
        ("encoder_hidden_dim", 16),
        ("decoder_hidden_dim", 16),
        ("skip_first", "true"),
    ):
        argv += ["--set", f"model.{key}={value}"]
    argv += ["--set", "train.progress_bar=false", "--set", "train.threads=1"]
    assert main(argv) == 0  # fmt: skip
    model = nri.load(tmp_path / "run")
    assert type(model) is NRI
    res = infer_edges(tmp_path / "run", tmp_path / "own.npz")  # nri infer's path
    g = model.infer(x)
    assert np.allclose(g[:, res.recv, res.send], res.probs)  # T=12, W=8: one window
    assert model.forecast(x, steps=2).shape == (S, N, 2, F)


def test_resume_and_a_run_dir(data, tmp_path):
    x, adj = data
    run = tmp_path / "r"
    NRI(**TINY).fit(x, edges=adj, run_dir=run)
    with pytest.raises(RunError, match="already holds a run"):
        NRI(**TINY).fit(x, edges=adj, run_dir=run)
    longer = NRI(**{**TINY, "epochs": 2}).fit(x, edges=adj, run_dir=run, resume=True)
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["epoch"] == 1 and longer.run_dir_ == run  # epochs 0 and 1 done
    with pytest.raises(RunError, match=r"cannot resume .*model\.lr"):
        NRI(**{**TINY, "lr": 1e-2}).fit(x, edges=adj, run_dir=run, resume=True)


def test_nrimpm_and_parts_by_keyword(data):
    x, _ = data
    mpm = nri.NRIMPM(epochs=1, batch_size=8, hidden_dim=8, progress_bar=False,
                     threads=1).fit(x[:12])  # fmt: skip
    assert mpm.run_.config.model == "nri_mpm"
    assert mpm.infer(x[:2]).shape == (2, N, N, 2)
    rnn = Model(decoder="rnn", **TINY).fit(x[:12])
    assert rnn.run_.config.model_config.decoder == "rnn"
    assert type(nri.load(rnn.run_dir_)) is NRI
    # a paper preset (49-frame window) on 12-frame samples: nri import's lengths
    paper = NRI(preset="springs5", **TINY).fit(x[:12])
    mc = paper.run_.config.model_config
    assert (mc.n_timesteps, mc.pred_steps, mc.test_horizon) == (8, 7, 3)
    with pytest.raises(ConfigError, match="n_timesteps"):
        NRI(n_timesteps=40, **TINY).fit(x[:12])  # given: not refilled, refused


def test_refusals(fitted, data):
    x, _ = data
    with pytest.raises(ConfigError, match="unknown setting 'learning_rate'"):
        NRI(learning_rate=1e-3)
    with pytest.raises(ConfigError, match="model.lr must be a number"):
        NRI(lr="fast")
    with pytest.raises(ConfigError, match="describe a 'nri_mpm' model"):
        NRI(preset="mpm_springs5")
    with pytest.raises(RunError, match="not fitted"):
        NRI().infer(x)
    with pytest.raises(DataError, match="expected 4 axes"):
        fitted.infer(x[0])
    bad = x.copy()
    bad[1, 2, 3, 0] = np.nan
    with pytest.raises(DataError, match="NaN.*sample 1, object 2, time 3"):
        fitted.forecast(bad)
    with pytest.raises(DataError, match="has 3 features per object but the run"):
        fitted.infer(x[..., :3])
    with pytest.raises(DataError, match="frames per sample"):
        fitted.infer(x[:, :, :4])
    with pytest.raises(DataError, match="1 sample"):
        NRI(**TINY).fit(x[:1])
    for err in (DataError, ConfigError, RunError):
        assert issubclass(err, ValueError)


def test_names_given_in_python_match_new_data_by_name(data):
    """fit(feature_names=, object_names=) saves the names; infer/forecast given names
    put X into the run's order (features and objects permuted give the permuted
    answer), other names are refused, and X without names gives a notice whose fix
    can be followed from Python."""
    from nri.errors import DataNotice

    x, adj = data
    feats, objs = ["x", "y", "vx", "vy"], ["a", "b", "c"]
    model = NRI(**TINY).fit(x, edges=adj, feature_names=feats, object_names=objs)
    g = model.infer(x, feature_names=feats, object_names=objs)
    fp, op = [2, 0, 3, 1], [2, 0, 1]  # a relabelling of the features and objects
    xp = x[:, op][..., fp]
    gp = model.infer(
        xp, feature_names=[feats[i] for i in fp], object_names=[objs[i] for i in op]
    )
    assert np.allclose(gp, g)  # back in the run's order, the same numbers
    y = model.forecast(x, steps=3, feature_names=feats, object_names=objs)
    yp = model.forecast(
        xp, steps=3, feature_names=[feats[i] for i in fp],
        object_names=[objs[i] for i in op],
    )  # fmt: skip
    assert np.allclose(yp, y)
    with pytest.raises(DataError, match="feature"):
        model.infer(x, feature_names=["x", "y", "vx", "speed"], object_names=objs)
    with pytest.raises(DataError, match="feature_names"):
        model.infer(x, feature_names=feats[:3], object_names=objs)
    with pytest.warns(DataNotice, match=r"feature_names=\[\.\.\.\]"):
        model.infer(x, object_names=objs)
