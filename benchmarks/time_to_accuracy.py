"""Time to accuracy: train a preset until a target validation edge accuracy, per seed.

What a user waits for is accuracy, not step time. This trains ``nri train``'s code path
(``nri.training.fit.fit``) with the given presets and overrides, once per seed, stops
each run at the first epoch whose validation permutation-invariant edge accuracy
reaches ``--target`` (``train.stop_at_val_acc``), and prints per seed the epochs,
optimiser steps, CPU-seconds (the process, all threads, validation included) and wall
seconds to the target, their medians, and the original NRI code's recorded figures on
the same data beside them (../shared/spec/learning-curves.md).

Each run is a subprocess; ``--jobs 2`` runs two seeds side by side (give them
``train.threads=1`` then: CPU-seconds stay comparable, wall seconds do not).

Default data: the original generator's springs5 set, seed 7, 2000 / 500 / 500
simulations (``nri simulate springs --reference --seed 7``), written once into
``--data`` if missing.

Run::

    python benchmarks/time_to_accuracy.py --preset springs5 --preset cpu --target 0.9
    python benchmarks/time_to_accuracy.py --preset springs5 --preset reference \\
        --set train.precision=32-true --set train.epochs=40 --label original-settings
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The original NRI code (ethanfetaya/NRI, --skip-first, lr 5e-4, batch 128, fp32) on this
# data set: validation accuracy per epoch, 4 seeds (../shared/spec/learning-curves.md),
# ~12.5 s per epoch on 2 threads of the AVX-512 development machine.
ORIGINAL_NRI_SPRINGS5 = {
    "epochs_to_0.90": "17-20+ (seeds 42: 20; 1: >20; 2: 20 (0.899 at 17-20); 3: >20)",
    "epochs_to_0.83": "9 / 13 / 9 / 12 (seeds 42 / 1 / 2 / 3)",
    "s_per_epoch_avx512": 12.5,
}

CALLBACK = """
import json, sys, time
import lightning as L
from nri.config import resolve
from nri.training.fit import fit


class Curve(L.Callback):
    def __init__(self, path):
        self.path, self.rows = path, []
        self.c0, self.w0 = time.process_time(), time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        m = trainer.callback_metrics
        row = {"epoch": trainer.current_epoch + 1, "step": trainer.global_step,
               "cpu_s": time.process_time() - self.c0,
               "wall_s": time.perf_counter() - self.w0}
        for key in ("val/acc_perm", "val/nll", "val/mse"):
            if key in m:
                row[key] = float(m[key])
        self.rows.append(row)
        with open(self.path, "w") as f:
            json.dump(self.rows, f)


