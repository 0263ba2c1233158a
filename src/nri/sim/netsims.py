"""NetSim-like neural dynamics on a given graph, as the StructInfer / DoSI benchmark
generates its ``netsims`` sets (docs/structinfer.md).

The benchmark's generator (``PyNetSim.sample_trajectory`` in its
``src/simulations/synthetic_sim.py``) is a linear, DCM-like neural state model
without a haemodynamic stage, integrated with explicit Euler:

    z_{k+1} = z_k + dt * sigma * A' z_k,      A' = w A with -1 on the diagonal

(``A [receiver, sender]``: ``dz_i/dt = sigma (w sum_j A[i, j] z_j - z_i)``; the -1 is
each node's self-decay; the benchmark has ``w = 1``, our ``coupling``, which
``nri simulate --interaction-strength`` sets), ``z_0 ~ N(0, init_std^2)`` per node, ``dt = 0.01``,
``sigma = 0.1``. The stored "BOLD" signal is the neural state itself: frame f is the
state after ``sample_freq (f + 1) - 1`` steps (the benchmark stores the state before
the step at every ``sample_freq``-th step), so ``n_steps / sample_freq - 1`` frames.
Smith et al. (2011)'s NetSim adds a Balloon-Windkessel observation and external
inputs; the benchmark's files do not, and neither do we by default. ``input_rate > 0``
adds the benchmark's other variant, an external drive ``c_i u_i(t)`` with
``c_i ~ N(input_mean, input_std^2)`` per node and ``u_i(t) ~ Poisson(input_rate)``
per step (``sample_trajectory_external_input``; it stores the state after the step).

The model is linear: it decays when every eigenvalue of ``w A`` has a real part below 1
and grows exponentially otherwise (:func:`growth_rate`). With ``w = 1`` that is the
case for any undirected graph with a node of degree 2 or more (a path of three nodes
has eigenvalue sqrt(2)), so the benchmark's undirected NetSims sets grow over the
frames; ``coupling < 1 / max eigenvalue`` gives decaying, stable data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nri.sim.checks import stored_frames

__all__ = ["NetSimConfig", "growth_rate", "simulate_netsims"]


@dataclass(frozen=True)
class NetSimConfig:
    """Constants of the NetSim-like model; the defaults are the benchmark's.

    Attributes:
        n_objects: number of nodes.
        sigma: time scale of ``A'``.
        coupling: weight w of every edge (1 in the benchmark).
        dt: Euler step.
        sample_freq: steps between stored frames (5000 steps -> 49 frames).
        init_std: standard deviation of the initial state.
        input_rate, input_mean, input_std: external Poisson drive (off at rate 0).
        noise_std: Gaussian observation noise added to the stored frames.
        edge_prob: unused (the graph is given); kept for the common interface.
    """

    n_objects: int = 5
    sigma: float = 0.1
    coupling: float = 1.0
    dt: float = 0.01
    sample_freq: int = 100
    init_std: float = 1.0
    input_rate: float = 0.0
    input_mean: float = 0.4
    input_std: float = 0.1
    noise_std: float = 0.0
    edge_prob: float = 0.5

    def __post_init__(self) -> None:
        if self.n_objects < 2:
            raise ValueError(f"n_objects must be >= 2, got {self.n_objects}")
        for name in ("sigma", "dt", "init_std"):
            if not (np.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be a positive number")
        if self.input_rate < 0 or self.noise_std < 0:
            raise ValueError("input_rate and noise_std must be >= 0")

    def n_frames(self, n_steps: int) -> int:
        """``n_steps / sample_freq - 1`` stored frames."""
        return stored_frames(n_steps, self.sample_freq)


def simulate_netsims(
    cfg: NetSimConfig,
    adj: np.ndarray,
    n_sims: int,
    n_steps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Simulate ``n_sims`` runs of the model on the graph ``adj``.

    Args:
        cfg: constants.
        adj: ``[N, N]`` 0/1 graph indexed ``[receiver, sender]`` (its diagonal is
            replaced by -1, the self-decay).
        n_sims: number of simulations.
        n_steps: Euler steps (5000 train/valid, 10000 test in the benchmark).
        rng: the random source (initial states, inputs, noise).

    Returns:
        ``bold [S, T_save, 1, N]`` float64 (the benchmark's file layout).
    """
    n = cfg.n_objects
    if adj.shape != (n, n):
        raise ValueError(f"adj must be [{n}, {n}], got {adj.shape}")
    t_save = cfg.n_frames(n_steps)
    a = cfg.coupling * np.array(adj, dtype=np.float64)
    np.fill_diagonal(a, -1.0)
    step = cfg.dt * cfg.sigma * a.T  # z [S, N] @ step: sum_j A'[i, j] z_j
    z = rng.standard_normal((n_sims, n)) * cfg.init_std  # [S, N]
    drive = None
    if cfg.input_rate > 0:
        drive = rng.normal(cfg.input_mean, cfg.input_std, size=(n_sims, n))  # c_i
    out = np.empty((n_sims, t_save, 1, n))
    frame = 0
    for i in range(1, n_steps):
        nxt = z + z @ step
        if drive is not None:
            nxt += cfg.dt * drive * rng.poisson(cfg.input_rate, size=(n_sims, n))
        if i % cfg.sample_freq == 0:
            out[:, frame, 0] = nxt if drive is not None else z
            frame += 1
        z = nxt
    if cfg.noise_std > 0:
        out += rng.standard_normal(out.shape) * cfg.noise_std
    return out


def growth_rate(cfg: NetSimConfig, adj: np.ndarray) -> float:
    """The largest real part of the eigenvalues of ``sigma (w A - I)`` (per time unit):
    positive means the simulated states grow exponentially."""
    a = cfg.coupling * np.array(adj, dtype=np.float64)
    np.fill_diagonal(a, -1.0)
    return float(cfg.sigma * np.linalg.eigvals(a).real.max())
