"""Tests of the Kuramoto simulator (spec/data.md 2)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from nri.sim.kuramoto import (
    KuramotoConfig,
    KuramotoInit,
    feature_grid_index,
    integrate_kuramoto,
    kuramoto_features,
    kuramoto_frames,
    sample_kuramoto_init,
    simulate_kuramoto,
    simulate_kuramoto_loop,
)

CFG = KuramotoConfig()
SHORT = KuramotoConfig(n_grid=200)  # 20 frames, for the slow dopri5 path


def _init(cfg: KuramotoConfig, n_sims: int, seed: int = 0) -> KuramotoInit:
    return sample_kuramoto_init(cfg, n_sims, np.random.default_rng(seed))


@pytest.fixture(scope="module")
def stats_run():
    """A few hundred default simulations, 49 frames (as the spec 2.7 table)."""
    return simulate_kuramoto(CFG, 400, 49, np.random.default_rng(2024))


def test_shapes_and_dtypes():
    S, n, T = 3, 5, 49
    out = simulate_kuramoto(CFG, S, T, np.random.default_rng(0))
    assert out.feat.shape == (S, n, T, 4) and out.feat.dtype == np.float64
    assert out.edges.shape == (S, n, n) and out.edges.dtype == np.int64
    init = _init(CFG, S)
    assert init.coupling.shape == (S, n, n) and init.coupling.dtype == np.float64
    assert init.omega.shape == (S, n) and init.phi0.shape == (S, n)
    phi = integrate_kuramoto(CFG, init)
    assert phi.shape == (S, 1000, n) and phi.dtype == np.float64
    grid = feature_grid_index(CFG)
    assert grid.shape == (200,) and list(grid[:4]) == [0, 1, 10, 11] and grid[-1] == 991
    assert integrate_kuramoto(CFG, init, grid).shape == (S, 200, n)
    assert simulate_kuramoto(CFG, 2, 99, np.random.default_rng(0)).feat.shape[2] == 99
    assert simulate_kuramoto(CFG, 0, 49, np.random.default_rng(0)).feat.shape == (
        0,
        n,
        49,
        4,
    )


def test_kept_points_equal_full_grid_and_features_agree():
    init = _init(CFG, 4)
    full = integrate_kuramoto(CFG, init)  # [S, 1000, n]
    grid = feature_grid_index(CFG)
    part = integrate_kuramoto(CFG, init, grid)  # [S, 200, n]
    np.testing.assert_array_equal(part, full[:, grid])
    np.testing.assert_array_equal(
        kuramoto_features(CFG, full, init, 99),
        kuramoto_features(CFG, part, init, 99, grid),
    )


def test_determinism_and_seeds_differ():
    a = simulate_kuramoto(CFG, 5, 49, np.random.default_rng(7))
    b = simulate_kuramoto(CFG, 5, 49, np.random.default_rng(7))
    c = simulate_kuramoto(CFG, 5, 49, np.random.default_rng(8))
    np.testing.assert_array_equal(a.feat, b.feat)
    np.testing.assert_array_equal(a.edges, b.edges)
    assert not np.array_equal(a.feat, c.feat)
    noisy = replace(CFG, noise_std=0.1)
    d = simulate_kuramoto(noisy, 5, 49, np.random.default_rng(7))
    e = simulate_kuramoto(noisy, 5, 49, np.random.default_rng(7))
    np.testing.assert_array_equal(d.feat, e.feat)
    np.testing.assert_array_equal(d.feat[..., 3], a.feat[..., 3])  # omega: no noise
    assert 0.05 < np.std(d.feat[..., :3] - a.feat[..., :3]) < 0.15


def test_rk4_agrees_with_solve_ivp():
    init = _init(CFG, 3, seed=3)
    phi = integrate_kuramoto(CFG, init)  # [S, 1000, n]
    t = CFG.dt * np.arange(CFG.n_grid)
    for s in range(3):
        k, omega = init.coupling[s], init.omega[s]

        def rhs(_t, y, k=k, omega=omega):
            return omega + (k * np.sin(y[None, :] - y[:, None])).sum(axis=1)

        ref = solve_ivp(
            rhs, (0.0, t[-1]), init.phi0[s], "DOP853", t_eval=t, rtol=1e-12, atol=1e-12
        ).y.T  # [1000, n]
        # measured max over 200 simulations: 7.4e-9 rad (substeps=8)
        np.testing.assert_allclose(phi[s], ref, rtol=0, atol=1e-7)
    # the error of one RK4 step per interval is visibly larger: the test can fail
    coarse = integrate_kuramoto(replace(CFG, substeps=1), init)
    assert np.abs(coarse - phi).max() > 1e-7


def test_dopri5_method_and_loop_agree_with_rk4():
    init = _init(SHORT, 2, seed=4)
    rk4 = integrate_kuramoto(SHORT, init)
    dopri = integrate_kuramoto(replace(SHORT, method="dopri5"), init)
    np.testing.assert_allclose(dopri, rk4, rtol=0, atol=1e-7)
    fast = simulate_kuramoto(SHORT, 2, 19, np.random.default_rng(5))
    loop = simulate_kuramoto_loop(SHORT, 2, 19, np.random.default_rng(5))
    np.testing.assert_array_equal(loop.edges, fast.edges)
    np.testing.assert_allclose(loop.feat, fast.feat, rtol=0, atol=1e-5)


def test_coupling_symmetric_by_default_and_directed_option():
    k = _init(CFG, 200).coupling
    assert set(np.unique(k)) <= {0.0, 1.0}
    np.testing.assert_array_equal(k, k.transpose(0, 2, 1))
    assert np.all(np.diagonal(k, axis1=1, axis2=2) == 0)
    kd = _init(replace(CFG, directed=True), 200).coupling
    assert np.all(np.diagonal(kd, axis1=1, axis2=2) == 0)
    assert not np.array_equal(kd, kd.transpose(0, 2, 1))
    off = ~np.eye(5, dtype=bool)
    assert abs(kd[:, off].mean() - 0.5) < 0.03
    # about half of the ordered pairs disagree with their reverse (p(1-p)*2 = 0.5)
    assert abs((kd != kd.transpose(0, 2, 1))[:, off].mean() - 0.5) < 0.04
    assert _init(replace(CFG, edge_prob=0.0), 10).coupling.sum() == 0
    assert _init(replace(CFG, edge_prob=1.0), 10).coupling[:, off].min() == 1


def test_isolated_oscillator_has_zero_dphi():
    init = _init(CFG, 50, seed=6)
    isolated = init.coupling.sum(axis=2) == 0  # [S, n]
    assert isolated.any() and not isolated.all()
    feat = kuramoto_features(CFG, integrate_kuramoto(CFG, init), init, 99)
    assert np.all(feat[..., 0][isolated] == 0)
    coupled = feat[..., 0][~isolated]  # [m, T]
    assert np.all(coupled.max(axis=1) > coupled.min(axis=1))


def test_feature_ranges_sin_and_omega():
    init = _init(CFG, 20, seed=9)
    phi = integrate_kuramoto(CFG, init)  # [S, 1000, n]
    feat = kuramoto_features(CFG, phi, init, 99)  # [S, n, 99, 4]
    assert feat.min() >= -1 and feat.max() <= 1
    raw_phase = phi[:, 0:990:10].transpose(0, 2, 1)  # [S, n, 99]
    np.testing.assert_array_equal(feat[..., 1], np.sin(raw_phase))
    np.testing.assert_array_equal(
        feat[..., 3], np.repeat(((init.omega - 1) * 2 / 9 - 1)[:, :, None], 99, axis=2)
    )
    # phase and dphi reach -1 and +1 over the 100 frames the scaling sees
    full = kuramoto_features(CFG, phi, init, 100)
    assert np.allclose(full[..., 2].min(axis=2), -1) and np.allclose(
        full[..., 2].max(axis=2), 1
    )
    # spec 2.4 by hand for one oscillator: forward difference at k = 10 f
    s, i = 0, int(np.argmax(init.coupling[0].sum(axis=1)))
    dphi = (phi[s, 1:992:10, i] - phi[s, 0:991:10, i]) / 0.01  # [100]
    scaled = 2 * (dphi - dphi.min()) / (dphi.max() - dphi.min()) - 1
    np.testing.assert_allclose(feat[s, i, :, 0], scaled[:99], rtol=0, atol=1e-12)


def test_no_coupling_gives_constant_dphi_equal_to_omega():
    cfg = replace(CFG, coupling=0.0)
    init = _init(cfg, 4, seed=10)
    phi = integrate_kuramoto(cfg, init)
    t = cfg.dt * np.arange(cfg.n_grid)
    linear = init.phi0[:, None, :] + init.omega[:, None, :] * t[None, :, None]
    np.testing.assert_allclose(phi, linear, rtol=0, atol=1e-10)
    frames = kuramoto_frames(cfg, phi)  # unscaled, [S, n, 100]
    np.testing.assert_allclose(
        frames.dphi,
        np.broadcast_to(init.omega[:, :, None], frames.dphi.shape),
        rtol=1e-9,
    )
    # every oscillator is effectively isolated: dphi feature is 0, not amplified noise
    assert np.all(kuramoto_features(cfg, phi, init, 49)[..., 0] == 0)


def test_statistics_match_spec_table(stats_run):
    feat, edges = stats_run.feat, stats_run.edges  # [400, 5, 49, 4], [400, 5, 5]
    off = ~np.eye(5, dtype=bool)
    n_pairs = 400 * 10  # independent unordered pairs
    assert abs(edges[:, off].mean() - 0.5) < 3 * 0.5 / np.sqrt(n_pairs)
    isolated = (edges.sum(axis=2) == 0).mean()  # expected 1/16
    assert abs(isolated - 1 / 16) < 0.025
    assert abs(feat[..., 0].std() - 0.639) < 0.04
    assert abs(feat[..., 0].mean()) < 0.05
    assert abs(feat[..., 1].std() - 0.707) < 0.02
    assert abs(feat[..., 3].std() - 0.58) < 0.02
    assert feat[..., 2].min() == -1 and 0.0 < feat[..., 2].max() < 0.25
    assert abs(feat[..., 2].mean() - (-0.52)) < 0.03


def test_config_and_input_errors():
    with pytest.raises(ValueError, match="n_objects"):
        KuramotoConfig(n_objects=1)
    with pytest.raises(ValueError, match="omega_low < omega_high"):
        KuramotoConfig(omega_low=5.0, omega_high=2.0)
    with pytest.raises(ValueError, match="edge_prob"):
        KuramotoConfig(edge_prob=1.5)
    with pytest.raises(ValueError, match="method"):
        KuramotoConfig(method="euler")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="substeps"):
        KuramotoConfig(substeps=0)
    init = _init(CFG, 2)
    with pytest.raises(ValueError, match="n_frames"):
        kuramoto_features(CFG, integrate_kuramoto(CFG, init), init, 101)
    with pytest.raises(ValueError, match="grid_index must contain"):
        kuramoto_features(CFG, integrate_kuramoto(CFG, init, [0, 10]), init, 2, [0, 10])
    with pytest.raises(ValueError, match="init must hold"):
        integrate_kuramoto(replace(CFG, n_objects=4), init)
