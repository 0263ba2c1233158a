"""Running the cells of the experiments: data, training, evaluation, results on disk.

Layout under the output directory ``OUT``::

    OUT/data/<train>-<valid>-<test>-seed<k>/      simulated data sets (one per scale)
    OUT/runs/<method>/<dataset>/seed<k>/          one run directory per cell (nri train's)
        cell.json        written last: the cell is finished (settings, metrics, timing)
        epoch_times.json seconds of every training epoch (Fig. 6)
        mse_h40.json     MSE at horizons 1..40 (Fig. 8), computed once
    OUT/tables/, OUT/figures/                      written by nri.experiments.build

A cell is finished when its ``cell.json`` exists; a finished cell is never rerun (a
cell whose recorded settings differ from the requested ones is an error, not a
silent reuse). An interrupted cell resumes from its ``last.ckpt``. Cells are shared
between tables and figures (NRI-MPM on Charged 10 serves Table 1, Table 3, Figs. 7-9).
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nri.atomic import write_text_atomic
from nri.config import RunConfig, from_dict, merge, parse_override, read_preset
from nri.data.dataset import LoadedData, load_dataset
from nri.experiments.spec import Method, Scale, split_suffix
from nri.experiments.timing import EpochTimer, host_info

CELL_FILE = "cell.json"


class ExperimentError(ValueError):
    """An experiment cannot run as asked (conflicting settings, missing cells, ...)."""


@dataclass(frozen=True)
class Cell:
    """One method on one data set with one training seed."""

    method: Method
    dataset: str
    seed: int

    def run_dir(self, out: Path) -> Path:
        return Path(out) / "runs" / self.method.key / self.dataset / f"seed{self.seed}"

    @property
    def name(self) -> str:
        return f"{self.method.key} {self.dataset} seed {self.seed}"


@dataclass
class Settings:
    """How to run: where, at which scale, with which seeds and extra settings.

    Attributes:
        out: output directory (data, runs, tables, figures).
        scale: data sizes and training settings.
        seeds: training seeds (each cell is trained once per seed).
        overrides: ``section.key=value`` settings for every cell; ``model.*`` ones
            apply to the cells whose model has that setting.
        run: False = do not train anything, use the finished cells only.
        log: progress messages.
        eval_seed: evaluation seed (Gumbel noise, RI orders of the test protocol).
    """

    out: Path
    scale: Scale
    seeds: tuple[int, ...] = (1, 2, 3)
    overrides: tuple[str, ...] = ()
    run: bool = True
    log: Callable[[str], None] = print
    eval_seed: int = 0
    _data: dict[str, LoadedData] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if not self.seeds:
            raise ExperimentError("no training seeds given; pass --seeds 1 2 3")
        if len(set(self.seeds)) != len(self.seeds):
            raise ExperimentError(f"training seeds must differ, got {list(self.seeds)}")


# ------------------------------------------------------------------------------ data


def data_dir(settings: Settings) -> Path:
    """Directory of the simulated data sets of the settings' scale."""
    s = settings.scale
    return (
        settings.out / "data" / f"{s.n_train}-{s.n_valid}-{s.n_test}-seed{s.data_seed}"
    )


def ensure_data(settings: Settings, suffix: str) -> Path:
    """Simulate ``suffix`` (e.g. ``charged10``) at the settings' scale unless it is
    already there; returns the data directory."""
    from nri.sim.io import DatasetConfig, marker_name, meta_name, write_dataset

    root = data_dir(settings)
    system, n_objects = split_suffix(suffix)
    s = settings.scale
    cfg = DatasetConfig(system=system, n_objects=n_objects, n_train=s.n_train,  # type: ignore[arg-type]
                        n_valid=s.n_valid, n_test=s.n_test, seed=s.data_seed)  # fmt: skip
    meta = root / meta_name(suffix)
    if meta.exists() and not (root / marker_name(suffix)).exists():
        saved = json.loads(meta.read_text()).get("config", {})
        want = json.loads(json.dumps(dataclasses.asdict(cfg), default=str))
        if saved != want:
            raise ExperimentError(
                f"{meta} describes other data than the scale asks for; delete {root} "
                "or choose another --out"
            )
        return root
    settings.log(
        f"simulating {suffix} ({s.n_train}/{s.n_valid}/{s.n_test}) into {root}"
    )
    start = time.perf_counter()
    write_dataset(cfg, root)
    settings.log(f"  simulated {suffix} in {time.perf_counter() - start:.1f} s")
    return root


