"""Simulator speed: our vectorised/compiled simulators against a one-at-a-time loop.

The loop baseline is a straightforward per-simulation NumPy implementation of the same
physics, written the way the original generator is (an ``[n, n]`` outer difference and a
force sum every step, one simulation after another). Both are measured in the same run;
the table reports medians over ``--repeats`` and their ratio.

Run:
    .venv/bin/python benchmarks/simulate.py                 # the table
    .venv/bin/python benchmarks/simulate.py --full-springs5 # + the 50k/10k/10k set via CLI
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from nri.sim.charged import ChargedConfig, simulate_charged
from nri.sim.kuramoto import KuramotoConfig, simulate_kuramoto, simulate_kuramoto_loop
from nri.sim.particles import ParticleConfig
from nri.sim.springs import SpringsConfig, simulate_springs


def loop_particles(
    charged: bool, cfg: ParticleConfig, n_sims: int, n_steps: int
) -> None:
    """The original style: one simulation at a time, NumPy on [2, n] arrays."""
    rng = np.random.RandomState(0)
    n, box, dt, k = cfg.n_objects, cfg.box_size, cfg.dt, cfg.interaction_strength
    t_save = n_steps // cfg.sample_freq - 1

    def clamp(loc: np.ndarray, vel: np.ndarray) -> None:
        assert np.all(loc < 3 * box) and np.all(loc > -3 * box)
        over = loc > box
        loc[over] = 2 * box - loc[over]
        vel[over] = -np.abs(vel[over])
        under = loc < -box
        loc[under] = -2 * box - loc[under]
        vel[under] = np.abs(vel[under])

    def force(loc: np.ndarray, edges: np.ndarray) -> np.ndarray:
        if charged:
            p = loc.T
            sq = (p**2).sum(axis=1)
            r2 = sq[:, None] + sq[None, :] - 2 * p.dot(p.T)
            with np.errstate(divide="ignore", invalid="ignore"):
                size = k * edges / np.power(r2, 1.5)
        else:
            size = -k * edges
        np.fill_diagonal(size, 0)
        diff = np.stack(
            [np.subtract.outer(loc[0], loc[0]), np.subtract.outer(loc[1], loc[1])]
        )
        f = (size[None] * diff).sum(axis=-1)
        f[f > cfg.max_force] = cfg.max_force
        f[f < -cfg.max_force] = -cfg.max_force
        return f

    for _ in range(n_sims):
        if charged:
            q = rng.choice([-1.0, 0.0, 1.0], size=(n, 1), p=[0.5, 0, 0.5])
            edges = q @ q.T
        else:
            d = rng.choice([0.0, 0.5, 1.0], size=(n, n), p=[0.5, 0, 0.5])
            edges = np.tril(d) + np.tril(d, -1).T
            np.fill_diagonal(edges, 0)
        out_loc = np.zeros((t_save, 2, n))
        out_vel = np.zeros((t_save, 2, n))
        loc = rng.randn(2, n) * cfg.loc_std
        vel = rng.randn(2, n)
        vel = vel * cfg.vel_norm / np.sqrt((vel**2).sum(axis=0))
        clamp(loc, vel)
        vel += dt * force(loc, edges)
        counter = 0
        for i in range(1, n_steps):
            loc += dt * vel
            clamp(loc, vel)
            if i % cfg.sample_freq == 0:
                out_loc[counter], out_vel[counter] = loc, vel
                counter += 1
            vel += dt * force(loc, edges)


def _time(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fast-sims", type=int, default=5000)
    parser.add_argument("--loop-sims", type=int, default=10)
    parser.add_argument("--full-springs5", action="store_true")
    args = parser.parse_args()

    print(f"cpu cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    rows = []
    cases = [
        ("springs5", False, SpringsConfig()),
        ("charged5", True, ChargedConfig()),
        ("springs10", False, SpringsConfig(n_objects=10)),
    ]
    for name, charged, cfg in cases:
        sim = simulate_charged if charged else simulate_springs
        sim(cfg, 4, 5000, np.random.default_rng(0))  # compile / load the kernel cache
        fast = _time(
            lambda s=sim, c=cfg: s(c, args.fast_sims, 5000, np.random.default_rng(1)),
            args.repeats,
        )
        loop = _time(
            lambda ch=charged, c=cfg: loop_particles(ch, c, args.loop_sims, 5000),
            args.repeats,
        )
        rows.append((name, args.fast_sims / fast, args.loop_sims / loop))

    kcfg = KuramotoConfig()
    simulate_kuramoto(kcfg, 4, 49, np.random.default_rng(0))
    n_k = max(args.fast_sims // 5, 10)
    fast = _time(
        lambda: simulate_kuramoto(kcfg, n_k, 49, np.random.default_rng(1)), args.repeats
    )
    loop = _time(
        lambda: simulate_kuramoto_loop(
            kcfg, args.loop_sims, 49, np.random.default_rng(1)
        ),
        args.repeats,
    )
    rows.append(("kuramoto5", n_k / fast, args.loop_sims / loop))

    print(f"\n{'system':<10} {'ours sims/s':>12} {'loop sims/s':>12} {'ratio':>8}")
    for name, ours, base in rows:
        print(f"{name:<10} {ours:>12.0f} {base:>12.1f} {ours / base:>7.0f}x")
    print("(5000 integration steps per particle simulation; Kuramoto: 49 frames,"
          " RK4 8 substeps vs SciPy dopri5 per simulation)")  # fmt: skip

    if args.full_springs5:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "nri.cli", "simulate", "springs", "--out", tmp,
                   "--quiet"]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            print(
                f"\nfull springs5 50k/10k/10k via CLI: {time.perf_counter() - start:.1f} s"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
