"""nri experiment: tables and figures at a tiny scale, resumability, formatting."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

import nri.training.fit as fit_module
from nri.cli import main
from nri.experiments import build
from nri.experiments.runner import (
    Cell,
    ExperimentError,
    Settings,
    cell_config,
    run_cell,
)
from nri.experiments.spec import METHODS, PAPER, SCALES, TABLES, Method, PaperValue
from nri.experiments.tables import Entry, aggregate, format_entry, table_csv

TINY = SCALES["tiny"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Every table and figure once, at the tiny scale, with few cells (6 tiny fits)."""
    out = tmp_path_factory.mktemp("exp")
    log: list[str] = []
    settings = Settings(out, TINY, seeds=(1,), log=log.append)
    files = {
        "table1": build.make("table1", settings, ["correlation", "nri"], ["springs5"]),
        "table2": build.make("table2", settings, ["static", "lstm"], ["kuramoto5"]),
        "table3": build.make("table3", settings, ["mpm_wo_ri", "nri_mpm"]),
        "fig5": build.make("fig5", settings),
        "fig6": build.make(
            "fig6", settings, ["nri", "correlation"], ["springs5"], timing="cpu"
        ),
        "fig7": build.make("fig7", settings, ["nri_mpm", "mpm_wo_ri"]),
        "fig8": build.make("fig8", settings, ["mpm_wo_ri", "nri_mpm"]),
        "fig9": build.make("fig9", settings, lambdas=[0.0, 100.0]),
    }
    return out, settings, files, log


def test_every_table_writes_markdown_and_csv_with_the_papers_numbers(made):
    out, _, files, _ = made
    for name in ("table1", "table2", "table3"):
        assert [p.name for p in files[name]] == [f"{name}.md", f"{name}.csv"]
    t1 = (out / "tables" / "table1.md").read_text()
    assert "| Springs 5 |" in t1 and "(99.9 ± 0.0)" in t1 and "(52.4 ± 0.0)" in t1
    assert "nri experiment" not in t1  # no command given to the library call
    t2 = (out / "tables" / "table2.md").read_text()
    assert "Kuramoto 5, MSE 1" in t2 and "(3.44e-4)" in t2  # LSTM's paper value
    assert "| Static | " in t2 and "(-)" in t2  # the paper has no static row
    t3 = (out / "tables" / "table3.md").read_text()
    assert "(81.6 ± 0.2)" in t3 and "| w/o RI |" in t3 and "MSE 20" in t3

    rows = list(
        csv.DictReader(io.StringIO((out / "tables" / "table2.csv").read_text()))
    )
    lstm = {r["metric"]: r for r in rows if r["method"] == "lstm"}
    assert set(lstm) == {"mse_1", "mse_10", "mse_20"}
    metrics = json.loads((out / "runs/lstm/kuramoto5/seed1/metrics.json").read_text())
    assert float(lstm["mse_10"]["mean"]) == pytest.approx(metrics["mse_10"], rel=1e-5)
    assert lstm["mse_10"]["paper"] == "1.29e-2" and lstm["mse_10"]["n"] == "1"
    static = next(r for r in rows if r["method"] == "static")
    assert static["paper"] == "" and static["seeds"] == "1"
    rows1 = list(
        csv.DictReader(io.StringIO((out / "tables" / "table1.csv").read_text()))
    )
    nri = next(r for r in rows1 if r["method"] == "nri")
    m = json.loads((out / "runs/nri/springs5/seed1/metrics.json").read_text())
    assert float(nri["mean"]) == pytest.approx(100 * m["acc_perm"], rel=1e-5)


def test_every_figure_writes_png_and_svg(made):
    out, _, files, _ = made
    for name in ("fig5", "fig6", "fig7", "fig8", "fig9"):
        png, svg = files[name]
        assert png == out / "figures" / f"{name}.png" and svg.suffix == ".svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in svg.read_bytes()[:2000]
    assert not list((out / "figures").glob(".*tmp"))  # atomic writes leave nothing


