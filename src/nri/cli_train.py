"""Commands for models: ``nri train`` and ``nri evaluate``.

Registered in :data:`nri.cli.COMMANDS`; handlers import the library lazily.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nri.cli_args import positive_int
from nri.config import preset_names


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model (NRI) on a data set",
        description="Train a model into a run directory (config, normaliser, best and last "
        "checkpoints, CSV and TensorBoard logs), then evaluate the best checkpoint.",
    )
    p.add_argument(
        "--preset",
        action="append",
        default=[],
        help="preset name or YAML file; repeat to combine (e.g. springs5 then cpu). "
        f"Presets: {', '.join(preset_names())}",
    )
    p.add_argument("--data", type=Path, default=None, help="data set directory")
    p.add_argument(
        "--out", type=Path, default=None, help="run directory (runs/<suffix>)"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. train.epochs=20 or model.skip_first=true",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--epochs", type=positive_int, default=None, help="= train.epochs")
    p.add_argument("--seed", type=int, default=None, help="= train.seed")
    p.add_argument(
        "--accelerator", default=None, help="cpu, gpu, auto (= train.accelerator)"
    )
    p.add_argument(
        "--devices", default=None, help="device count or list (= train.devices)"
    )
    p.add_argument("--precision", default=None, help="32-true, bf16-mixed, ...")
    p.add_argument(
        "--strategy",
        default=None,
        help="auto or ddp (one process per device; train.batch_size stays the global "
        "batch; docs/distributed.md)",
    )
    p.add_argument("--num-nodes", type=positive_int, default=None)
    p.add_argument("--no-eval", action="store_true", help="skip the test evaluation")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from nri.config import resolve
    from nri.evaluate import evaluate_run, format_metrics
    from nri.training.fit import fit

    overrides = list(args.overrides)
    for flag, key in (("epochs", "train.epochs"), ("seed", "train.seed"),
                      ("accelerator", "train.accelerator"), ("devices", "train.devices"),
                      ("precision", "train.precision"), ("strategy", "train.strategy"),
                      ("num_nodes", "train.num_nodes")):  # fmt: skip
        value = getattr(args, flag)
        if value is not None:
            overrides.append(
                f"{key}={value}" if flag != "devices" else f"{key}='{value}'"
            )
    if args.data is not None:  # resolved: the run works from any directory
        overrides.append(f"data.path='{args.data.resolve()}'")
    config = resolve(args.preset or ["springs5"], overrides)
    out = args.out or Path("runs") / (config.data.suffix or "run")
    result = fit(config, out, resume=args.resume)
    if not result.is_global_zero:
        return 0  # a DDP worker process: rank 0 reports and evaluates
    print(
        f"trained in {result.seconds:.1f} s; best {result.monitor} {result.best_score:.4g}"
    )
    print(f"run directory: {result.run_dir}")
    if not args.no_eval:  # batches sized from N (train.eval_batch_size, nri.eval_batch)
        print(format_metrics(evaluate_run(result.run_dir)))
    return 0


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a trained run with the papers' test protocol",
        description="Encoder on frames 0..W-1 of every sample (W = the run's "
        "model.n_timesteps; 49 for the papers' presets), a hard Gumbel graph, then a "
        "rollout of H = model.test_horizon frames (20) from frame W; needs W + 1 + H "
        "frames per sample. Raw and permutation-invariant accuracy (skip_first runs: "
        "type 0 stays 'no interaction'), AUROC, asymmetry, MSE per horizon in "
        "normalised units. Writes RUN/metrics.json (other --data or --split: "
        "RUN/metrics_<data>_<split>.json, so the run's own metrics stay).",
    )
    p.add_argument("run", type=Path, help="run directory")
    p.add_argument(
        "--data", type=Path, default=None, help="data directory (default: the run's)"
    )
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--checkpoint", default="best", help="best, last or a .ckpt path")
    p.add_argument("--eval-seed", type=int, default=None)
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="samples per evaluation batch (default: the run's train.eval_batch_size; "
        "auto = sized from N within train.eval_memory_gb; lower it when memory runs "
        "out)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="metrics JSON file to write (default RUN/metrics.json for the run's own "
        "test split, else RUN/metrics_<data>_<split>.json beside it)",
    )
    p.add_argument(
        "--any-objects",
        "--allow-other-objects",
        dest="allow_other_objects",
        action="store_true",
        help="evaluate on data with other objects (another number, or other names: "
        "taken by position) than the training data",
    )
    p.set_defaults(func=_cmd_evaluate)


def _default_metrics_file(run: Path, data: Path | None, split: str) -> Path:
    """``RUN/metrics.json`` (what ``nri train`` wrote and ``nri report`` shows) for
    the run's own test split only; other data or splits go beside it, named by them
    (``metrics_<data>_<split>.json``), so that they never replace the run's own."""
    from nri.data.files import safe_name
    from nri.training.run_dir import run_data_path

    own = data is None
    if not own and run.is_dir():
        try:
            own = data.resolve() == run_data_path(run).resolve()
        except (OSError, ValueError):  # RunError: no recorded data, so other data
            own = False
    if own:
        return run / ("metrics.json" if split == "test" else f"metrics_{split}.json")
    return run / f"metrics_{safe_name(data.name)}_{split}.json"


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from nri.atomic import write_text_atomic
    from nri.cli_results import check_out_file
    from nri.evaluate import evaluate_run, format_metrics
    from nri.metrics import json_text

    target = args.out or _default_metrics_file(args.run, args.data, args.split)
    if args.out is not None or args.run.is_dir():
        check_out_file(target, "metrics.json")
    metrics = evaluate_run(
        args.run, args.data, split=args.split, checkpoint=args.checkpoint,
        eval_seed=args.eval_seed, batch_size=args.batch_size,
        allow_other_objects=args.allow_other_objects, write=False,
    )  # fmt: skip
    try:
        write_text_atomic(target, json_text(metrics))
    except OSError as err:
        raise ValueError(f"cannot write {target}: {err.strerror or err}") from None
    print(format_metrics(metrics))
    print(f"wrote {target}")
    return 0