def load_data(settings: Settings, suffix: str) -> LoadedData:
    """The data set ``suffix`` at the settings' scale (simulated on first use, loaded
    once per process)."""
    if suffix not in settings._data:
        settings._data[suffix] = load_dataset(ensure_data(settings, suffix), suffix)
    return settings._data[suffix]


# ---------------------------------------------------------------------------- config


def _model_fields(name: str) -> set[str]:
    from nri.registry import MODELS

    _, cls = MODELS[name]
    return {f.name for f in dataclasses.fields(cls)}


def cell_config(cell: Cell, settings: Settings) -> RunConfig:
    """The resolved configuration of a cell: the method's presets, then (trainable
    methods) the scale's presets, its presets for the cell's model, its settings, the
    method's overrides, the user's overrides, and ``train.seed``."""
    m, scale = cell.method, settings.scale
    if m.paper_only:
        raise ExperimentError(f"{m.label} is quoted from the paper, not run by us")
    presets = m.preset_names(cell.dataset)
    if m.trainable:
        presets += list(scale.presets)
    raw: dict[str, Any] = {}
    for name in presets:
        raw = merge(raw, read_preset(name))
    model_name = (raw.get("model") or {}).get("name", "nri")
    system = cell.dataset.rstrip("0123456789")  # "springs5" -> "springs"
    if m.trainable:  # the scale's presets for this model (on this system)
        for key in (model_name, f"{model_name}:{system}"):
            for name in scale.model_presets.get(key, ()):
                raw = merge(raw, read_preset(name))
    fields = _model_fields(model_name)
    texts: list[str] = []
    if m.trainable:
        texts += [*scale.overrides, *scale.model_overrides.get(model_name, ())]
        texts += scale.model_overrides.get(f"{model_name}:{system}", ())
    texts += list(m.overrides)
    for text in settings.overrides:
        section = text.split("=", 1)[0].split(".")[0].strip()
        key = text.split("=", 1)[0].split(".")[-1].strip()
        if section == "model" and key not in fields:
            continue  # a model setting of another model
        if section == "train" and not m.trainable and key != "seed":
            continue  # closed-form baselines take no training settings
        texts.append(text)
    texts.append(f"train.seed={cell.seed}")
    for text in texts:
        raw = merge(raw, parse_override(text))
    raw.setdefault("data", {})["suffix"] = cell.dataset
    return from_dict(raw)


def check_overrides(overrides: Iterable[str], cells: Iterable[Cell]) -> None:
    """Every ``model.*`` override must be a setting of at least one cell's model."""
    models = set()
    for cell in cells:
        if cell.method.paper_only:
            continue
        raw: dict[str, Any] = {}
        for name in cell.method.preset_names(cell.dataset):
            raw = merge(raw, read_preset(name))
        models.add((raw.get("model") or {}).get("name", "nri"))
    known = set().union(*(_model_fields(m) for m in models)) if models else set()
    for text in overrides:
        parse_override(text)  # syntax
        key = text.split("=", 1)[0].strip()
        if key.startswith("model.") and key[6:] not in known:
            raise ExperimentError(
                f"--set {key}: no model of the selected cells ({', '.join(sorted(models))}) "
                "has this setting"
            )


def _comparable(config: RunConfig) -> dict[str, Any]:
    d = config.to_dict()
    train = {k: v for k, v in d["train"].items()
             if k not in ("progress_bar", "num_workers")}  # fmt: skip
    return {"model": d["model"], "train": train, "suffix": d["data"]["suffix"]}


# ------------------------------------------------------------------------------ cells


def read_cell(cell: Cell, settings: Settings) -> dict[str, Any] | None:
    """The finished result of a cell, or None; an error if it was run with other
    settings than the current ones."""
    path = cell.run_dir(settings.out) / CELL_FILE
    if not path.exists():
        return None
    try:
        saved = json.loads(path.read_text())
    except ValueError as err:
        raise ExperimentError(f"cannot read {path}: {err}; delete the file") from None
    want = _comparable(cell_config(cell, settings))
    have = saved.get("config")
    if have != want:
        diff = _first_difference(have or {}, want)
        raise ExperimentError(
            f"the finished cell {cell.name} in {settings.out} was run with other "
            f"settings ({diff}); use another --out or delete {path.parent}"
        )
    return saved


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    for section in sorted(set(a) | set(b)):
        x, y = a.get(section), b.get(section)
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(set(x) | set(y)):
                if x.get(key) != y.get(key):
                    return f"{section}.{key} was {x.get(key)!r}, now {y.get(key)!r}"
        elif x != y:
            return f"{section} was {x!r}, now {y!r}"
    return "unknown difference"


