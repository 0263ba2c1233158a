"""Integration of the Kuramoto phases on the generator's fine grid (spec/data.md 2.3).

``method="rk4"`` runs the numba kernel :func:`nri.sim.kernels.kuramoto_rk4`, parallel
over simulations, with ``substeps`` fixed RK4 steps per grid interval;
``method="dopri5"`` is SciPy's ``ode('dopri5')`` with default tolerances, one
simulation at a time, stepping ``t_k -> t_{k+1}`` like the original (slow, faithful).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.integrate import ode

from nri.sim.kernels import kuramoto_rk4

if TYPE_CHECKING:
    from nri.sim.kuramoto import KuramotoConfig, KuramotoInit

__all__ = ["integrate_kuramoto"]


def integrate_kuramoto(
    cfg: KuramotoConfig, init: KuramotoInit, grid_index: np.ndarray | None = None
) -> np.ndarray:
    """Integrate the phases on the fine grid ``t_k = dt k`` with ``cfg.method``.

    Only the grid points in ``grid_index`` are stored (the integration still runs over
    the whole grid), so memory is ``S x len(grid_index) x n`` floats.

    Args:
        cfg: the generator constants (method, substeps, dt, n_grid, coupling).
        init: the draws of :func:`sample_kuramoto_init`.
        grid_index: sorted, distinct fine-grid indices to keep; None keeps all.

    Returns:
        phi, the unwrapped phase (float64).

    Shapes:
        init.coupling ``[S, n, n]``, init.omega / init.phi0 ``[S, n]`` ->
        phi ``[S, G, n]`` with G = n_grid (or ``len(grid_index)``).
    """
    k, omega, phi0 = check_init(cfg, init)
    keep_pos = _keep_positions(cfg, grid_index)  # [n_grid] int64, -1 where dropped
    n_keep = int((keep_pos >= 0).sum())
    out = np.empty((omega.shape[0], n_keep, cfg.n_objects))  # [S, G, n]
    k_eff = cfg.coupling * k  # [S, n, n]
    if cfg.method == "rk4":
        kuramoto_rk4(
            k_eff, omega, phi0, cfg.dt / cfg.substeps, cfg.substeps, keep_pos, out
        )
    else:
        for s in range(omega.shape[0]):
            out[s] = dopri5_one(k_eff[s], omega[s], phi0[s], cfg.dt, keep_pos, n_keep)
    return out


def check_init(
    cfg: KuramotoConfig, init: KuramotoInit
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The draws as contiguous float64 arrays ``K [S, n, n]``, ``omega [S, n]``,
    ``phi0 [S, n]``; a ValueError names the shapes when they do not fit ``cfg``."""
    n = cfg.n_objects
    k = np.ascontiguousarray(init.coupling, dtype=np.float64)
    omega = np.ascontiguousarray(init.omega, dtype=np.float64)
    phi0 = np.ascontiguousarray(init.phi0, dtype=np.float64)
    s = omega.shape[0] if omega.ndim == 2 else -1
    if k.shape != (s, n, n) or omega.shape != (s, n) or phi0.shape != (s, n):
        raise ValueError(
            f"init must hold coupling [S, {n}, {n}], omega [S, {n}], phi0 [S, {n}], "
            f"got {k.shape}, {omega.shape}, {phi0.shape}"
        )
    return k, omega, phi0


def _keep_positions(cfg: KuramotoConfig, grid_index: np.ndarray | None) -> np.ndarray:
    """Map fine-grid index -> output row (or -1). Shapes: ``[n_grid]`` int64."""
    keep_pos = np.full(cfg.n_grid, -1, dtype=np.int64)
    if grid_index is None:
        keep_pos[:] = np.arange(cfg.n_grid)
        return keep_pos
    idx = np.asarray(grid_index)
    if (
        idx.ndim != 1
        or not np.issubdtype(idx.dtype, np.integer)
        or (idx.size and (idx[0] < 0 or idx[-1] >= cfg.n_grid))
        or np.any(np.diff(idx) <= 0)
    ):
        raise ValueError(
            f"grid_index must be sorted distinct integers in [0, {cfg.n_grid}), got "
            f"{idx!r}"
        )
    keep_pos[idx] = np.arange(idx.size)
    return keep_pos


def _dopri5_rhs(
    t: float, y: np.ndarray, omega: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """The original's right-hand side: ``omega_i + sum_j K_ij sin(y_j - y_i)``."""
    dy = y[None, :] - y[:, None]  # [n, n], dy[i, j] = y_j - y_i
    return omega + np.sum(k * np.sin(dy), axis=1)


def dopri5_one(
    k_eff: np.ndarray,
    omega: np.ndarray,
    phi0: np.ndarray,
    dt: float,
    keep_pos: np.ndarray,
    n_keep: int,
) -> np.ndarray:
    """One simulation with SciPy ``ode('dopri5')``, default tolerances, stepping
    ``t_k -> t_{k+1}`` with ``t_k = k dt`` as the original.

    Shapes: k_eff ``[n, n]``, omega / phi0 ``[n]`` -> ``[G, n]``.
    """
    solver = ode(_dopri5_rhs)
    solver.set_integrator("dopri5")
    solver.set_initial_value(phi0.copy(), 0.0)
    solver.set_f_params(omega.copy(), k_eff.copy())
    out = np.empty((n_keep, omega.shape[0]))
    n_grid = keep_pos.shape[0]
    for g in range(n_grid):
        if keep_pos[g] >= 0:
            out[keep_pos[g]] = solver.y
        if g < n_grid - 1:
            solver.integrate((g + 1) * dt)
            if not solver.successful():
                raise RuntimeError(f"dopri5 failed at t = {(g + 1) * dt}")
    return out
