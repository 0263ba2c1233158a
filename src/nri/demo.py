"""The built-in demo: the main job of the library on a small default problem."""

from __future__ import annotations

import time
from pathlib import Path

from nri.data.dataset import load_dataset
from nri.sim.io import DatasetConfig, write_dataset


def run_demo(out: str | Path = "demo", seed: int = 42) -> None:
    """Simulate a small springs5 data set, load it and print its summary."""
    out = Path(out)
    cfg = DatasetConfig(
        system="springs", n_objects=5, n_train=2000, n_valid=500, n_test=500, seed=seed
    )
    start = time.perf_counter()
    write_dataset(cfg, out / "data")
    print(f"simulated springs5 (2000/500/500) in {time.perf_counter() - start:.1f} s")
    print(load_dataset(out / "data", "springs5").summary())
