"""Charged particles in a box with Coulomb forces (spec/data.md 1, NRI's generator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nri.sim.particles import ParticleConfig, ParticleResult, simulate


@dataclass(frozen=True)
class ChargedConfig(ParticleConfig):
    """Charged constants; the defaults are the original generator's (loc_std 1, k = 1)."""

    loc_std: float = 1.0
    interaction_strength: float = 1.0


def simulate_charged(
    cfg: ChargedConfig,
    n_sims: int,
    n_steps: int,
    rng: np.random.RandomState | np.random.Generator,
    integrator: Literal["fast", "reference"] = "fast",
) -> ParticleResult:
    """Simulate charged systems; see :func:`nri.sim.particles.simulate`.

    Shapes:
        returns loc, vel ``[S, T_save, 2, n]`` float64 and edges ``[S, n, n]`` float64
        (``q q^T``: +1 equal charges, -1 opposite; the diagonal is +1 and is dropped by
        every consumer).
    """
    return simulate("charged", cfg, n_sims, n_steps, rng, integrator)
