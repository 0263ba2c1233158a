"""``nri report``: one self-contained HTML file about a run (images embedded as PNG).

Sections: the headline metrics (``RUN/metrics.json``), the data the run was trained on
(``RUN/data.json``) and the data shown, the plots of :mod:`nri.plots` (training curves,
MSE against horizon, true vs inferred edge matrices, trajectories with the inferred
edges and a forecast, the inferred graph) with the edge list of the mean graph, and the
resolved configuration. A plot whose input is missing (no logs, no metrics, data too
short) is replaced by a one-line note, and each section left out is also said as a
:class:`ReportNotice` warning (the command line prints ``nri: notice: ...`` on stderr).
"""

from __future__ import annotations

import csv
import datetime
import html
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nri import plots
from nri import report_geometry as geo
from nri.atomic import write_text_atomic
from nri.data.custom import split_series
from nri.data.dataset import DataError
from nri.data.importers import read_series
from nri.data.series import Series
from nri.errors import DataNotice
from nri.infer import infer_edges
from nri.report_figures import figure_html, graph_sections, note
from nri.training.run_dir import LoadedRun, RunError, load_run, run_data_path

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
 background:#f6f7f9;color:#1d2329}
main{max-width:1100px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:32px 0 10px;
 border-bottom:2px solid #d8dde3;padding-bottom:4px}
.sub{color:#5b6670;font-size:14px}
table{border-collapse:collapse;background:#fff;font-size:14px;margin:6px 0}
td,th{border:1px solid #d8dde3;padding:4px 10px;text-align:left}
th{background:#eef1f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{background:#fff;border:1px solid #d8dde3;border-radius:6px;margin:12px 0;
 padding:10px;display:inline-block;max-width:100%}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:13px;color:#5b6670;margin-top:6px;max-width:900px}
pre{background:#fff;border:1px solid #d8dde3;padding:10px;font-size:12px;
 overflow-x:auto}
.note{color:#8a5a00;background:#fff6e0;border:1px solid #f0d9a0;padding:6px 10px;
 border-radius:4px;font-size:14px}
.grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
"""


def read_training_log(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-epoch curves from a run's ``logs/metrics.csv``: metric -> (epochs, values).

    Per-step training values are averaged over each epoch.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    sums: dict[str, dict[int, list[float]]] = {}
    for r in rows:
        if not r.get("epoch"):
            continue
        epoch = int(float(r["epoch"]))
        for key, value in r.items():
            if key in ("epoch", "step") or not value or key is None:
                continue
            sums.setdefault(key, {}).setdefault(epoch, []).append(float(value))
    out = {}
    for key, per_epoch in sums.items():
        epochs = np.array(sorted(per_epoch), dtype=np.int64)
        out[key] = (epochs, np.array([np.mean(per_epoch[e]) for e in epochs]))
    return out


def _table(rows: list[tuple[str, Any]], header: tuple[str, str] | None = None) -> str:
    head = (
        f"<tr><th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>"
        if header
        else ""
    )
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td class=num>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{head}{body}</table>"


def _fmt(v: Any, spec: str = ".4f") -> str:
    return (
        "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:{spec}}"
    )


def _metrics_rows(m: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("split", f"{m.get('split')} of {m.get('suffix')} ({m.get('n_samples')} "
             "samples)")]  # fmt: skip
    if m.get("acc") is None:
        rows.append(("edge accuracy", "n/a (no true edges)"))
    else:
        rows += [
            ("edge accuracy (raw)", _fmt(m["acc"])),
            ("edge accuracy (permutation-invariant)", _fmt(m["acc_perm"])),
            ("type -> label mapping", str(m.get("perm_mapping"))),
            ("AUROC", _fmt(m.get("auroc"))),
        ]
    rows.append(("asymmetry rate", _fmt(m.get("asym"))))
    for h in (1, 10, 20):
        if f"mse_{h}" in m:
            rows.append((f"MSE {h}-step (normalised)", _fmt(m[f"mse_{h}"], ".3e")))
    rows.append(("MSE one-step (normalised)", _fmt(m.get("mse_1step"), ".3e")))
    return rows


def _data_for_report(
    run: LoadedRun, data: Series | str | Path | None, run_dir: Path
) -> Series:
    if isinstance(data, Series):
        return data
    if data is not None:
        return read_series(data, split="test")
    try:  # the stored path, from any working directory (issue 14 item 11)
        path = run_data_path(run_dir, run.config)
    except RunError as err:
        raise DataError(str(err)) from None
    if Path(path).is_file():  # trained on a file: its test part (load_file_dataset)
        return split_series(read_series(path))["test"]
    return read_series(path, split="test", suffix=run.config.data.suffix)


def _run_figures(
    run_dir: Path, model: str, metrics: dict[str, Any] | None
) -> tuple[list[str], list[str]]:
    """Training curves and MSE against horizon (figures' HTML, notes)."""
    figs, notes = [], []
    log = read_training_log(run_dir / "logs" / "metrics.csv")
    if log:
        fig = plots.training_curves_figure(log)
        figs.append(figure_html(fig, "training curves per epoch"))
    else:
        notes.append("no training log (logs/metrics.csv)")
        _dropped(
            "the training curves",
            f"{run_dir / 'logs' / 'metrics.csv'} is missing or empty (a run that has "
            "not finished an epoch)",
        )
    if metrics and metrics.get("mse"):
        fig = plots.mse_figure({f"{model} ({metrics['split']})": metrics["mse"]})
        figs.append(figure_html(fig, "MSE against horizon (test protocol)"))
    else:
        notes.append("no MSE per horizon (run nri evaluate to compute metrics.json)")
        if metrics:  # without metrics.json one notice covers both sections
            _dropped(
                "the MSE against horizon",
                f"{run_dir / 'metrics.json'} has no MSE per horizon; run "
                f"`nri evaluate {run_dir}` to compute it",
            )
    return figs, notes


class ReportNotice(DataNotice):
    """A section the report had to leave out, and why (the command line prints each
    as one ``nri: notice: ...`` line; the report is still written)."""


def _dropped(section: str, why: str) -> None:
    """Say on the terminal (a :class:`ReportNotice`) that ``section`` is left out of
    the report, why and how to get it."""
    warnings.warn(f"report: {section} left out: {why}", ReportNotice, stacklevel=3)


def build_report(
    run_dir: str | Path,
    data: Series | str | Path | None = None,
    max_samples: int = 1000,
    sample: int = 0,
    forecast_steps: int = 20,
) -> str:
    """The report's HTML (see :func:`write_report`)."""
    import nri  # not at the top: nri/__init__ may import the API (test_imports)

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    cfg = run.config
    metrics = _read_json(run_dir / "metrics.json")
    trained_on = _read_json(run_dir / "data.json")
    if metrics is None:
        _dropped(
            "the metrics table and the MSE against horizon",
            f"{run_dir} has no metrics.json; run `nri evaluate {run_dir}` first",
        )
    figs, notes = _run_figures(run_dir, cfg.model, metrics)
    meta = geo.dataset_meta(run_dir, cfg)  # the data's import format, edge meaning
    truth = geo.truth_word(meta)
    series, graph_html = None, ""
    try:
        series = _data_for_report(run, data, run_dir)
        series = series.take(np.arange(min(series.n_samples, max_samples)))
        inf = infer_edges(run, series, start=0, allow_other_objects=True)
    except DataError as err:
        notes.append(f"no inferred edges: {err}")
        _dropped("the inferred graph, edge table and trajectory plots", str(err))
    else:
        sample = min(sample, series.n_samples - 1)
        more, graph_html = graph_sections(
            run, series, inf, metrics, sample, forecast_steps, truth
        )
        figs += geo.geometry_figures(meta, series, inf, metrics, sample) + more

    title = f"nri report: {run_dir.name}"
    parts = [
        f"<h1>{html.escape(title)}</h1><p class=sub>{html.escape(str(run_dir))} - "
        f"model {html.escape(cfg.model)} - nri {nri.__version__} - "
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}</p>",
        "<h2>Metrics</h2>",
        _table([(geo.reword(k, truth), v) for k, v in _metrics_rows(metrics)])
        if metrics
        else note("no metrics.json: run `nri evaluate RUN` first"),
        note(geo.REFERENCE_NOTE.format(fmt=meta["import"]["format"]))
        if truth == "reference"
        else "",
        "<h2>Data</h2><div class=grid>",
    ]
    if trained_on:
        rows = [(geo.reword(k, truth), v) for k, v in _data_rows(trained_on)]
        parts.append(_table(rows, ("trained on", "")))
    if series is not None:
        shown = [
            ("source", series.source),
            ("samples shown", series.n_samples),
            ("objects x frames x features",
             f"{series.n_objects} x {series.n_frames} x {series.n_features}"),
            ("true edges", "yes" if series.edges is not None else "no"),
        ]  # fmt: skip
        shown = [(geo.reword(k, truth), v) for k, v in shown]
        parts.append(_table(shown, ("data shown below", "")))
    parts.append("</div>")
    parts.append("<h2>Plots</h2>" + "".join(figs) + "".join(note(n) for n in notes))
    if graph_html:
        parts.append("<h2>Inferred graph</h2>" + graph_html)
    config_text = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    parts.append(f"<h2>Configuration</h2><pre>{html.escape(config_text)}</pre>")
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


def _data_rows(d: dict[str, Any]) -> list[tuple[str, Any]]:
    splits = d.get("splits", {})
    norm = d.get("normalizer", {})
    ranges = ", ".join(
        f"[{lo:.4g}, {hi:.4g}]"
        for lo, hi in zip(norm.get("mins", []), norm.get("maxs", []), strict=False)
    )
    return [
        ("data set", f"{d.get('suffix')} ({d.get('system')})"),
        ("source", d.get("source")),
        ("objects", d.get("n_objects")),
        ("features", ", ".join(d.get("feature_names", []))),
        ("true edges", "yes" if d.get("has_edges") else "no"),
        *(
            (f"{k} split", f"{v['n_samples']} samples x {v['n_frames']} frames")
            for k, v in splits.items()
        ),
        ("normalisation (train min, max)", ranges),
    ]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        return None


def write_report(
    run_dir: str | Path,
    data: Series | str | Path | None = None,
    out: str | Path | None = None,
    max_samples: int = 1000,
    sample: int = 0,
    forecast_steps: int = 20,
) -> Path:
    """Write the HTML report of a run (atomically) and return its path.

    Args:
        run_dir: a run directory.
        data: data to infer edges on and plot (a file, a data set directory (its test
            split) or a :class:`~nri.data.series.Series`); default: the test split
            of the run's own data.
        out: the HTML file (default ``RUN/report.html``).
        max_samples: at most this many samples are used for the inferred graph.
        sample: the sample shown in the per-sample plots.
        forecast_steps: length of the forecast drawn in the trajectory plot.
    """
    path = Path(out) if out is not None else Path(run_dir) / "report.html"
    text = build_report(run_dir, data, max_samples, sample, forecast_steps)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)
    return path
