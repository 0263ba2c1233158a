"""Tables of the experiments: mean +- std over seeds, the paper's number beside ours.

:func:`aggregate` turns finished cells into one :class:`Entry` per (method, data set,
metric); :func:`table_markdown` and :func:`table_csv` render them; :func:`write_table`
writes ``OUT/tables/<name>.md`` and ``.csv`` atomically. Accuracies are in %, MSEs in
normalised units. NaN (a metric the model does not produce) prints as ``n/a``.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nri.atomic import write_text_atomic
from nri.experiments.spec import (
    METHODS,
    METRIC_LABELS,
    Method,
    PaperValue,
    Table,
    dataset_label,
    paper_value,
)


@dataclass(frozen=True)
class Entry:
    """Our values of one (method, data set, metric) over the seeds, and the paper's.

    Attributes:
        values: one per finished seed (NaN where the model does not produce the metric).
        seeds: the seeds of ``values``.
    """

    table: str
    method: Method
    dataset: str
    metric: str
    values: tuple[float, ...]
    seeds: tuple[int, ...]
    paper: PaperValue | None

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values) if self.values else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (NaN for fewer than 2)."""
        return statistics.stdev(self.values) if self.n >= 2 else math.nan


def metric_value(method: Method, metrics: dict[str, Any], metric: str) -> float:
    """One number of a cell's ``metrics.json``: ``acc`` is the method's headline
    accuracy in % (``acc_perm`` for unsupervised models, raw ``acc`` otherwise),
    ``acc_raw`` / ``acc_perm`` the named accuracy in %, ``asym`` in %, others as stored."""
    key = {"acc": method.acc_key, "acc_raw": "acc"}.get(metric, metric)
    value = metrics.get(key)
    if value is None:
        return math.nan
    value = float(value)
    return value * 100.0 if metric in ("acc", "acc_raw", "acc_perm", "asym") else value


def aggregate(
    table: Table,
    results: dict[Any, dict[str, Any]],
    methods: tuple[str, ...],
    datasets: tuple[str, ...],
    seeds: tuple[int, ...],
    metrics: tuple[str, ...] | None = None,
) -> list[Entry]:
    """Entries of a table from finished cells (``results``: cell -> ``cell.json``
    content, as from :func:`nri.experiments.runner.run_cells`), for the given seeds."""
    by_key = {(r["method"], r["dataset"], r["seed"]): r for r in results.values()}
    out = []
    for key in methods:
        method = METHODS[key]
        for suffix in datasets:
            for metric in metrics or table.metrics:
                vals, used = [], []
                for seed in seeds:
                    r = by_key.get((key, suffix, seed))
                    if r is not None:
                        vals.append(metric_value(method, r["metrics"], metric))
                        used.append(seed)
                paper = paper_value(table.name, key, suffix, metric)
                out.append(Entry(table.name, method, suffix, metric, tuple(vals),
                                 tuple(used), paper))  # fmt: skip
    return out


def _fmt(value: float, metric: str, std: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    if metric.startswith("mse"):
        return f"{value:.1e}" if std else f"{value:.2e}"
    return f"{value:.1f}"


def format_entry(entry: Entry, n_seeds: int) -> str:
    """``ours (paper)``: ``93.1 ± 0.4 (93.3 ± 0.5)``; ``— (…)`` for no finished run;
    ``n=2`` marks fewer finished seeds than asked for."""
    paper = f" ({entry.paper.text.replace('+-', '±')})" if entry.paper else " (-)"
    if entry.method.paper_only:
        return f"not run{paper}"
    if entry.n == 0:
        return f"—{paper}"
    ours = _fmt(entry.mean, entry.metric)
    if ours != "n/a" and entry.n >= 2:
        ours += f" ± {_fmt(entry.std, entry.metric, std=True)}"
    if 0 < entry.n < n_seeds:
        ours += f" (n={entry.n})"
    return ours + paper


def table_markdown(
    table: Table,
    entries: list[Entry],
    seeds: tuple[int, ...],
    header: str = "",
    notes: str = "",
) -> str:
    """A Markdown table (rows = methods, columns = data set x metric) with the paper's
    number in brackets in every cell, preceded by ``header`` and followed by ``notes``."""
    methods = list(dict.fromkeys(e.method.key for e in entries))
    cols = list(dict.fromkeys((e.dataset, e.metric) for e in entries))
    by = {(e.method.key, e.dataset, e.metric): e for e in entries}
    one_ds = len(table.datasets) == 1  # Table 3: columns are metrics
    one_metric = len(table.metrics) == 1  # Table 1: columns are data sets

    def col_name(suffix: str, metric: str) -> str:
        if one_metric:
            return dataset_label(suffix)
        if one_ds:
            return METRIC_LABELS.get(metric, metric)
        return f"{dataset_label(suffix)}, {METRIC_LABELS.get(metric, metric)}"

    lines = [f"# {table.title}", ""]
    if header:
        lines += [header.rstrip(), ""]
    lines.append("| model | " + " | ".join(col_name(*c) for c in cols) + " |")
    lines.append("|---|" + "---|" * len(cols))
    for key in methods:
        cells = [format_entry(by[(key, *c)], len(seeds)) for c in cols]
        lines.append(f"| {METHODS[key].label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Each cell: ours, mean ± sample std over the training seeds "
        f"{', '.join(map(str, seeds))} (n=k: only k finished); in brackets the paper's "
        "number (* = not in the original papers, as marked in the paper); — = not run; "
        "n/a = the model does not produce this metric."
    )
    if notes:
        lines += ["", notes.rstrip()]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("table", "method", "label", "dataset", "metric", "n", "seeds", "values",
               "mean", "std", "paper", "paper_mean", "paper_std", "paper_starred")  # fmt: skip


def _num(value: float) -> str:
    return f"{value:.6g}"  # 6 significant digits; "nan" where undefined


def table_csv(entries: list[Entry]) -> str:
    """One row per (method, data set, metric): our per-seed values, mean, std and the
    paper's number (as printed and parsed). Accuracies in %."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in entries:
        p = e.paper
        w.writerow([
            e.table, e.method.key, e.method.label, e.dataset, e.metric, e.n,
            " ".join(map(str, e.seeds)), " ".join(_num(v) for v in e.values),
            _num(e.mean), _num(e.std), p.text if p else "",
            _num(p.mean) if p else "", _num(p.std) if p else "",
            str(p.starred).lower() if p else "",
        ])  # fmt: skip
    return buf.getvalue()


def write_table(
    out_dir: Path, name: str, markdown: str, csv_text: str
) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.md`` and ``.csv`` atomically; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, cs = out_dir / f"{name}.md", out_dir / f"{name}.csv"
    write_text_atomic(md, markdown)
    write_text_atomic(cs, csv_text)
    return md, cs
