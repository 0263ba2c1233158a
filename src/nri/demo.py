"""The built-in demo: the main job of the library on a small default problem.

Simulates a small springs5 data set, trains NRI on it on the CPU (preset springs5 + cpu)
and prints the test metrics of the papers' protocol, then writes the HTML report of the run
(``OUT/run/report.html``) and prints its path.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from nri.config import resolve
from nri.data.dataset import load_dataset
from nri.evaluate import evaluate_run, format_metrics
from nri.report import write_report
from nri.sim.io import DatasetConfig, write_dataset
from nri.training.fit import fit


def run_demo(out: str | Path = "demo", seed: int = 42, epochs: int = 20) -> dict:
    """Simulate, train and evaluate; returns the test metrics.

    Writes ``OUT/data`` (the data set) and ``OUT/run`` (the run directory; replaced if
    it exists).
    """
    out = Path(out)
    cfg = DatasetConfig(
        system="springs", n_objects=5, n_train=2000, n_valid=500, n_test=500, seed=seed
    )
    start = time.perf_counter()
    write_dataset(cfg, out / "data")
    print(
        f"[1/3] simulated springs5 (2000/500/500) in {time.perf_counter() - start:.1f} s"
    )
    data = load_dataset(out / "data", "springs5")
    print(data.summary())

    run_dir = out / "run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    config = resolve(
        ["springs5", "cpu"], [f"train.epochs={epochs}", f"train.seed={seed}"]
    )
    print(
        f"[2/3] training NRI (MLP encoder + MLP decoder, skip_first) for {epochs} epochs"
    )
    result = fit(config, run_dir, data=data)
    print(f"      trained in {result.seconds:.0f} s -> {run_dir}")
    print("[3/3] test protocol (encoder on frames 0-48, 20-step rollout from frame 49)")
    metrics = evaluate_run(run_dir, data)
    print(format_metrics(metrics))
    report = write_report(run_dir)  # plots, inferred graph, metrics: one HTML file
    print(f"report: {report.resolve()}")
    return metrics