def run_cell(cell: Cell, settings: Settings) -> dict[str, Any] | None:
    """Train and evaluate one cell unless it is finished; returns its result (None
    when it is not finished and ``settings.run`` is False)."""
    from nri.evaluate import evaluate_run
    from nri.training.fit import fit

    done = read_cell(cell, settings)
    if done is not None or not settings.run:
        return done
    config = cell_config(cell, settings)
    data = load_data(settings, cell.dataset)
    run_dir = cell.run_dir(settings.out)
    resumed = (run_dir / "checkpoints" / "last.ckpt").exists()
    settings.log(f"{cell.name}: {'resuming' if resumed else 'training'} -> {run_dir}")
    timer = EpochTimer(run_dir)
    start, cpu_start = time.perf_counter(), time.process_time()
    res = fit(config, run_dir, data=data, resume=True, callbacks=[timer])
    fit_s, fit_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    metrics = evaluate_run(run_dir, data, eval_seed=settings.eval_seed)
    epochs = [timer.times[e] for e in sorted(timer.times)]
    per_epoch = statistics.median(r["train_s"] for r in epochs) if epochs else math.nan
    cpu_rows = [r["train_cpu_s"] for r in epochs if "train_cpu_s" in r]
    cpu_per_epoch = statistics.median(cpu_rows) if cpu_rows else math.nan
    result = {
        "method": cell.method.key,
        "dataset": cell.dataset,
        "seed": cell.seed,
        "scale": settings.scale.name,
        "config": _comparable(config),
        "data": str(data_dir(settings)),
        "metrics": metrics,
        "epochs_run": len(epochs),
        "train_seconds_per_epoch": per_epoch,  # median wall clock, training batches
        "train_cpu_seconds_per_epoch": cpu_per_epoch,  # median CPU time, all threads
        "train_seconds_total": sum(r["epoch_s"] for r in epochs) if epochs else fit_s,
        "fit_seconds_this_session": round(fit_s, 2),
        "fit_cpu_seconds_this_session": round(fit_cpu, 2),  # all threads
        "best_score": res.best_score,
        "monitor": res.monitor,
        "host": host_info(),
        "threads": torch.get_num_threads(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_text_atomic(
        run_dir / CELL_FILE, json.dumps(result, indent=2, default=_json_default) + "\n"
    )
    settings.log(f"  {cell.name}: done in {fit_s:.0f} s; {_headline(cell, metrics)}")
    return result


def _json_default(value: Any) -> Any:
    return str(value)


def _headline(cell: Cell, m: dict[str, Any]) -> str:
    parts = []
    acc = m.get(cell.method.acc_key)
    if acc is not None and not math.isnan(acc):
        parts.append(f"{cell.method.acc_key} {acc:.4f}")
    for h in (1, 10, 20):
        v = m.get(f"mse_{h}")
        if v is not None and not math.isnan(v):
            parts.append(f"mse_{h} {v:.3g}")
    return ", ".join(parts) or "no metrics"


def run_cells(cells: list[Cell], settings: Settings) -> dict[Cell, dict[str, Any]]:
    """Run (or read) every cell, in order; returns the finished ones."""
    check_overrides(settings.overrides, cells)
    out: dict[Cell, dict[str, Any]] = {}
    todo = [c for c in cells if not c.method.paper_only]
    for i, cell in enumerate(todo, 1):
        done = read_cell(cell, settings)
        if done is not None:
            settings.log(f"[{i}/{len(todo)}] {cell.name}: finished, skipped")
            out[cell] = done
            continue
        if not settings.run:
            settings.log(f"[{i}/{len(todo)}] {cell.name}: not run (--no-run)")
            continue
        settings.log(f"[{i}/{len(todo)}] {cell.name}")
        result = run_cell(cell, settings)
        if result is not None:
            out[cell] = result
    return out
