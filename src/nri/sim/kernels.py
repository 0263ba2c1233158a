"""Compiled (numba) kernels of the springs and charged simulators.

``integrate_particles`` integrates many simulations in parallel with the step order,
walls and force clipping of the original generator (spec/data.md 1.4-1.6); the force sum
reproduces NumPy's summation order, so springs trajectories match the NumPy reference
integrator bit for bit. Called by :func:`nri.sim.particles.integrate_fast`.

``kuramoto_rk4`` integrates Kuramoto oscillators with fixed-step RK4, one simulation per
thread; called by :func:`nri.sim.kuramoto.integrate_kuramoto`.
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

    Springs: ``-k A`` (``A`` may be directed: a given graph, ``C[i, j]`` from
    ``A[i, j]``). Charged: ``k A / r2^1.5`` with ``r2`` computed as the original does
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
                size[i, j] = c
                size[j, i] = c
            else:
                size[i, j] = -k * edges[i, j]
                size[j, i] = -k * edges[j, i]


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


@numba.njit(inline="always")
def _sincos_small(d):  # pragma: no cover
    """sin(d), cos(d) for |d| <= 0.1 by Taylor series (error < 1e-18), else libm."""
    if abs(d) > 0.1:
        return np.sin(d), np.cos(d)
    d2 = d * d
    sin_d = d * (
        1.0 - d2 / 6.0 * (1.0 - d2 / 20.0 * (1.0 - d2 / 42.0 * (1.0 - d2 / 72.0)))
    )
    cos_d = 1.0 - d2 / 2.0 * (1.0 - d2 / 12.0 * (1.0 - d2 / 30.0 * (1.0 - d2 / 56.0)))
    return sin_d, cos_d


@numba.njit(parallel=True, cache=True)
def kuramoto_rk4(k_eff, omega, phi0, h, substeps, keep_pos, out):  # pragma: no cover
    """Fixed-step RK4, one simulation per thread (results independent of threads).

    The coupling sum uses ``sum_j K_ij sin(phi_j - phi_i) = cos(phi_i) (K sin phi)_i -
    sin(phi_i) (K cos phi)_i``: 2n trigonometric values per stage instead of n^2. Only
    the first stage of a step calls sin and cos; stages 2-4 evaluate at ``y + d`` with a
    small ``d`` (|d| <= h max|dphi/dt|) by the angle-addition formulas and a Taylor
    series of sin d, cos d (3x faster than libm, same result to ~1e-16).

    Shapes: k_eff ``[S, n, n]``, omega / phi0 ``[S, n]``, keep_pos ``[n_grid]``,
    out ``[S, G, n]`` (written).
    """
    n_sims, n = omega.shape
    n_grid = keep_pos.shape[0]
    for s in numba.prange(n_sims):
        y = phi0[s].copy()
        kk = np.empty((4, n))  # stage derivatives
        sy = np.empty(n)
        cy = np.empty(n)
        sn = np.empty(n)
        cs = np.empty(n)
        for g in range(n_grid):
            if keep_pos[g] >= 0:
                out[s, keep_pos[g]] = y
            if g == n_grid - 1:
                break
            for _ in range(substeps):
                for i in range(n):
                    sy[i] = np.sin(y[i])
                    cy[i] = np.cos(y[i])
                for stage in range(4):
                    if stage == 0:
                        for i in range(n):
                            sn[i] = sy[i]
                            cs[i] = cy[i]
                    else:
                        c = h if stage == 3 else 0.5 * h
                        for i in range(n):
                            sd, cd = _sincos_small(c * kk[stage - 1, i])
                            sn[i] = sy[i] * cd + cy[i] * sd  # sin(y + d)
                            cs[i] = cy[i] * cd - sy[i] * sd  # cos(y + d)
                    for i in range(n):
                        ks = 0.0
                        kc = 0.0
                        for j in range(n):
                            ks += k_eff[s, i, j] * sn[j]
                            kc += k_eff[s, i, j] * cs[j]
                        kk[stage, i] = omega[s, i] + cs[i] * ks - sn[i] * kc
                for i in range(n):
                    y[i] += (h / 6.0) * (
                        kk[0, i] + 2.0 * kk[1, i] + 2.0 * kk[2, i] + kk[3, i]
                    )
    return out
