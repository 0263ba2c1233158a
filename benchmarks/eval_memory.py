"""Peak memory of the test protocol (``evaluate_batch``) as N and the batch grow
(issue 16 item 2, docs/benchmarks.md "Evaluation batches sized from N").

Every configuration runs in a fresh subprocess; its **peak** is the peak resident set
size of that process (``ru_maxrss``) minus the resident size just before the
evaluation (model built, data made), i.e. what the evaluation itself adds. On a GPU
it is ``torch.cuda.max_memory_allocated``. Data: the springs-like random walk of
``benchmarks/scale.py`` with 70 frames (T = 49 + 1 + 20), fp32, one thread.

Run:
    .venv/bin/python benchmarks/eval_memory.py --model nri --ns 5,10,20,50 \
        --batches 1,8,32 [--edge-chunk 4096] [--auto] [--budget-gb 2]

``--auto`` evaluates each N at the batch that ``train.eval_batch_size: auto`` picks
(:func:`nri.eval_batch.auto_eval_batch`) and prints the model's estimate beside the
measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _rss_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20  # kB -> GiB
    return float("nan")


def _model(name: str, n: int, edge_chunk: int | None):  # noqa: ANN202
    from nri.models import NRI, NRIConfig
    from nri.models.configs import MPMConfig
    from nri.models.mpm import NRIMPM

    del n
    if name == "nri":
        return NRI(NRIConfig(skip_first=True, edge_chunk=edge_chunk))
    return NRIMPM(MPMConfig(edge_chunk=edge_chunk))


def one(args: argparse.Namespace) -> dict[str, float]:
    """One configuration in this process: seconds and the evaluation's own peak."""
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from scale import _data

    torch.set_num_threads(1)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = _model(args.model, args.n, args.edge_chunk).to(dev).eval()
    x = _data(args.n, args.b, t=70).to(dev)
    gen = torch.Generator(device=dev).manual_seed(0)
    before = _rss_gib()
    t0 = time.perf_counter()
    model.evaluate_batch(x, generator=gen)
    seconds = time.perf_counter() - t0
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20 - before
    return {"seconds": seconds, "peak_gib": peak}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="nri", choices=("nri", "mpm"))
    p.add_argument("--ns", default="5,10,20,50")
    p.add_argument("--batches", default="1,8")
    p.add_argument("--edge-chunk", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--auto", action="store_true")
    p.add_argument("--budget-gb", type=float, default=2.0)
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--b", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args)))
        return
    from nri.eval_batch import auto_eval_batch, eval_bytes_per_sample

    mc = _model(args.model, 2, args.edge_chunk).config
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    print(f"model {args.model}, edge_chunk {args.edge_chunk}, fp32, 1 thread, "
          f"device {args.device}; peak = what evaluate_batch adds")  # fmt: skip
    print("| N | batch | estimate GiB | peak GiB | s |")
    print("|---:|---:|---:|---:|---:|")
    for n in map(int, args.ns.split(",")):
        per = eval_bytes_per_sample(mc, n)
        if args.auto:
            batches = [auto_eval_batch(mc, n, int(args.budget_gb * 2**30))]
        else:
            batches = [int(b) for b in args.batches.split(",")]
        for b in batches:
            cmd = [sys.executable, __file__, "--one", "--model", args.model,
                   "--n", str(n), "--b", str(b), "--device", args.device]  # fmt: skip
            if args.edge_chunk:
                cmd += ["--edge-chunk", str(args.edge_chunk)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode:
                print(f"| {n} | {b} | {per * b / 2**30:.2f} | failed | |")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {n} | {b} | {per * b / 2**30:.2f} | {r['peak_gib']:.2f} "
                  f"| {r['seconds']:.2f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
