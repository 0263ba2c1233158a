"""Kuramoto phase oscillators with the NRI-MPM generator's features (spec/data.md 2).

``dphi_i/dt = omega_i + coupling * sum_j K[i, j] sin(phi_j - phi_i)``, K indexed
[receiver, sender] (``K[i, j] = 1``: oscillator i is driven by j).

Pipeline (each step a pure function; randomness only in :func:`sample_kuramoto_init`):

1. :func:`sample_kuramoto_init`: K, omega, phi0 for S simulations at once (spec 2.2).
2. :func:`integrate_kuramoto` (in :mod:`nri.sim.kuramoto_ode`): the unwrapped phase
   on the fine grid ``t_k = dt k``, by a numba RK4 kernel (``method="rk4"``) or SciPy's
   dopri5 like the original (``method="dopri5"``). ``grid_index`` keeps only some grid
   points, so the fine grid ([S, 1000, n], 400 MB for 10k simulations of 5 objects) is
   never held whole.
3. :func:`kuramoto_features`: forward difference, down-sampling, the per-trajectory and
   per-oscillator min-max scaling, the isolated-oscillator rule and the omega map of
   spec 2.4, in NRI's ``feat_*`` layout ``[S, n, T, 4]``, features (dphi, sin phi,
   phase, omega).

:func:`simulate_kuramoto` chains the three steps and stores only the grid points the
features need (``k = 10 f`` and ``10 f + 1``: 200 of the 1000 points).
:func:`simulate_kuramoto_loop` is the one-simulation-at-a-time dopri5 baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from nri.sim.checks import check as _check
from nri.sim.checks import is_int as _is_int
from nri.sim.kuramoto_ode import check_init, dopri5_one, integrate_kuramoto

__all__ = [
    "KuramotoConfig",
    "KuramotoInit",
    "KuramotoFrames",
    "KuramotoResult",
    "sample_kuramoto_init",
    "feature_grid_index",
    "integrate_kuramoto",
    "kuramoto_frames",
    "kuramoto_features",
    "simulate_kuramoto",
    "simulate_kuramoto_loop",
]


@dataclass(frozen=True)
class KuramotoConfig:
    """Constants of the Kuramoto generator (defaults: NRI-MPM, spec/data.md 2).

    Attributes:
        n_objects: number of oscillators n.
        omega_low, omega_high: intrinsic frequencies ~ U[omega_low, omega_high); also
            the range mapped to [-1, 1] by the omega feature.
        coupling: multiplier of K in the dynamics (1 in both public generators).
        edge_prob: probability that a pair (symmetric) or an ordered pair (directed) is
            coupled; the originals use 0.5.
        directed: False: symmetric K from the strict upper triangle (NRI-MPM, our
            default); True: independent per ordered pair (the NRI-derived sibling
            generator, spec 2.6).
        dt: output grid step; the forward difference of dphi uses it.
        n_grid: fine grid points ``t_k = dt k``, k = 0 .. n_grid - 1.
        sample_every: down-sampling factor; frame f uses grid point
            ``k = sample_every f``.
        noise_std: standard deviation of Gaussian observation noise added by
            :func:`simulate_kuramoto` to the *scaled* dphi, sin phi and phase features
            (after the per-trajectory scaling, so it is in units of the [-1, 1] range;
            omega is a parameter, not an observation, and gets none). 0: no draws.
        substeps: RK4 steps per grid interval (h = dt / substeps). 8 (h = 1.25e-3)
            matches the accuracy of the original dopri5 run. Measured on 200 default
            simulations against ``solve_ivp`` DOP853 at rtol = atol = 1e-13, phase error
            over t <= 9.99 (max over all / median of per-simulation max): dopri5 with
            SciPy's defaults 2.2e-9 / 5.0e-11; RK4 with 1, 2, 4, 8 substeps 3.1e-5,
            2.0e-6, 1.2e-7, 7.4e-9 / 8.1e-8, 5.1e-9, 3.2e-10, 5.1e-11. Max error of the
            scaled features: dopri5 1.7e-8, RK4 8 substeps 1.7e-8 (4: 1.3e-7).
        method: "rk4" (fast, vectorised) or "dopri5" (SciPy ``ode`` per simulation, as
            the original; slow).
    """

    n_objects: int = 5
    omega_low: float = 1.0
    omega_high: float = 10.0
    coupling: float = 1.0
    edge_prob: float = 0.5
    directed: bool = False
    dt: float = 0.01
    n_grid: int = 1000
    sample_every: int = 10
    noise_std: float = 0.0
    substeps: int = 8
    method: Literal["rk4", "dopri5"] = "rk4"

    def __post_init__(self) -> None:
        _check(
            _is_int(self.n_objects) and self.n_objects >= 2,
            f"n_objects must be an integer >= 2, got {self.n_objects!r}",
        )
        _check(
            np.isfinite(self.omega_low)
            and np.isfinite(self.omega_high)
            and self.omega_low < self.omega_high,
            "omega_low < omega_high (finite) expected, got "
            f"{self.omega_low!r}, {self.omega_high!r}",
        )
        _check(
            np.isfinite(self.coupling),
            f"coupling must be finite, got {self.coupling!r}",
        )
        _check(
            0.0 <= self.edge_prob <= 1.0,
            f"edge_prob must be in [0, 1], got {self.edge_prob!r}",
        )
        _check(
            isinstance(self.directed, bool),
            f"directed must be a bool, got {self.directed!r}",
        )
        _check(
            np.isfinite(self.dt) and self.dt > 0,
            f"dt must be a positive finite number, got {self.dt!r}",
        )
        _check(
            _is_int(self.n_grid) and self.n_grid >= 2,
            f"n_grid must be an integer >= 2, got {self.n_grid!r}",
        )
        _check(
            _is_int(self.sample_every) and self.sample_every >= 1,
            f"sample_every must be a positive integer, got {self.sample_every!r}",
        )
        _check(
            np.isfinite(self.noise_std) and self.noise_std >= 0,
            f"noise_std must be >= 0, got {self.noise_std!r}",
        )
        _check(
            _is_int(self.substeps) and self.substeps >= 1,
            f"substeps must be a positive integer, got {self.substeps!r}",
        )
        _check(
            self.method in ("rk4", "dopri5"),
            f"method must be 'rk4' or 'dopri5', got {self.method!r}",
        )

    @property
    def n_total_frames(self) -> int:
        """Frames the scaling sees: all f with ``sample_every f + 1 < n_grid`` (100)."""
        return (self.n_grid - 2) // self.sample_every + 1


class KuramotoInit(NamedTuple):
    """Random draws of a batch of simulations.

    Shapes:
        coupling ``[S, n, n]`` float64 K in {0, 1}, indexed [receiver, sender], zero
        diagonal (not yet multiplied by ``cfg.coupling``); omega ``[S, n]`` float64;
        phi0 ``[S, n]`` float64.
    """

    coupling: np.ndarray
    omega: np.ndarray
    phi0: np.ndarray


class KuramotoFrames(NamedTuple):
    """Down-sampled, unscaled phase and forward-difference frequency.

    Shapes:
        phase ``[S, n, F]`` float64 (unwrapped phase at ``k = sample_every f``);
        dphi ``[S, n, F]`` float64 (``(phi[k + 1] - phi[k]) / dt`` at the same k).
    """

    phase: np.ndarray
    dphi: np.ndarray


class KuramotoResult(NamedTuple):
    """Simulated features in NRI's ``feat_*`` / ``edges_*`` layout.

    Shapes:
        feat ``[S, n, T, 4]`` float64, features (dphi, sin phi, phase, omega) after the
        generator's own scaling (spec 2.4); edges ``[S, n, n]`` int64 K in {0, 1},
        indexed [receiver, sender], zero diagonal.
    """

    feat: np.ndarray
    edges: np.ndarray


def sample_kuramoto_init(
    cfg: KuramotoConfig, n_sims: int, rng: np.random.Generator
) -> KuramotoInit:
    """Draw couplings, frequencies and initial phases (spec 2.2), all S at once.

    Draw order (NRI-MPM's per sample, here per batch): K for all simulations, then
    omega, then phi0.

    Args:
        cfg: the generator constants.
        n_sims: number of simulations S.
        rng: the only source of randomness.

    Returns:
        KuramotoInit(coupling, omega, phi0).

    Shapes:
        coupling ``[S, n, n]``, omega ``[S, n]``, phi0 ``[S, n]``, all float64.
    """
    if not _is_int(n_sims) or n_sims < 0:
        raise ValueError(f"n_sims must be a non-negative integer, got {n_sims!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng)}")
    n = cfg.n_objects
    draw = rng.random((n_sims, n, n)) < cfg.edge_prob  # [S, n, n] bool
    if cfg.directed:
        k = draw & ~np.eye(n, dtype=bool)  # independent per ordered pair, zero diagonal
    else:
        upper = np.triu(draw, k=1)  # strict upper triangle
        k = upper | upper.transpose(0, 2, 1)  # K = U + U^T
    omega = rng.uniform(cfg.omega_low, cfg.omega_high, size=(n_sims, n))
    phi0 = rng.uniform(0.0, 2.0 * np.pi, size=(n_sims, n))
    return KuramotoInit(coupling=k.astype(np.float64), omega=omega, phi0=phi0)


def feature_grid_index(cfg: KuramotoConfig) -> np.ndarray:
    """Fine-grid points the features need: ``k = s f`` and ``s f + 1`` for every frame.

    Shapes:
        returns ``[2 F_total]`` int64, sorted (``[0, 1, 10, 11, ..., 990, 991]``).
    """
    base = cfg.sample_every * np.arange(cfg.n_total_frames, dtype=np.int64)
    return np.unique(np.concatenate([base, base + 1]))


def kuramoto_frames(
    cfg: KuramotoConfig, phi: np.ndarray, grid_index: np.ndarray | None = None
) -> KuramotoFrames:
    """Down-sample the phase and its forward difference (spec 2.4 steps 1-2), unscaled.

    Args:
        cfg: the generator constants.
        phi: integrated phase on the fine-grid points ``grid_index``.
        grid_index: the fine-grid indices held by ``phi`` (None: the whole grid); it
            must contain ``k = sample_every f`` and ``k + 1`` for all F_total frames.

    Returns:
        KuramotoFrames(phase, dphi) over all F_total frames.

    Shapes:
        phi ``[S, G, n]`` -> phase, dphi ``[S, n, F_total]``.
    """
    grid = np.arange(cfg.n_grid) if grid_index is None else np.asarray(grid_index)
    if phi.ndim != 3 or phi.shape[1] != grid.shape[0] or phi.shape[2] != cfg.n_objects:
        raise ValueError(
            f"phi must be [S, {grid.shape[0]}, {cfg.n_objects}] for this grid_index, "
            f"got {tuple(phi.shape)}"
        )
    k0 = cfg.sample_every * np.arange(cfg.n_total_frames)  # [F_total]
    pos0 = np.searchsorted(grid, k0)  # positions of k and k + 1 in phi
    pos1 = np.searchsorted(grid, k0 + 1)
    ok = (pos1 < grid.shape[0]) & (grid[np.minimum(pos1, grid.shape[0] - 1)] == k0 + 1)
    if not (ok.all() and (grid[pos0] == k0).all()):
        raise ValueError(
            f"grid_index must contain k = {cfg.sample_every} f and k + 1 for "
            f"f < {cfg.n_total_frames}, see feature_grid_index()"
        )
    phase = phi[:, pos0]  # [S, F_total, n]
    dphi = (phi[:, pos1] - phase) / cfg.dt  # [S, F_total, n]
    return KuramotoFrames(phase=phase.transpose(0, 2, 1), dphi=dphi.transpose(0, 2, 1))


def kuramoto_features(
    cfg: KuramotoConfig,
    phi: np.ndarray,
    init: KuramotoInit,
    n_frames: int,
    grid_index: np.ndarray | None = None,
) -> np.ndarray:
    """The generator's features and per-trajectory scaling, exactly as spec 2.4.

    Phase and dphi are min-max scaled to [-1, 1] per simulation and per oscillator over
    all F_total (100) frames, then cut to the first ``n_frames``. Oscillators with no
    incoming coupling (row sum of ``cfg.coupling * K`` is 0; with ``coupling != 0`` that
    is the row sum of K, as the original) get dphi = 0 in all frames. Omega is mapped by
    ``(omega - omega_low) * 2 / (omega_high - omega_low) - 1`` and repeated over time.

    Args:
        cfg: the generator constants.
        phi: integrated phase on the fine-grid points ``grid_index``.
        init: the draws the phase was integrated from (K and omega are used).
        n_frames: frames kept (49 train/valid, 99 test), at most F_total.
        grid_index: the fine-grid indices held by ``phi``; None: the whole grid.

    Returns:
        feat, float64, features (dphi, sin phi, phase, omega).

    Shapes:
        phi ``[S, G, n]``, init.coupling ``[S, n, n]``, init.omega ``[S, n]`` ->
        feat ``[S, n, n_frames, 4]``.
    """
    if not _is_int(n_frames) or not 1 <= n_frames <= cfg.n_total_frames:
        raise ValueError(
            f"n_frames must be an integer in [1, {cfg.n_total_frames}], "
            f"got {n_frames!r}"
        )
    k, omega, _ = check_init(cfg, init)
    if phi.shape[0] != omega.shape[0]:
        raise ValueError(
            "phi and init must have the same S, got "
            f"{phi.shape[0]} and {omega.shape[0]}"
        )
    frames = kuramoto_frames(cfg, phi, grid_index)  # [S, n, F_total] each
    sin_phi = np.sin(frames.phase)  # from the raw phase
    phase = _min_max(frames.phase)  # [S, n, F_total]
    isolated = (cfg.coupling * k).sum(axis=2) == 0  # [S, n]
    dphi = np.where(isolated[:, :, None], 0.0, _min_max(frames.dphi))  # [S, n, F_total]
    omega_scaled = (omega - cfg.omega_low) * 2 / (cfg.omega_high - cfg.omega_low) - 1
    omega_t = np.broadcast_to(omega_scaled[:, :, None], phase.shape)  # [S, n, F_total]
    feat = np.stack([dphi, sin_phi, phase, omega_t], axis=-1)  # [S, n, F_total, 4]
    return np.ascontiguousarray(feat[:, :, :n_frames])  # [S, n, T, 4]


def simulate_kuramoto(
    cfg: KuramotoConfig, n_sims: int, n_frames: int, rng: np.random.Generator
) -> KuramotoResult:
    """Sample, integrate (``cfg.method``) and featurise S simulations.

    Only the 2 F_total grid points the features need are stored. Same ``rng`` state ->
    bit-identical output. Draws: :func:`sample_kuramoto_init`, then (only if
    ``noise_std > 0``) the observation noise ``[S, n, n_frames, 3]``.

    Args:
        cfg: the generator constants.
        n_sims: number of simulations S.
        n_frames: frames kept (49 train/valid, 99 test).
        rng: the only source of randomness.

    Returns:
        KuramotoResult(feat, edges).

    Shapes:
        feat ``[S, n, n_frames, 4]`` float64, edges ``[S, n, n]`` int64.
    """
    init = sample_kuramoto_init(cfg, n_sims, rng)
    grid_index = feature_grid_index(cfg)  # [2 F_total]
    phi = integrate_kuramoto(cfg, init, grid_index)  # [S, 2 F_total, n]
    feat = kuramoto_features(cfg, phi, init, n_frames, grid_index)  # [S, n, T, 4]
    if cfg.noise_std > 0:
        feat[..., :3] += cfg.noise_std * rng.standard_normal(feat[..., :3].shape)
    return KuramotoResult(feat=feat, edges=init.coupling.astype(np.int64))


def simulate_kuramoto_loop(
    cfg: KuramotoConfig, n_sims: int, n_frames: int, rng: np.random.Generator
) -> KuramotoResult:
    """One simulation at a time with SciPy's ``ode('dopri5')``, like the original.

    A plain baseline for benchmarks: the same draws as :func:`simulate_kuramoto`, then
    per simulation the dopri5 integration over the whole fine grid and the features.
    Equal to ``simulate_kuramoto(replace(cfg, method="dopri5"), ...)``.

    Shapes:
        feat ``[S, n, n_frames, 4]`` float64, edges ``[S, n, n]`` int64.
    """
    init = sample_kuramoto_init(cfg, n_sims, rng)
    feats = []
    for s in range(n_sims):
        one = KuramotoInit(*(a[s : s + 1] for a in init))  # S = 1
        k_eff = cfg.coupling * one.coupling[0]  # [n, n]
        keep_pos = np.arange(cfg.n_grid, dtype=np.int64)
        phi = dopri5_one(k_eff, one.omega[0], one.phi0[0], cfg.dt, keep_pos, cfg.n_grid)
        feats.append(kuramoto_features(cfg, phi[None], one, n_frames))  # [1, n, T, 4]
    feat = np.concatenate(feats) if feats else _empty_feat(cfg, n_frames)
    if cfg.noise_std > 0:
        feat[..., :3] += cfg.noise_std * rng.standard_normal(feat[..., :3].shape)
    return KuramotoResult(feat=feat, edges=init.coupling.astype(np.int64))


def _empty_feat(cfg: KuramotoConfig, n_frames: int) -> np.ndarray:
    return np.empty((0, cfg.n_objects, n_frames, 4))


def _min_max(x: np.ndarray) -> np.ndarray:
    """Scale to [-1, 1] over the last axis, in the original's operation order."""
    lo = x.min(axis=-1, keepdims=True)
    hi = x.max(axis=-1, keepdims=True)
    span = hi - lo
    # A constant series (exact zero span) maps to -1 instead of 0/0; the isolated rule
    # then overwrites dphi, and the phase always grows.
    scaled = (x - lo) / np.where(span > 0, span, 1.0)
    return scaled * 2 - 1
