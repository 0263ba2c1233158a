"""Springs: particles in a box joined by ideal springs (spec/data.md 1, NRI's generator)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nri.sim.particles import ParticleConfig, ParticleResult, simulate


@dataclass(frozen=True)
class SpringsConfig(ParticleConfig):
    """Springs constants; the defaults are the original generator's (k = 0.1)."""

    loc_std: float = 0.5
    interaction_strength: float = 0.1


def simulate_springs(
    cfg: SpringsConfig,
    n_sims: int,
    n_steps: int,
    rng: np.random.RandomState | np.random.Generator,
    integrator: Literal["fast", "reference"] = "fast",
) -> ParticleResult:
    """Simulate springs systems; see :func:`nri.sim.particles.simulate`.

    Shapes:
        returns loc, vel ``[S, T_save, 2, n]`` float64 and edges ``[S, n, n]`` float64
        (1 = spring, symmetric, zero diagonal).
    """
    return simulate("springs", cfg, n_sims, n_steps, rng, integrator)
