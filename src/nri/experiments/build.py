"""``nri experiment NAME``: run the cells a table or figure needs, then write it.

:func:`make` is the entry point: ``table1`` .. ``table3`` write ``OUT/tables/<name>.md``
and ``.csv``; ``fig5`` .. ``fig9`` write ``OUT/figures/<name>.png`` and ``.svg``;
``all`` does every one in turn. Finished cells are reused (never rerun).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nri.experiments import figures as figs
from nri.experiments import tables as tabs
from nri.experiments.evaluations import (
    forecast_sample,
    horizon_mse,
    relation_matrix,
    true_relations,
)
from nri.experiments.runner import (
    Cell,
    ExperimentError,
    Settings,
    _comparable,
    cell_config,
    data_dir,
    run_cells,
)
from nri.experiments.spec import (
    DATASETS,
    DEFAULT_LAMBDAS,
    FIGURES,
    METHODS,
    TABLES,
    Method,
    dataset_label,
    lambda_method,
)
from nri.experiments.timing import host_info

NAMES: tuple[str, ...] = (*TABLES, *FIGURES)

FEATURE_NAMES = {
    "kuramoto": ("dphi/dt", "sin(phase)", "omega"),
    "springs": ("x", "y", "vx", "vy"),
    "charged": ("x", "y", "vx", "vy"),
}


def _pick(
    what: str,
    asked: Sequence[str] | None,
    allowed: Sequence[str],
    name: str,
    default: Sequence[str] | None = None,
) -> tuple[str, ...]:
    if not asked:
        return tuple(allowed if default is None else default)
    bad = [a for a in asked if a not in allowed]
    if bad:
        raise ExperimentError(
            f"{name} has no {what} {', '.join(bad)}; choose from {', '.join(allowed)}"
        )
    return tuple(a for a in allowed if a in asked)  # the table's order


def _cells(
    methods: Sequence[Method], datasets: Sequence[str], seeds: Sequence[int]
) -> list[Cell]:
    return [Cell(m, d, s) for d in datasets for m in methods for s in seeds]


def _header(
    settings: Settings, results: dict[Cell, dict[str, Any]], command: str
) -> str:
    s = settings.scale
    hosts = {r["host"]["cpu"] for r in results.values() if "host" in r}
    threads = sorted({r.get("threads") for r in results.values() if r.get("threads")})
    total = sum(float(r.get("train_seconds_total", 0.0)) for r in results.values())
    presets = ", ".join(f"`{p}`" for p in s.presets) or "none"
    lines = [
        f"Scale `{s.name}`: {s.n_train} / {s.n_valid} / {s.n_test} simulations per data "
        f"set (train / valid / test; data seed {s.data_seed}; "
        f"`{data_dir(settings)}`); trainable models add the preset(s) {presets}"
        + (f" and `{' '.join(settings.overrides)}`" if settings.overrides else "")
        + ".",
        f"Training seeds {', '.join(map(str, settings.seeds))}; evaluation seed "
        f"{settings.eval_seed} (the Gumbel sample used as the rollout graph, RI orders). "
        "Test protocol of spec/evaluation.md 2: encoder on frames 0-48 of the 99-frame "
        "test trajectories, one hard Gumbel sample as the graph, rollout from frame 49; "
        "metrics are exact means over the test samples (sample-weighted).",
    ]
    if results:
        lines.append(
            f"Hardware: {'; '.join(sorted(hosts)) or 'unknown'}"
            f" ({host_info()['cpu_count']} cores here), torch threads "
            f"{', '.join(map(str, threads)) or '?'}; training time of the "
            f"{len(results)} finished cell(s): {total:.0f} s wall clock in all "
            f"({total / 3600:.2f} h; wall and CPU seconds of every epoch are in each "
            "cell's epoch_times.json)."
        )
    if command:
        lines.append(f"Command: `{command}`")
    return "\n\n".join(lines)


def make_table(
    name: str,
    settings: Settings,
    methods: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    command: str = "",
) -> list[Path]:
    """Run the cells of ``table1`` / ``table2`` / ``table3`` (optionally only some
    methods and data sets) and write ``OUT/tables/<name>.md`` and ``.csv``."""
    table = TABLES[name]
    ms = _pick("method", methods, table.methods, name)
    ds = _pick("data set", datasets, table.datasets, name)
    cells = _cells([METHODS[m] for m in ms], ds, settings.seeds)
    results = run_cells(cells, settings)
    entries = tabs.aggregate(table, results, ms, ds, settings.seeds)
    notes = []
    if "acc" in table.metrics:
        raw = tabs.aggregate(table, results, ms, ds, settings.seeds, ("acc_raw",))
        notes.append(
            "Accuracy: the headline is the permutation-invariant accuracy (the best "
            "relabelling of edge types over the whole test split, spec/evaluation.md "
            "1.2) for the unsupervised models, the raw accuracy for Correlation and "
            "Supervised (their types are tied to the labels). Raw accuracies (no "
            "relabelling; mean over seeds, %):\n\n" + _compact(raw, ms, ds)
        )
    if any(m.startswith("mse") for m in table.metrics):
        notes.append(
            "MSE in normalised units (the [-1, 1] scaling of the training split, stored "
            "with each run), after 1 / 10 / 20 predicted steps from frame 49."
        )
    if "modular_meta" in ms:
        notes.append(
            "ModularMeta: its graph is not a Gumbel sample but the structure its "
            "simulated-annealing search finds on frames 0-48 with the trained modules "
            "(model.test_search_steps proposals per sample; docs/baselines.md)."
        )
    md = tabs.table_markdown(
        table, entries, settings.seeds, _header(settings, results, command),
        "\n\n".join(notes),
    )  # fmt: skip
    paths = tabs.write_table(settings.out / "tables", name, md, tabs.table_csv(entries))
    settings.log(f"wrote {paths[0]} and {paths[1]}")
    return list(paths)


def _compact(entries: list[tabs.Entry], ms: Sequence[str], ds: Sequence[str]) -> str:
    by = {(e.method.key, e.dataset): e for e in entries}
    lines = ["| model | " + " | ".join(dataset_label(d) for d in ds) + " |",
             "|---|" + "---|" * len(ds)]  # fmt: skip
    for m in ms:
        if METHODS[m].paper_only:
            continue
        vals = []
        for d in ds:
            e = by[(m, d)]
            vals.append(
                "—" if e.n == 0 else ("n/a" if math.isnan(e.mean) else f"{e.mean:.1f}")
            )
        lines.append(f"| {METHODS[m].label} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- figures


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return math.nan, math.nan
    return statistics.fmean(vals), (
        statistics.stdev(vals) if len(vals) > 1 else math.nan
    )


def _need(results: dict[Cell, Any], name: str) -> None:
    if not results:
        raise ExperimentError(
            f"{name}: none of the cells it needs has finished; run it without --no-run"
        )


def _by_method(
    results: dict[Cell, dict[str, Any]], method: str, dataset: str
) -> list[tuple[Cell, dict[str, Any]]]:
    return sorted(
        ((c, r) for c, r in results.items()
         if c.method.key == method and c.dataset == dataset),
        key=lambda cr: cr[0].seed,
    )  # fmt: skip


def _lambda_methods(
    settings: Settings, dataset: str, lambdas: Sequence[float]
) -> list[Method]:
    """One method per lambda; the NRI-MPM and w/o Sym cells are reused where their
    settings are the same (lambda = the preset's, lambda = 0)."""
    seed = settings.seeds[0]
    known = [METHODS["nri_mpm"], METHODS["mpm_wo_sym"]]
    same = {
        k.key: _comparable(cell_config(Cell(k, dataset, seed), settings)) for k in known
    }
    out = []
    for value in lambdas:
        if value < 0 or not math.isfinite(value):
            raise ExperimentError(f"lambda must be a finite number >= 0, got {value}")
        m = lambda_method(value)
        cfg = _comparable(cell_config(Cell(m, dataset, seed), settings))
        out.append(next((k for k in known if same[k.key] == cfg), m))
    return out


def make_figure(
    name: str,
    settings: Settings,
    methods: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    lambdas: Sequence[float] | None = None,
    sample: int = 0,
    timing: str = "wall",
) -> list[Path]:
    """Run the cells figure ``name`` needs and write ``OUT/figures/<name>.png/.svg``.

    ``fig5`` (trajectories) and ``fig7`` (relation matrices) use the first seed and
    test sample ``sample``; ``fig6`` (median seconds per training epoch,
    ``timing`` "wall" clock or "cpu" time of the process, all threads: robust on a
    shared machine), ``fig8`` (MSE over 40
    steps) and ``fig9`` (accuracy and asymmetry against ``lambdas``) average over the
    seeds."""
    spec = FIGURES[name]
    # any data set and any of our methods may stand in for the paper's choice
    ds = _pick("data set", datasets, DATASETS, name, spec.datasets)
    if name in ("fig5", "fig7", "fig8", "fig9") and len(ds) > 1:
        raise ExperimentError(f"{name} shows one data set; pass one to --datasets")
    if name == "fig9":
        lam = tuple(lambdas) if lambdas else DEFAULT_LAMBDAS
        ms_obj = _lambda_methods(settings, ds[0], lam)
    else:
        runnable = tuple(k for k, m in METHODS.items() if not m.paper_only)
        keys = _pick("method", methods, runnable, name, spec.methods)
        ms_obj = [METHODS[k] for k in keys]
    seeds = settings.seeds[:1] if spec.first_seed_only else settings.seeds
    results = run_cells(_cells(ms_obj, ds, seeds), settings)
    _need(results, name)
    host = host_info()["cpu"]
    if name == "fig5":
        suffix = ds[0]
        system = suffix.rstrip("0123456789")
        preds: dict[str, np.ndarray] = {}
        truth = None
        for m in ms_obj:
            for cell, _ in _by_method(results, m.key, suffix)[:1]:
                x, pred = forecast_sample(cell, settings, sample)
                truth, preds[m.label] = x.numpy(), pred.numpy()
        _need(preds, name)
        feature = 1 if truth is not None and truth.shape[-1] > 1 else 0
        fig = figs.fig5(truth, preds, start=50, feature=feature,  # type: ignore[arg-type]
                        feature_name=FEATURE_NAMES.get(system, ("feature",) * 4)[feature],
                        title=f"{dataset_label(suffix)}, test sample {sample}")  # fmt: skip
    elif name == "fig6":
        seconds: dict[str, dict[str, tuple[float, float]]] = {}
        for suffix in ds:
            for m in ms_obj:
                key = "train_cpu_seconds_per_epoch" if timing == "cpu" else (
                    "train_seconds_per_epoch")  # fmt: skip
                vals = [float(r.get(key, math.nan))
                        for _, r in _by_method(results, m.key, suffix)]  # fmt: skip
                if vals and not all(math.isnan(v) for v in vals):
                    group = seconds.setdefault(dataset_label(suffix), {})
                    group[m.label] = _mean_std(vals)
        _need(seconds, name)
        threads = sorted({r.get("threads") for r in results.values()})
        what = "CPU time" if timing == "cpu" else "wall clock"
        fig = figs.fig6(seconds, title=f"{host}, {threads[0]} thread(s)"
                        if len(threads) == 1 else host,
                        ylabel=f"seconds per training epoch ({what})")  # fmt: skip
    elif name == "fig7":
        suffix = ds[0]
        mats = {}
        for m in ms_obj:
            for cell, _ in _by_method(results, m.key, suffix)[:1]:
                mats[m.label] = relation_matrix(cell, settings, sample).numpy()
        _need(mats, name)
        truth = true_relations(settings, suffix, sample).numpy()
        fig = figs.fig7(truth, mats, title=f"{dataset_label(suffix)}, test sample "
                        f"{sample}: red = label 0, green = label 1")  # fmt: skip
    elif name == "fig8":
        suffix = ds[0]
        curves = {}
        for m in ms_obj:
            runs = _by_method(results, m.key, suffix)
            if not runs:
                continue
            arr = np.array([horizon_mse(c, settings, 40) for c, _ in runs])
            std = (
                arr.std(axis=0, ddof=1)
                if len(arr) > 1
                else np.full(arr.shape[1], np.nan)
            )
            curves[m.label] = (arr.mean(axis=0), std)
        _need(curves, name)
        fig = figs.fig8(curves, title=f"{dataset_label(suffix)}, mean over seeds")
    else:  # fig9
        suffix = ds[0]
        xs, acc, asym = [], ([], []), ([], [])
        for value, m in zip(lam, ms_obj, strict=True):
            runs = _by_method(results, m.key, suffix)
            if not runs:
                continue
            a = _mean_std([tabs.metric_value(m, r["metrics"], "acc") for _, r in runs])
            s = _mean_std([tabs.metric_value(m, r["metrics"], "asym") for _, r in runs])
            xs.append(value)
            for store, v in ((acc, a), (asym, s)):
                store[0].append(v[0])
                store[1].append(v[1])
        _need(xs, name)
        fig = figs.fig9(xs, acc, asym, title=f"NRI-MPM on {dataset_label(suffix)}")
    paths = figs.save_figure(fig, settings.out / "figures" / name)
    settings.log(f"wrote {paths[0]} and {paths[1]}")
    return paths


def make(
    name: str,
    settings: Settings,
    methods: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    lambdas: Sequence[float] | None = None,
    sample: int = 0,
    command: str = "",
    timing: str = "wall",
) -> list[Path]:
    """Make table or figure ``name`` (or ``all``); returns the files written."""
    if timing not in ("wall", "cpu"):
        raise ExperimentError(f"timing must be wall or cpu, got {timing!r}")
    if name == "all":
        out: list[Path] = []
        for each in NAMES:
            out += make(each, settings, None, None, lambdas, sample, command, timing)
        return out
    if name in TABLES:
        if lambdas:
            raise ExperimentError("--lambdas applies to fig9 only")
        return make_table(name, settings, methods, datasets, command)
    if name in FIGURES:
        if name == "fig9" and methods:
            raise ExperimentError(
                "fig9 runs NRI-MPM only; choose values with --lambdas"
            )
        return make_figure(name, settings, methods, datasets, lambdas, sample, timing)
    raise ExperimentError(
        f"unknown experiment {name!r}; choose from {', '.join(NAMES)}, all"
    )
