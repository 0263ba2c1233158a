"""Compiled (numba) kernels of the springs and charged simulators.

``integrate_particles`` integrates many simulations in parallel with the step order,
walls and force clipping of the original generator (spec/data.md 1.4-1.6); the force sum
reproduces NumPy's summation order, so springs trajectories match the NumPy reference
integrator bit for bit. Called by :func:`nri.sim.particles.integrate_fast`.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _row_sum(values: np.ndarray, n: int) -> float:
    """Sum of ``values[:n]`` in NumPy's order (pairwise with 8 accumulators for n >= 8)."""
    if n < 8:
        acc = -0.0
        for j in range(n):
            acc += values[j]
        return acc
    r0 = values[0]
    r1 = values[1]
    r2 = values[2]
    r3 = values[3]
    r4 = values[4]
    r5 = values[5]
    r6 = values[6]
    r7 = values[7]
    j = 8
    while j < n - (n % 8):
        r0 += values[j]
        r1 += values[j + 1]
        r2 += values[j + 2]
        r3 += values[j + 3]
        r4 += values[j + 4]
        r5 += values[j + 5]
        r6 += values[j + 6]
        r7 += values[j + 7]
        j += 8
    acc = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while j < n:
        acc += values[j]
        j += 1
    return acc


@numba.njit(cache=True, inline="always")
def _reflect_one(x: float, v: float, box: float) -> tuple[float, float, bool]:
    ok = -3.0 * box < x < 3.0 * box
    if x > box:
        x = 2.0 * box - x
        v = -abs(v)
    if x < -box:
        x = -2.0 * box - x
        v = abs(v)
    return x, v, ok


@numba.njit(cache=True)
def _coefficients(charged, k, edges, loc, size):  # noqa: ANN001
    """Force coefficients ``C [n, n]`` (zero diagonal) of one simulation, into ``size``.

    Springs: ``-k A``. Charged: ``k A / r2^1.5`` with ``r2`` computed as the original does
    (``|p_i|^2 + |p_j|^2 - 2 p_i.p_j``); ``C`` is symmetric, so each pair is done once.
    """
    n = loc.shape[1]
    for i in range(n):
        size[i, i] = 0.0
        for j in range(i + 1, n):
            if charged:
                sq_i = loc[0, i] * loc[0, i] + loc[1, i] * loc[1, i]
                sq_j = loc[0, j] * loc[0, j] + loc[1, j] * loc[1, j]
                dot = loc[0, i] * loc[0, j] + loc[1, i] * loc[1, j]
                r2 = sq_i + sq_j - 2.0 * dot
                c = k * edges[i, j] / (r2 * np.sqrt(r2))
            else:
                c = -k * edges[i, j]
            size[i, j] = c
            size[j, i] = c


@numba.njit(cache=True)
def _forces_fast(max_force, size, loc, terms, force):  # noqa: ANN001
    """Clipped forces ``F[d, i] = sum_j C[i, j] (loc[d, i] - loc[d, j])`` into ``force``."""
    n = loc.shape[1]
    for d in range(2):
        for i in range(n):
            for j in range(n):
                terms[j] = size[i, j] * (loc[d, i] - loc[d, j])
            f = _row_sum(terms, n)
            if f > max_force:
                f = max_force
            elif f < -max_force:
                f = -max_force
            force[d, i] = f


@numba.njit(cache=True, parallel=True)
def integrate_particles(  # noqa: ANN201
    charged, k, max_force, box, dt, sample_freq, n_steps, edges, loc0, vel0, out_loc,
    out_vel, ok,
):  # fmt: skip
    n_sims, _, n = loc0.shape
    for s in numba.prange(n_sims):
        loc = loc0[s].copy()
        vel = vel0[s].copy()
        size = np.empty((n, n))
        terms = np.empty(n)
        force = np.empty((2, n))
        good = True
        for d in range(2):
            for i in range(n):
                loc[d, i], vel[d, i], inside = _reflect_one(loc[d, i], vel[d, i], box)
                good = good and inside
        _coefficients(charged, k, edges[s], loc, size)  # constant for springs
        _forces_fast(max_force, size, loc, terms, force)
        for d in range(2):
            for i in range(n):
                vel[d, i] += dt * force[d, i]
        frame = 0
        for step in range(1, n_steps):
            for d in range(2):
                for i in range(n):
                    x = loc[d, i] + dt * vel[d, i]
                    loc[d, i], vel[d, i], inside = _reflect_one(x, vel[d, i], box)
                    good = good and inside
            if step % sample_freq == 0:
                out_loc[s, frame] = loc
                out_vel[s, frame] = vel
                frame += 1
            if charged:
                _coefficients(charged, k, edges[s], loc, size)
            _forces_fast(max_force, size, loc, terms, force)
            for d in range(2):
                for i in range(n):
                    vel[d, i] += dt * force[d, i]
        ok[s] = good