spec = json.loads(sys.argv[1])
config = resolve(spec["presets"], spec["overrides"])
result = fit(config, spec["run_dir"], data=spec["data"], callbacks=[Curve(spec["curve"])])
"""


def ensure_data(path: Path, system: str) -> None:
    """Write the reference-generator 5-object set (seed 7, 2000/500/500) if missing.

    Two benchmark processes started at once with the same ``--data`` take turns on a
    lock file beside it, so that one writes the set and the other then finds it.
    """
    import fcntl

    if (path / f"meta_{system}5.json").exists():
        return
    from nri.sim.io import DatasetConfig, write_dataset

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / f"meta_{system}5.json").exists():
            return
        cfg = DatasetConfig(
            system=system, n_objects=5, n_train=2000, n_valid=500, n_test=500, seed=7,
            reference=system != "kuramoto",
        )  # fmt: skip
        write_dataset(cfg, path)


def run_one(spec: dict[str, Any]) -> subprocess.Popen:
    env = dict(os.environ)
    threads = spec.get("threads")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    log = open(Path(spec["run_dir"]).with_suffix(".log"), "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-c", CALLBACK, json.dumps(spec)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )


def first_reaching(rows: list[dict[str, Any]], target: float) -> dict[str, Any] | None:
    for row in rows:
        if row.get("val/acc_perm", 0.0) >= target:
            return row
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", action="append", default=None)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--target", type=float, default=0.90)
    p.add_argument("--max-epochs", type=int, default=40)
    p.add_argument("--data", default="benchmarks/.data/springs5_ref7")
    p.add_argument("--system", default="springs", help="for generating --data")
    p.add_argument("--out", default="benchmarks/.runs/tta")
    p.add_argument("--label", default=None, help="name of this configuration")
    p.add_argument("--jobs", type=int, default=1, help="runs side by side")
    p.add_argument("--threads", type=int, default=None, help="OMP threads per run")
    p.add_argument("--json", default=None, help="append the results to this file")
    args = p.parse_args()
    presets = args.preset or ["springs5", "cpu"]
    label = args.label or "+".join(presets + args.overrides)
    data = Path(args.data)
    ensure_data(data, args.system)

    out = Path(args.out) / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    overrides = [
        *args.overrides,
        f"train.epochs={args.max_epochs}",
        f"train.stop_at_val_acc={args.target}",
        "train.progress_bar=false",
    ]
    specs = []
    for seed in args.seeds:
        specs.append({
            "presets": presets, "overrides": [*overrides, f"train.seed={seed}"],
            "run_dir": str(out / f"seed{seed}"), "curve": str(out / f"seed{seed}.json"),
            "data": str(data), "threads": args.threads, "seed": seed,
        })  # fmt: skip
    load_before = os.getloadavg()[0]
    pending, running = list(specs), []
    while pending or running:
        while pending and len(running) < args.jobs:
            spec = pending.pop(0)
            running.append((spec, run_one(spec)))
        time.sleep(1.0)
        for item in list(running):
            if item[1].poll() is not None:
                running.remove(item)
                if item[1].returncode != 0:
                    print(
                        f"seed {item[0]['seed']} failed; see {item[0]['run_dir']}.log"
                    )
    load_after = os.getloadavg()[0]

    print(f"\n{label}: target {args.target:.2f} validation accuracy (load average "
          f"{load_before:.1f} before, {load_after:.1f} after; {args.jobs} job(s))")  # fmt: skip
    print("| seed | epochs | steps | CPU-s | wall-s | best acc | acc per epoch |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    results = []
    for spec in specs:
        path = Path(spec["curve"])
        rows = json.loads(path.read_text()) if path.exists() else []
        hit = first_reaching(rows, args.target)
        best = max((r.get("val/acc_perm", 0.0) for r in rows), default=float("nan"))
        curve = " ".join(f"{r.get('val/acc_perm', float('nan')):.3f}" for r in rows)
        if hit:
            print(f"| {spec['seed']} | {hit['epoch']} | {hit['step']} | "
                  f"{hit['cpu_s']:.0f} | {hit['wall_s']:.0f} | {best:.3f} | {curve} |")  # fmt: skip
        else:
            print(
                f"| {spec['seed']} | >{len(rows)} | - | - | - | {best:.3f} | {curve} |"
            )
        results.append({"seed": spec["seed"], "hit": hit, "curve": rows})
    hits = [r["hit"] for r in results if r["hit"]]
    if len(hits) == len(results):
        keys = ("epoch", "step", "cpu_s", "wall_s")
        med = {k: statistics.median(h[k] for h in hits) for k in keys}
        print(f"| median | {med['epoch']:g} | {med['step']:g} | {med['cpu_s']:.0f} | "
              f"{med['wall_s']:.0f} | | |")  # fmt: skip
    else:
        print(
            f"| median | not reached by {len(results) - len(hits)} seed(s) | | | | | |"
        )
    print(f"original NRI on this data (recorded): {ORIGINAL_NRI_SPRINGS5}")
    if args.json:
        record = {"label": label, "presets": presets, "overrides": args.overrides,
                  "target": args.target, "results": results,
                  "load": [load_before, load_after], "jobs": args.jobs}  # fmt: skip
        with open(args.json, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
