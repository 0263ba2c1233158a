"""Speed of the Kuramoto simulator: vectorised RK4 vs the one-at-a-time dopri5 loop.

Run: ``PYTHONPATH=src python benchmarks/_kuramoto_loop.py [n_fast] [n_loop]``. Set
``NUMBA_NUM_THREADS=1`` for a single-core figure.
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

from nri.sim.kuramoto import KuramotoConfig, simulate_kuramoto, simulate_kuramoto_loop


def bench(n_fast: int = 2000, n_loop: int = 20, n_objects: int = 5) -> dict[str, float]:
    """Simulations per second of both paths (99 test frames, default constants)."""
    cfg = KuramotoConfig(n_objects=n_objects)
    simulate_kuramoto(
        cfg, 2, 99, np.random.default_rng(0)
    )  # numba compile / cache load
    t0 = time.perf_counter()
    simulate_kuramoto(cfg, n_fast, 99, np.random.default_rng(1))
    fast = n_fast / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    simulate_kuramoto_loop(cfg, n_loop, 99, np.random.default_rng(1))
    loop = n_loop / (time.perf_counter() - t0)
    return {
        "rk4_sims_per_s": fast,
        "dopri5_loop_sims_per_s": loop,
        "speedup": fast / loop,
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    result = bench(*args)
    print(f"numba threads: {numba.get_num_threads()}")
    for key, value in result.items():
        print(f"{key}: {value:.1f}")
