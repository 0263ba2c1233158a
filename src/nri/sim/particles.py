"""Shared machinery of the springs and charged-particle simulators (spec/data.md 1).

Two integrators compute the same physics:

* ``integrate_reference``: NumPy, float64, vectorised over simulations, with the exact
  operation order of the original NRI generator. Together with the legacy random stream
  (:func:`sample_init` with a ``np.random.RandomState``) it reproduces the original
  generator's files bit for bit (spec/data.md 1.8).
* ``integrate_fast``: a numba kernel, parallel over simulations. Same step order, walls and
  force clipping; results agree with the reference to round-off (bit for bit for springs
  with up to 7 objects; charged systems are chaotic, so a last-bit difference grows).

Both take the state as ``[S, 2, n]`` arrays (axis x/y first, particle second), the layout
of the original files, and return stored frames ``[S, T_save, 2, n]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from nri.sim.checks import check as _check
from nri.sim.checks import stored_frames
from nri.sim.kernels import integrate_particles

System = Literal["springs", "charged"]


@dataclass(frozen=True)
class ParticleConfig:
    """Constants of a springs or charged-particle system (spec/data.md 1.1).

    Attributes:
        n_objects: number of particles.
        box_size: half-width of the box; walls at +-box_size.
        loc_std: standard deviation of the initial positions.
        vel_norm: initial speed of every particle.
        interaction_strength: spring constant k (springs) or Coulomb constant (charged).
        dt: integration step.
        max_force: clip of every force component.
        edge_prob: springs: probability that a pair is connected; charged: probability
            of a +1 charge (the original draws both with 0.5).
        noise_std: standard deviation of Gaussian observation noise added to the
            stored positions and velocities (the original's ``noise_var``, 0 by default).
        sample_freq: integration steps between stored frames.
    """

    n_objects: int = 5
    box_size: float = 5.0
    loc_std: float = 0.5
    vel_norm: float = 0.5
    interaction_strength: float = 0.1
    dt: float = 0.001
    max_force: float = 100.0
    edge_prob: float = 0.5
    noise_std: float = 0.0
    sample_freq: int = 100

    def __post_init__(self) -> None:
        _check(self.n_objects >= 2, f"n_objects must be >= 2, got {self.n_objects}")
        for name in ("box_size", "loc_std", "vel_norm", "dt", "max_force"):
            value = getattr(self, name)
            _check(
                np.isfinite(value) and value > 0,
                f"{name} must be a positive finite number, got {value!r}",
            )
        _check(
            np.isfinite(self.interaction_strength),
            f"interaction_strength must be finite, got {self.interaction_strength!r}",
        )
        _check(
            0.0 <= self.edge_prob <= 1.0,
            f"edge_prob must be in [0, 1], got {self.edge_prob!r}",
        )
        _check(
            np.isfinite(self.noise_std) and self.noise_std >= 0,
            f"noise_std must be >= 0, got {self.noise_std!r}",
        )
        _check(
            isinstance(self.sample_freq, int) and self.sample_freq >= 1,
            f"sample_freq must be a positive integer, got {self.sample_freq!r}",
        )

    def n_frames(self, n_steps: int) -> int:
        """Stored frames for ``n_steps`` integration steps: ``n_steps / sample_freq - 1``."""
        return stored_frames(n_steps, self.sample_freq)


class ParticleInit(NamedTuple):
    """Random draws of a batch of simulations.

    Shapes:
        edges ``[S, n, n]`` float64 relation matrix (springs {0, 1}, symmetric, zero
        diagonal; charged ``q q^T`` with +1 on the diagonal); loc, vel ``[S, 2, n]``;
        loc_noise, vel_noise ``[S, T_save, 2, n]`` standard normal draws or ``None``.
    """

    edges: np.ndarray
    loc: np.ndarray
    vel: np.ndarray
    loc_noise: np.ndarray | None
    vel_noise: np.ndarray | None


class ParticleResult(NamedTuple):
    """Simulated trajectories in the original file layout.

    Shapes:
        loc, vel ``[S, T_save, 2, n]`` float64; edges ``[S, n, n]`` float64.
    """

    loc: np.ndarray
    vel: np.ndarray
    edges: np.ndarray


def _edges_from_draws(system: System, draw: np.ndarray) -> np.ndarray:
    """Relation matrices from the raw categorical draws (spec/data.md 1.2)."""
    if system == "springs":  # draw: [S, n, n] in {0, 0.5, 1}
        edges = np.tril(draw) + np.swapaxes(np.tril(draw, -1), -1, -2)
        n = draw.shape[-1]
        edges[:, np.arange(n), np.arange(n)] = 0.0
        return edges
    charges = draw  # [S, n, 1] in {-1, 0, 1}
    return charges @ np.swapaxes(charges, -1, -2)  # [S, n, n], diagonal +1


def _unit_speed(vel: np.ndarray, vel_norm: float) -> np.ndarray:
    """Rescale every particle's velocity column to length ``vel_norm``."""
    v_norm = np.sqrt((vel**2).sum(axis=-2, keepdims=True))  # [S, 1, n]
    return vel * vel_norm / v_norm


def sample_init(
    system: System,
    cfg: ParticleConfig,
    n_sims: int,
    n_frames: int,
    rng: np.random.RandomState | np.random.Generator,
    graph: np.ndarray | None = None,
) -> ParticleInit:
    """Draw graphs and initial states for ``n_sims`` simulations.

    ``graph`` (springs only, ``[n, n]`` indexed [receiver, sender], zero diagonal)
    replaces the random relations: every simulation gets it and no relation draws are
    made (the other draws keep their order). Without it the draws are unchanged.

    With a legacy ``np.random.RandomState`` the draws are made one simulation at a time
    in the original generator's order (relations, positions, velocities, loc noise, vel
    noise; the noise is drawn even when ``noise_std == 0``), so the stream matches the
    original exactly. With a ``np.random.Generator`` all draws are vectorised and the
    noise is drawn only when it is used.
    """
    n = cfg.n_objects
    p = cfg.edge_prob
    if system == "springs":
        values, shape = np.array([0.0, 0.5, 1.0]), (n, n)
    else:
        values, shape = np.array([-1.0, 0.0, 1.0]), (n, 1)
    probs = [1.0 - p, 0.0, p]

    if isinstance(rng, np.random.RandomState):
        draws = np.empty((n_sims, *shape))
        loc = np.empty((n_sims, 2, n))
        vel = np.empty((n_sims, 2, n))
        loc_noise = np.empty((n_sims, n_frames, 2, n))
        vel_noise = np.empty((n_sims, n_frames, 2, n))
        for s in range(n_sims):  # the legacy stream is defined one simulation at a time
            if graph is None:
                draws[s] = rng.choice(values, size=shape, p=probs)
            loc[s] = rng.randn(2, n)
            vel[s] = rng.randn(2, n)
            loc_noise[s] = rng.randn(n_frames, 2, n)
            vel_noise[s] = rng.randn(n_frames, 2, n)
        loc *= cfg.loc_std
    elif isinstance(rng, np.random.Generator):
        draws = (
            np.where(rng.random((n_sims, *shape)) < 1.0 - p, values[0], values[2])
            if graph is None
            else None
        )
        loc = rng.standard_normal((n_sims, 2, n)) * cfg.loc_std
        vel = rng.standard_normal((n_sims, 2, n))
        loc_noise = vel_noise = None
        if cfg.noise_std > 0:
            loc_noise = rng.standard_normal((n_sims, n_frames, 2, n))
            vel_noise = rng.standard_normal((n_sims, n_frames, 2, n))
    else:
        raise TypeError(
            "rng must be np.random.RandomState (original stream) or "
            f"np.random.Generator, got {type(rng).__name__}"
        )
    if graph is None:
        edges = _edges_from_draws(system, draws)
    else:
        if system != "springs" or graph.shape != (n, n) or np.diagonal(graph).any():
            raise ValueError(
                f"a given graph must be a springs [{n}, {n}] matrix with zero diagonal"
            )
        edges = np.repeat(np.asarray(graph, dtype=np.float64)[None], n_sims, axis=0)
    vel = _unit_speed(vel, cfg.vel_norm)
    return ParticleInit(edges, loc, vel, loc_noise, vel_noise)


# --------------------------------------------------------------------------------------
# Reference integrator (NumPy, operation order of the original)


def _reflect(loc: np.ndarray, vel: np.ndarray, box: float) -> None:
    """Elastic single-fold wall reflection, in place (spec/data.md 1.6)."""
    if not (np.all(loc < 3 * box) and np.all(loc > -3 * box)):
        raise FloatingPointError(
            f"a particle left the region +-{3 * box:g}; the time step is too large "
            "for this interaction strength"
        )
    over = loc > box
    loc[over] = 2 * box - loc[over]
    vel[over] = -np.abs(vel[over])
    under = loc < -box
    loc[under] = -2 * box - loc[under]
    vel[under] = np.abs(vel[under])


def _forces_reference(
    system: System, cfg: ParticleConfig, edges: np.ndarray, loc: np.ndarray
) -> np.ndarray:
    """Clipped forces ``[S, 2, n]`` with the original's operation order."""
    n = cfg.n_objects
    diag = np.arange(n)
    if system == "springs":
        size = -cfg.interaction_strength * edges  # [S, n, n]
    else:
        p = np.swapaxes(loc, -1, -2)  # [S, n, 2]
        sq = (p**2).sum(axis=-1)  # [S, n]
        r2 = (
            sq[:, :, None] + sq[:, None, :] - 2 * (p @ loc)
        )  # [S, n, n], as the original
        with np.errstate(divide="ignore", invalid="ignore"):
            size = cfg.interaction_strength * edges / np.power(r2, 1.5)
    size[:, diag, diag] = 0.0
    diff = loc[:, :, :, None] - loc[:, :, None, :]  # [S, 2, n, n]: loc_i - loc_j
    force = (size[:, None] * diff).sum(axis=-1)  # [S, 2, n]
    force[force > cfg.max_force] = cfg.max_force
    force[force < -cfg.max_force] = -cfg.max_force
    return force


def integrate_reference(
    system: System, cfg: ParticleConfig, init: ParticleInit, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate with NumPy in the original's exact operation order.

    Shapes:
        returns loc, vel ``[S, T_save, 2, n]`` with ``T_save = n_steps/sample_freq - 1``.
    """
    t_save = cfg.n_frames(n_steps)
    loc = init.loc.copy()
    vel = init.vel.copy()
    s = loc.shape[0]
    out_loc = np.empty((s, t_save, 2, cfg.n_objects))
    out_vel = np.empty_like(out_loc)
    _reflect(loc, vel, cfg.box_size)
    vel += cfg.dt * _forces_reference(system, cfg, init.edges, loc)
    frame = 0
    for i in range(1, n_steps):
        loc += cfg.dt * vel
        _reflect(loc, vel, cfg.box_size)
        if i % cfg.sample_freq == 0:
            out_loc[:, frame] = loc
            out_vel[:, frame] = vel
            frame += 1
        vel += cfg.dt * _forces_reference(system, cfg, init.edges, loc)
    return out_loc, out_vel


# --------------------------------------------------------------------------------------
# Fast integrator (the numba kernel is in nri.sim.kernels)


def integrate_fast(
    system: System, cfg: ParticleConfig, init: ParticleInit, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate with the compiled kernel, in parallel over simulations.

    Shapes:
        returns loc, vel ``[S, T_save, 2, n]`` with ``T_save = n_steps/sample_freq - 1``.
    """
    t_save = cfg.n_frames(n_steps)
    s = init.loc.shape[0]
    out_loc = np.empty((s, t_save, 2, cfg.n_objects))
    out_vel = np.empty_like(out_loc)
    ok = np.ones(s, dtype=np.bool_)
    integrate_particles(
        system == "charged",
        float(cfg.interaction_strength),
        float(cfg.max_force),
        float(cfg.box_size),
        float(cfg.dt),
        int(cfg.sample_freq),
        int(n_steps),
        np.ascontiguousarray(init.edges, dtype=np.float64),
        np.ascontiguousarray(init.loc, dtype=np.float64),
        np.ascontiguousarray(init.vel, dtype=np.float64),
        out_loc,
        out_vel,
        ok,
    )
    if not ok.all():
        raise FloatingPointError(
            f"{int((~ok).sum())} simulation(s) left the region +-{3 * cfg.box_size:g}; "
            "the time step is too large for this interaction strength"
        )
    return out_loc, out_vel


def simulate(
    system: System,
    cfg: ParticleConfig,
    n_sims: int,
    n_steps: int,
    rng: np.random.RandomState | np.random.Generator,
    integrator: Literal["fast", "reference"] = "fast",
    graph: np.ndarray | None = None,
) -> ParticleResult:
    """Draw and integrate ``n_sims`` simulations of ``n_steps`` steps each.

    Args:
        system: "springs" or "charged".
        cfg: constants of the system.
        n_sims: number of simulations.
        n_steps: integration steps (the original's ``length``: 5000 train, 10000 test).
        rng: a legacy ``RandomState`` reproduces the original random stream; a
            ``Generator`` draws everything vectorised.
        integrator: "fast" (numba) or "reference" (NumPy, the original's exact
            operation order).
        graph: springs on this ``[n, n]`` graph ([receiver, sender]: the force on i
            sums over the j with ``graph[i, j] = 1``) instead of random ones.

    Shapes:
        returns loc, vel ``[S, T_save, 2, n]`` and edges ``[S, n, n]``.
    """
    if n_sims < 1:
        raise ValueError(f"n_sims must be >= 1, got {n_sims}")
    t_save = cfg.n_frames(n_steps)
    init = sample_init(system, cfg, n_sims, t_save, rng, graph)
    if integrator == "fast":
        loc, vel = integrate_fast(system, cfg, init, n_steps)
    elif integrator == "reference":
        loc, vel = integrate_reference(system, cfg, init, n_steps)
    else:
        raise ValueError(
            f"integrator must be 'fast' or 'reference', got {integrator!r}"
        )
    if init.loc_noise is not None:
        loc += init.loc_noise * cfg.noise_std
        vel += init.vel_noise * cfg.noise_std
    return ParticleResult(loc, vel, init.edges)
