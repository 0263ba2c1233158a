"""Cost of one training step as the number of objects grows (issue 16, docs/scale.md).

For NRI (MLP encoder, MLP decoder, ``skip_first``: the springs5 model) and NRI-MPM
(relation-interaction encoder with the GRU, ST decoder: the springs model) at
N = 15, 30, 50, 100, 150, 250 objects, batch 8, springs-like features (F = 4, T = 49
frames: a smooth random walk of positions and its differences, min-max scaled to
[-1, 1]), with all pairs (``model.candidates=all``) and with the k = 10 nearest
neighbours (``model.candidates=knn``). One step = forward, backward and Adam step of
``model.loss``, the step of ``nri train`` without Lightning.

Every configuration runs in a fresh subprocess, so that its peak memory is its own:
**peak memory** is the peak resident set size of that process (``ru_maxrss`` of the
child, which includes the ~0.4 GB of the interpreter and PyTorch), or on a GPU
``torch.cuda.max_memory_allocated`` (tensors only). **s/step** is the median over
``--repeats`` steps after one warm-up step. The last column is the step's time over
the same model's all-pairs step at the smallest N of the run (the issue's target:
k = 10 at N = 100 at most 3x an N = 15 all-pairs step).

Run (one thread, bf16 as the issue's table):
    .venv/bin/python benchmarks/scale.py --threads 1 [--max-n 50] [--models nri,mpm]
        [--candidates all,knn] [--k 10] [--edge-chunk 4096] [--repeats 3]
        [--precision bf16|fp32] [--device cpu|cuda] [--max-gb 5]

``--max-gb`` skips a configuration whose estimated peak (from the previous N of the
same model and candidates, scaled by the edge count) would exceed it.

``--interleave`` measures time only, robust to a machine whose load changes: every
configuration is built in this one process and the steps alternate between them
(repeat 1 of each, then repeat 2 of each, ...); the ratios to the first all-pairs
configuration are medians of per-round ratios. No memory column then, and no
``--max-gb`` guard (all models live at once): bound it with ``--max-edges``, which
skips every configuration with more edges (both modes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

NS = (15, 30, 50, 100, 150, 250)


def _data(n: int, b: int = 8, t: int = 49, seed: int = 0):  # noqa: ANN202
    import torch

    g = torch.Generator().manual_seed(seed)
    steps = torch.randn(b, n, t + 1, 2, generator=g) * 0.1
    loc = steps.cumsum(dim=2)  # [B, N, T+1, 2] random walk
    vel = loc[:, :, 1:] - loc[:, :, :-1]
    x = torch.cat([loc[:, :, 1:], vel], dim=-1)  # [B, N, T, 4]
    lo = x.amin(dim=(0, 1, 2), keepdim=True)
    hi = x.amax(dim=(0, 1, 2), keepdim=True)
    return (2 * (x - lo) / (hi - lo) - 1).contiguous()


def _model(name: str, candidates: str, k: int, edge_chunk: int | None):  # noqa: ANN202
    from nri.models import NRI, NRIConfig
    from nri.models.configs import MPMConfig
    from nri.models.mpm import NRIMPM

    common = {"candidates": candidates, "candidates_k": k, "edge_chunk": edge_chunk}
    if name == "nri":
        return NRI(NRIConfig(skip_first=True, **common))
    return NRIMPM(MPMConfig(**common))


def _stepper(args: argparse.Namespace, model_name: str, cand: str, n: int):  # noqa: ANN202
    """A function running one training step of a configuration (returns s)."""
    import torch

    dev = torch.device(args.device)
    torch.manual_seed(0)
    model = _model(model_name, cand, args.k, args.edge_chunk).to(dev)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = _data(n).to(dev)
    gen = torch.Generator(device=dev).manual_seed(0)
    bf16 = args.precision == "bf16"

    def step() -> float:
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            out = model.loss(x, gen)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    return step


def interleaved(args: argparse.Namespace, ns: list[int]) -> None:
    """Time only: all configurations in this process, steps alternating."""
    import torch

    torch.set_num_threads(args.threads)
    for model in args.models.split(","):
        configs = [(c, n) for c in args.candidates.split(",") for n in ns
                   if not (c == "knn" and args.k >= n - 1)
                   and _edges(n, c, args.k) <= (args.max_edges or 10**12)]  # fmt: skip
        steps = [_stepper(args, model, c, n) for c, n in configs]
        for s in steps:
            s()  # warm-up
        times: list[list[float]] = [[] for _ in configs]
        for _ in range(args.repeats):
            for i, s in enumerate(steps):
                times[i].append(s())
        base = next((i for i, (c, _) in enumerate(configs) if c == "all"), 0)
        for i, (c, n) in enumerate(configs):
            ratio = statistics.median(
                t / b for t, b in zip(times[i], times[base], strict=True)
            )
            label = c if c == "all" else f"knn k={args.k}"
            print(f"| {model} | {n} | {label} | {_edges(n, c, args.k)} | "
                  f"{statistics.median(times[i]):.3f} | | {ratio:.2f} |", flush=True)  # fmt: skip


def one(args: argparse.Namespace) -> dict[str, float]:
    """One configuration in this process: median s/step and peak memory."""
    import torch

    torch.set_num_threads(args.threads)
    step = _stepper(args, args.model, args.cand, args.n)
    step()  # the first step warms up
    times = [step() for _ in range(args.repeats)]
    if torch.device(args.device).type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB->GiB
    return {"s_step": statistics.median(times), "peak_gib": peak}


BASE_GIB = 0.4  # the interpreter and PyTorch, before any tensor


def _estimate(last: tuple[int, float], edges: int) -> float:
    """Peak memory at ``edges`` edges from the last run's (edges, peak): what is
    above the base scales with the edge count."""
    return BASE_GIB + max(last[1] - BASE_GIB, 0.0) * edges / last[0]


def _edges(n: int, cand: str, k: int) -> int:
    return n * (n - 1) if cand == "all" else n * k


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="nri,mpm")
    p.add_argument("--candidates", default="all,knn")
    p.add_argument("--ns", default=",".join(map(str, NS)))
    p.add_argument("--max-n", type=int, default=max(NS))
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--edge-chunk", type=int, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    p.add_argument("--device", default="cpu")
    p.add_argument("--max-gb", type=float, default=None)
    p.add_argument("--interleave", action="store_true")
    p.add_argument("--max-edges", type=int, default=None)
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--cand", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args)))
        return
    ns = [n for n in map(int, args.ns.split(",")) if n <= args.max_n]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    print(
        f"batch 8, T = 49, F = 4, {args.precision}, {args.threads} thread(s), "
        f"device {args.device}, k = {args.k}, edge_chunk {args.edge_chunk}, "
        f"median of {args.repeats} steps; peak = "
        + (
            "none (--interleave)"
            if args.interleave
            else "max_memory_allocated"
            if args.device.startswith("cuda")
            else "peak RSS"
        )
    )
    print("| model | N | candidates | edges | s/step | peak GiB | x first all |")
    print("|---|---|---|---|---|---|---|")
    if args.interleave:
        interleaved(args, ns)
        return
    for model in args.models.split(","):
        base: float | None = None
        for cand in args.candidates.split(","):
            last: tuple[int, float] | None = None
            for n in ns:
                if cand == "knn" and args.k >= n - 1:
                    continue
                e = _edges(n, cand, args.k)
                if args.max_edges and e > args.max_edges:
                    continue
                if args.max_gb and last and _estimate(last, e) > args.max_gb:
                    print(f"| {model} | {n} | {cand} | {e} | skipped | "
                          f"> {args.max_gb} (est.) | |", flush=True)  # fmt: skip
                    continue
                cmd = [sys.executable, __file__, "--one", "--model", model,
                       "--cand", cand, "--n", str(n), "--k", str(args.k),
                       "--threads", str(args.threads), "--repeats",
                       str(args.repeats), "--precision", args.precision,
                       "--device", args.device]  # fmt: skip
                if args.edge_chunk:
                    cmd += ["--edge-chunk", str(args.edge_chunk)]
                run = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if run.returncode != 0:
                    why = (run.stderr.strip().splitlines() or ["killed"])[-1][:60]
                    print(f"| {model} | {n} | {cand} | {e} | failed: {why} | | |")
                    continue
                r = json.loads(run.stdout.strip().splitlines()[-1])
                if base is None and cand == "all":
                    base = r["s_step"]
                ratio = f"{r['s_step'] / base:.2f}" if base else ""
                label = cand if cand == "all" else f"knn k={args.k}"
                print(f"| {model} | {n} | {label} | {e} | {r['s_step']:.3f} | "
                      f"{r['peak_gib']:.2f} | {ratio} |", flush=True)  # fmt: skip
                last = (e, r["peak_gib"])


if __name__ == "__main__":
    main()
