"""Validation edge accuracy against CPU-seconds, one line per training seed.

The figure of docs/results.md ("Accuracy per CPU-second"): the curves recorded by
``benchmarks/time_to_accuracy.py --json FILE`` (one JSON record per configuration, its
per-epoch ``cpu_s`` and ``val/acc_perm``), one colour per configuration, beside the
original NRI code's per-epoch curves on the same data (4 seeds,
../shared/spec/learning-curves.md) placed on the CPU axis with its CPU-seconds per epoch
measured on the same machine (``--original-cpu-per-epoch``).

Run::

    python benchmarks/accuracy_vs_cpu.py --run "NRI (cpu + anneal)=nri.jsonl" \
        --run "NRI-MPM (cpu)=mpm.jsonl" --original-cpu-per-epoch 11.9 \
        --out docs/results/accuracy_vs_cpu_springs5.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The original NRI code (ethanfetaya/NRI, --skip-first, batch 128, fp32) on the original
# generator's springs5 set, seed 7: validation accuracy at these epochs, per training
# seed (../shared/spec/learning-curves.md, "Curves").
ORIGINAL_EPOCHS = (1, 3, 5, 6, 8, 10, 13, 17, 20)
ORIGINAL_NRI = {
    42: (0.511, 0.542, 0.659, 0.748, 0.817, 0.843, 0.871, 0.898, 0.909),
    1: (0.505, 0.516, 0.536, 0.560, 0.627, 0.689, 0.779, 0.856, 0.883),
    2: (0.495, 0.515, 0.646, 0.737, 0.801, 0.838, 0.869, 0.898, 0.899),
    3: (0.505, 0.511, 0.536, 0.572, 0.651, 0.752, 0.820, 0.842, 0.874),
}


def read_runs(path: Path) -> list[list[tuple[float, float]]]:
    """Per seed, (CPU-s, validation accuracy) per epoch from a time_to_accuracy
    ``--json`` file: every record's seeds, a later record's curve replacing an
    earlier one of the same seed (files of several runs can be concatenated)."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    if not lines:
        raise SystemExit(f"{path}: no records; run time_to_accuracy.py --json {path}")
    by_seed: dict[int, list[tuple[float, float]]] = {}
    for line in lines:
        for res in json.loads(line)["results"]:
            by_seed[res["seed"]] = [
                (r["cpu_s"], r["val/acc_perm"])
                for r in res["curve"]
                if "val/acc_perm" in r
            ]
    return [by_seed[k] for k in sorted(by_seed)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", action="append", required=True, help="LABEL=FILE.jsonl")
    p.add_argument("--original-cpu-per-epoch", type=float, default=None)
    p.add_argument("--target", type=float, default=0.90)
    p.add_argument(
        "--title",
        default="springs5 (original generator, seed 7), one thread per run",
    )
    p.add_argument("--ylim", type=float, nargs=2, default=(0.45, 1.0))
    p.add_argument("--out", required=True)
    a = p.parse_args()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    colours = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    for spec in a.run:
        label, _, file = spec.partition("=")
        colour = next(colours)
        runs = read_runs(Path(file))
        for i, curve in enumerate(runs):
            xs, ys = zip(*curve, strict=True)
            ax.plot(xs, ys, "-o", ms=3, lw=1.3, color=colour,
                    label=f"{label} ({len(runs)} seed{'s' if len(runs) > 1 else ''})"
                    if i == 0 else None)  # fmt: skip
    if a.original_cpu_per_epoch:
        colour = next(colours)
        for i, ys in enumerate(ORIGINAL_NRI.values()):
            xs = [e * a.original_cpu_per_epoch for e in ORIGINAL_EPOCHS]
            ax.plot(xs, ys, "--s", ms=3, lw=1.1, color=colour,
                    label="original NRI code (4 seeds)" if i == 0 else None)  # fmt: skip
    ax.axhline(a.target, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("CPU-seconds of the training process (validation included)")
    ax.set_ylabel("validation edge accuracy")
    ax.set_ylim(*a.ylim)
    ax.set_xlim(left=0)
    ax.set_title(a.title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.95)
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
