"""``nri experiment``: the papers' tables and figures (registered in :data:`nri.cli.COMMANDS`).

The handler imports the library lazily; bad input reaches the user as one line (the CLI
prints ``ValueError`` messages).
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path

from nri.cli_args import nonneg_int as _nonneg_int
from nri.cli_args import positive_int as _positive_int


def _add_experiment(sub: argparse._SubParsersAction) -> None:
    from nri.experiments.spec import DATASETS, METHODS

    names = (
        "table1",
        "table2",
        "table3",
        "fig5",
        "fig6",
        "fig7",
        "fig8",
        "fig9",
        "all",
    )
    p = sub.add_parser(
        "experiment",
        help="reproduce a table or figure of the NRI-MPM paper (runs what it needs)",
        description="Simulate the data, train and evaluate every cell (method x data set "
        "x seed) a table or figure needs, then write it: tables as Markdown and CSV "
        "(ours: mean +- std over seeds; the paper's number beside ours) in OUT/tables, "
        "figures as PNG and SVG in OUT/figures. Resumable: finished cells are never "
        "rerun, an interrupted one continues from its last checkpoint. table1: edge "
        "accuracy; table2: MSE at 1/10/20 steps, 5 objects; table3: ablations on "
        "charged10; fig5: Kuramoto trajectories; fig6: seconds per epoch; fig7: "
        "relation matrices; fig8: MSE over 40 steps; fig9: accuracy and asymmetry "
        "against lambda.",
    )
    p.add_argument("name", choices=names, help="which table or figure (all: every one)")
    p.add_argument(
        "--scale",
        choices=["cpu", "cpu-hour", "paper", "tiny"],
        default="cpu",
        help="cpu: 2000/500/500 simulations, 20 epochs of the cpu recipe (2 CPU cores, "
        "minutes per cell); cpu-hour: 10000/1000/1000 simulations, about an hour per "
        "cell on 2 cores; paper: 50000/10000/10000, 500 epochs (a GPU); tiny: for tests",
    )
    p.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2, 3], help="training seeds (1 2 3)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory: data, runs, tables, figures (experiments/<scale>)",
    )
    p.add_argument(
        "--methods",
        nargs="+",
        default=None,
        metavar="METHOD",
        help=f"only these rows ({', '.join(k for k, m in METHODS.items() if not m.paper_only)})",
    )
    p.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        metavar="SUFFIX",
        help=f"only these data sets ({', '.join(DATASETS)})",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting for every cell, e.g. train.threads=1 (model.* ones: the cells "
        "whose model has it)",
    )
    p.add_argument("--epochs", type=_positive_int, default=None, help="= train.epochs")
    p.add_argument("--train-sims", type=_positive_int, default=None)
    p.add_argument("--valid-sims", type=_positive_int, default=None)
    p.add_argument("--test-sims", type=_positive_int, default=None)
    p.add_argument(
        "--lambdas",
        type=float,
        nargs="+",
        default=None,
        help="fig9: values of model.sym_lambda (1 10 100 1000 10000)",
    )
    p.add_argument(
        "--sample", type=_nonneg_int, default=0, help="fig5, fig7: test sample (0)"
    )
    p.add_argument(
        "--timing",
        choices=["wall", "cpu"],
        default="wall",
        help="fig6: wall-clock or CPU seconds per epoch (cpu: robust on a shared machine)",
    )
    p.add_argument(
        "--eval-seed", type=int, default=0, help="seed of the test protocol (0)"
    )
    p.add_argument(
        "--no-run",
        action="store_true",
        help="train nothing: write the table or figure from the finished cells",
    )
    p.set_defaults(func=_cmd_experiment)


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this call (for the tables' provenance)."""
    parts = ["nri", "experiment", args.name, "--scale", args.scale, "--seeds",
             *map(str, args.seeds)]  # fmt: skip
    if args.out is not None:
        parts += ["--out", str(args.out)]
    for flag in ("methods", "datasets", "lambdas"):
        if getattr(args, flag):
            parts += [f"--{flag}", *map(str, getattr(args, flag))]
    for flag in ("epochs", "train_sims", "valid_sims", "test_sims"):
        if getattr(args, flag) is not None:
            parts += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    for text in args.overrides:
        parts += ["--set", text]
    if args.sample:
        parts += ["--sample", str(args.sample)]
    if args.no_run:
        parts.append("--no-run")
    if args.timing != "wall":
        parts += ["--timing", args.timing]
    if args.eval_seed:
        parts += ["--eval-seed", str(args.eval_seed)]
    return " ".join(shlex.quote(p) for p in parts)


def _cmd_experiment(args: argparse.Namespace) -> int:
    import dataclasses

    from nri.experiments import SCALES, Settings, make

    scale = SCALES[args.scale]
    sizes = {"n_train": args.train_sims, "n_valid": args.valid_sims,
             "n_test": args.test_sims}  # fmt: skip
    scale = dataclasses.replace(scale, **{k: v for k, v in sizes.items() if v})
    overrides = list(args.overrides)
    if args.epochs is not None:
        overrides.append(f"train.epochs={args.epochs}")
    settings = Settings(
        out=args.out or Path("experiments") / args.scale,
        scale=scale,
        seeds=tuple(args.seeds),
        overrides=tuple(overrides),
        run=not args.no_run,
        log=lambda msg: print(msg, flush=True),
        eval_seed=args.eval_seed,
    )
    command = _command(args)
    start = time.perf_counter()
    paths = make(
        args.name, settings, methods=args.methods, datasets=args.datasets,
        lambdas=args.lambdas, sample=args.sample, command=command, timing=args.timing,
    )  # fmt: skip
    print(f"{args.name}: {len(paths)} file(s) in {time.perf_counter() - start:.0f} s")
    return 0
