"""Seconds per training epoch of ModularMeta against NRI on the same data, same run.

Trains ``nri train``'s code path (``nri.training.fit.fit``) for ``--epochs`` epochs with
``--preset modular_meta_springs5`` and ``--preset springs5`` (NRI), each with the
``cpu`` preset (batch 16, decoder window 21) and one thread, alternating the two models
``--repeats`` times so that other jobs on a shared machine slow both alike. The epoch
times come from :class:`nri.experiments.timing.EpochTimer` (``train_s``: the training
batches; ``epoch_s``: with validation). Prints the median per model and the ratio, and
the evaluation time of the test protocol (``nri evaluate``) of the last run of each.

Default data: the reference springs5 set (``../shared/reference-data``, 1000 / 200 /
200 simulations).

Run::

    python benchmarks/modular_meta_epoch.py --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from nri.config import resolve
from nri.data.dataset import load_dataset
from nri.evaluate import evaluate_run
from nri.experiments.timing import EPOCH_FILE, EpochTimer
from nri.training.fit import fit

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data"
MODELS = {"nri": "springs5", "modular_meta": "modular_meta_springs5"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(REFERENCE))
    p.add_argument("--suffix", default="springs5")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--set", action="append", default=[], help="extra overrides")
    args = p.parse_args()
    torch.set_num_threads(1)
    data = load_dataset(args.data, args.suffix)
    sets = ["train.progress_bar=false", "train.threads=1", f"train.epochs={args.epochs}",
            *args.set]  # fmt: skip
    times: dict[str, dict[str, list[float]]] = {m: {"train_s": [], "epoch_s": []}
                                                for m in MODELS}  # fmt: skip
    evals: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name, preset in MODELS.items():
                run = Path(tmp) / f"{name}{r}"
                cfg = resolve([preset, "cpu"], sets)
                fit(cfg, run, data=data, callbacks=[EpochTimer(run)])
                for row in json.loads((run / EPOCH_FILE).read_text()):
                    times[name]["train_s"].append(row["train_s"])
                    times[name]["epoch_s"].append(row["epoch_s"])
                if r == args.repeats - 1:
                    start = time.perf_counter()
                    evaluate_run(run, data, write=False)
                    evals[name] = time.perf_counter() - start
    med = {m: {k: statistics.median(v) for k, v in t.items()} for m, t in times.items()}
    n = data.train.x.shape[0]
    print(f"{args.suffix}, {n} training samples, cpu preset, 1 thread; medians over "
          f"{args.repeats} x {args.epochs} epochs")  # fmt: skip
    for m in MODELS:
        tr, ep = med[m]["train_s"], med[m]["epoch_s"]
        print(f"  {m:13s} train {tr:7.2f} s/epoch  with validation {ep:7.2f} s  "
              f"evaluate (test protocol) {evals[m]:6.1f} s")  # fmt: skip
    ratio = med["modular_meta"]["train_s"] / med["nri"]["train_s"]
    ratio_all = med["modular_meta"]["epoch_s"] / med["nri"]["epoch_s"]
    print(
        f"  ratio modular_meta / nri: {ratio:.2f} (training), {ratio_all:.2f} (epoch)"
    )


if __name__ == "__main__":
    main()