def test_cells_are_shared_and_lambda_sweep_reuses_equal_configs(made):
    out, _, _, _ = made
    runs = sorted(
        str(p.relative_to(out / "runs")) for p in (out / "runs").glob("*/*/seed1")
    )
    assert runs == [
        "correlation/springs5/seed1", "lstm/kuramoto5/seed1",
        "mpm_wo_ri/charged10/seed1", "mpm_wo_sym/charged10/seed1",
        "nri/springs5/seed1", "nri_mpm/charged10/seed1", "nri_mpm/kuramoto5/seed1",
        "static/kuramoto5/seed1",
    ]  # fmt: skip
    times = json.loads((out / "runs/nri/springs5/seed1/epoch_times.json").read_text())
    assert [t["epoch"] for t in times] == [0]
    assert 0 < times[0]["train_s"] <= times[0]["epoch_s"]
    cell = json.loads((out / "runs/nri/springs5/seed1/cell.json").read_text())
    assert cell["train_seconds_per_epoch"] == times[0]["train_s"]
    assert 0 < times[0]["train_cpu_s"] <= times[0]["epoch_cpu_s"]
    assert cell["train_cpu_seconds_per_epoch"] == times[0]["train_cpu_s"]
    assert (
        cell["config"]["train"]["epochs"] == 1 and cell["config"]["train"]["seed"] == 1
    )


def test_forty_step_mse_extends_the_test_protocol(made):
    out, _, _, _ = made
    run = out / "runs/nri_mpm/charged10/seed1"
    mse40 = json.loads((run / "mse_h40.json").read_text())["mse"]
    mse20 = json.loads((run / "metrics.json").read_text())["mse"]
    assert len(mse40) == 40
    # same graph sample and rollout: the first 20 horizons are the protocol's
    assert mse40[:20] == pytest.approx(mse20, rel=1e-6)


def test_rerun_skips_finished_cells(made, monkeypatch):
    out, settings, _, _ = made
    watched = sorted((out / "runs").rglob("*.ckpt")) + sorted(
        (out / "runs").rglob("cell.json")
    )
    before = {p: p.stat().st_mtime_ns for p in watched}

    def no_fit(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr(fit_module, "fit", no_fit)
    log: list[str] = []
    again = Settings(out, TINY, seeds=(1,), log=log.append)
    build.make("table1", again, ["correlation", "nri"], ["springs5"])
    build.make("table3", again, ["mpm_wo_ri", "nri_mpm"])
    build.make("fig8", again, ["mpm_wo_ri", "nri_mpm"])
    build.make("fig9", again, lambdas=[0.0, 100.0])
    assert sum("finished, skipped" in line for line in log) == 2 + 2 + 2 + 2
    assert {p: p.stat().st_mtime_ns for p in watched} == before
    # asking for other settings on a finished cell is an error, not a silent reuse
    other = Settings(
        out, TINY, seeds=(1,), overrides=("train.epochs=2",), log=log.append
    )
    with pytest.raises(ExperimentError, match="train.epochs was 1, now 2"):
        build.make("table1", other, ["nri"], ["springs5"])


def test_interrupted_cell_resumes_from_its_last_checkpoint(made, monkeypatch):
    import nri.evaluate

    out, _, _, _ = made
    log: list[str] = []
    cell = Cell(METHODS["nri"], "springs5", 7)
    first = Settings(out, TINY, seeds=(7,), log=log.append)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # killed after training, before the cell was written

    with monkeypatch.context() as m:
        m.setattr(nri.evaluate, "evaluate_run", killed)
        with pytest.raises(KeyboardInterrupt):
            run_cell(cell, first)
    assert not (cell.run_dir(out) / "cell.json").exists()
    # the same cell with a longer schedule continues from last.ckpt (epoch 0 kept)
    second = Settings(
        out, TINY, seeds=(7,), overrides=("train.epochs=2",), log=log.append
    )
    assert cell_config(cell, second).train.epochs == 2
    result = run_cell(cell, second)
    assert any("resuming" in line for line in log)
    assert result["epochs_run"] == 2
    times = json.loads((cell.run_dir(out) / "epoch_times.json").read_text())
    assert [t["epoch"] for t in times] == [0, 1]
    ckpt = fit_module.safe_load(cell.run_dir(out) / "checkpoints" / "last.ckpt")
    assert ckpt["epoch"] == 1 and ckpt["global_step"] == 2 * 3  # 24 sims / batch 8


def test_cli_writes_from_finished_cells_and_reports_bad_input(made, capsys):
    out, _, _, _ = made
    argv = [
        "experiment",
        "table3",
        "--scale",
        "tiny",
        "--seeds",
        "1",
        "--out",
        str(out),
    ]
    assert main([*argv, "--methods", "nri_mpm", "--no-run"]) == 0
    md = (out / "tables" / "table3.md").read_text()
    assert "Command: `nri experiment table3 --scale tiny --seeds 1" in md
    capsys.readouterr()
    assert main([*argv, "--methods", "lstm"]) == 2
    err = capsys.readouterr().err
    assert "table3 has no method lstm" in err and len(err.strip().splitlines()) == 1
    assert main([*argv, "--set", "model.no_such_setting=1"]) == 2
    assert "no model of the selected cells" in capsys.readouterr().err
    fig = ["experiment", "fig5", "--scale", "tiny", "--seeds", "9", "--out", str(out)]
    assert main([*fig, "--no-run"]) == 2
    assert "none of the cells it needs has finished" in capsys.readouterr().err
    # our other methods and data sets may stand in for the paper's choice
    fig = ["experiment", "fig7", "--scale", "tiny", "--seeds", "1", "--out", str(out)]
    assert (
        main([*fig, "--datasets", "springs5", "--methods", "correlation", "nri"]) == 0
    )
    assert main([*fig, "--datasets", "kuramoto5", "--methods", "static"]) == 2
    assert "Static infers no relations" in capsys.readouterr().err
    fig[1] = "fig5"
    assert main([*fig, "--datasets", "springs5", "--methods", "correlation"]) == 2
    assert "relations only" in capsys.readouterr().err
    assert main([*fig, "--datasets", "springs5", "kuramoto5"]) == 2
    assert "pass one to --datasets" in capsys.readouterr().err


# ------------------------------------------------------------------ pure formatting


def _entry(values, metric="acc", method="nri", paper="82.1 +- 0.6"):
    seeds = tuple(range(1, len(values) + 1))
    value = PaperValue(paper) if paper else None
    return Entry(
        "table1", METHODS[method], "charged5", metric, tuple(values), seeds, value
    )


def test_entry_mean_std_and_cell_text():
    e = _entry([80.0, 82.0, 84.0])
    assert e.mean == 82.0 and e.std == pytest.approx(2.0)  # sample std
    assert format_entry(e, 3) == "82.0 ± 2.0 (82.1 ± 0.6)"
    assert format_entry(_entry([80.0, 82.0]), 3) == "81.0 ± 1.4 (n=2) (82.1 ± 0.6)"
    assert format_entry(_entry([]), 3) == "— (82.1 ± 0.6)"
    assert format_entry(_entry([math.nan], "mse_1", paper=""), 1) == "n/a (-)"
    mse = _entry([1.0e-3, 3.0e-3], "mse_10", paper="3.21e-3")
    assert format_entry(mse, 2) == "2.00e-03 ± 1.4e-03 (3.21e-3)"
    quoted = Method("quoted", "Quoted", paper_only=True)  # a row we do not run
    meta = Entry("table1", quoted, "charged5", "acc", (), (),
                 PAPER["table1", "modular_meta", "charged5", "acc"])  # fmt: skip
    assert format_entry(meta, 3) == "not run (88.4)"
    assert not METHODS["modular_meta"].paper_only  # issue 17: run by us


def test_paper_values_parse_as_printed():
    sugar = PAPER["table1", "sugar", "kuramoto10", "acc"]
    assert (sugar.mean, sugar.std, sugar.starred) == (74.0, 0.2, True)
    assert PAPER["table2", "nri_mpm", "springs5", "mse_20"].mean == 2.52e-6
    assert ("table2", "modular_meta", "springs5", "mse_20") not in PAPER  # "-"
    assert math.isnan(PAPER["table3", "mpm_wo_st", "charged10", "mse_1"].std)
    # every row and column of spec/evaluation.md 4.1-4.3
    assert len(PAPER) == 6 * 6 + (6 * 9 - 2) + 7 * 4


def test_aggregate_uses_each_methods_headline_accuracy():
    metrics = {"acc": 0.25, "acc_perm": 0.75, "asym": 0.1, "mse_1": 1e-3}
    results = {
        i: {"method": m, "dataset": "charged5", "seed": 1, "metrics": metrics}
        for i, m in enumerate(("nri", "supervised"))
    }
    entries = aggregate(
        TABLES["table1"], results, ("nri", "supervised"), ("charged5",), (1, 2)
    )
    assert [(e.method.key, e.values) for e in entries] == [
        ("nri", (75.0,)), ("supervised", (25.0,))
    ]  # fmt: skip
    text = table_csv(entries)
    assert text.splitlines()[0].startswith("table,method,label,dataset,metric,n,seeds")
    assert ",82.1 +- 0.6,82.1,0.6,false" in text


def test_cpu_hour_scale_gives_nri_mpm_the_no_interaction_type_on_springs_only(tmp_path):
    settings = Settings(tmp_path, SCALES["cpu-hour"], seeds=(1,))
    mpm = {d: cell_config(Cell(METHODS["nri_mpm"], d, 1), settings) for d in
           ("springs5", "springs10", "charged5", "kuramoto5")}  # fmt: skip
    assert (
        mpm["springs5"].model_config.skip_first
        and mpm["springs10"].model_config.skip_first
    )
    assert not mpm["charged5"].model_config.skip_first  # both charge types interact
    assert mpm[
        "kuramoto5"
    ].model_config.skip_first  # its preset's own choice, unchanged
    assert all(c.train.epochs == 8 for c in mpm.values())
    # NRI keeps its presets' choice; the plain cpu scale is unchanged
    assert (
        cell_config(
            Cell(METHODS["nri"], "charged5", 1), settings
        ).model_config.skip_first
        is False
    )
    cpu = Settings(tmp_path, SCALES["cpu"], seeds=(1,))
    assert not cell_config(
        Cell(METHODS["nri_mpm"], "springs5", 1), cpu
    ).model_config.skip_first


def test_cpu_hour_scale_gives_nri_the_long_schedule_on_springs_only(tmp_path):
    settings = Settings(tmp_path, SCALES["cpu-hour"], seeds=(1,))
    nri = {d: cell_config(Cell(METHODS["nri"], d, 1), settings) for d in
           ("springs5", "charged5", "kuramoto5")}  # fmt: skip
    s = nri["springs5"]
    assert (s.model_config.lr_decay_start, s.model_config.lr_decay_step) == (10, 5)
    assert s.train.augment == "box" and s.train.epochs == 60
    assert s.train.max_batch_size == 64  # the first two decays double the batch
    assert s.model_config.decoder_window is None
    for d in ("charged5", "kuramoto5"):  # the cpu recipe as before
        c = nri[d]
        assert c.train.augment == "none" and c.train.epochs == 40
        assert c.model_config.decoder_window == 21
    # a user's setting still comes last
    mine = Settings(tmp_path, SCALES["cpu-hour"], seeds=(1,),
                    overrides=("train.augment=none",))  # fmt: skip
    assert (
        cell_config(Cell(METHODS["nri"], "springs5", 1), mine).train.augment == "none"
    )
