"""What a person sees: the report's graph (threshold, truth, labels, scripts), plots of
features that are not positions, and progress lines of long commands on stderr."""

import dataclasses
import io
import itertools
import re
import sys
import time
import warnings

import numpy as np
import pytest

from _own_data import tiny_npz, tiny_run
from nri import plots, progress, report_figures
from nri.cli import main
from nri.data.importers import read_series
from nri.infer import infer_edges
from nri.plots_graph import FALSE, FOUND, MISSED, NAME_GID
from nri.plots_text import drawable, numbered, shorten
from nri.report import build_report

NAMES = [
    "北京站温度传感器",
    "Москва-Сортировочная",
    "محطة الرياض",
    "left_front_wheel_hub_sensor",
    "B",
    "pump_07_discharge_side_pressure_transducer",
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def npz(tmp_path_factory):
    return tiny_npz(tmp_path_factory)


def _labels(fig):
    return [t for t in fig.findobj(lambda a: a.get_gid() == NAME_GID)]


def _glyph_warnings(record):
    return [str(w.message) for w in record if "missing from font" in str(w.message)]


# ------------------------------------------------------------------- the graph


def test_graph_draws_only_edges_above_the_threshold_and_says_so():
    scores = np.array([0.9, 0.01, 0.7, 0.2, 0.49, 0.5])  # [E], N = 3
    fig = plots.graph_figure({"one": scores}, ("a", "b", "c"))
    arrows = [p.get_label() for p in fig.axes[0].patches]
    assert arrows == ["_edge 1->0", "_edge 0->1", "_edge 1->2"]  # 0.9, 0.7, 0.5
    assert "score >= 0.5" in fig._suptitle.get_text()
    assert "3 of 6 edges" in fig.axes[0].get_title()
    fig = plots.graph_figure({"one": scores}, threshold=0.8)
    assert [p.get_label() for p in fig.axes[0].patches] == ["_edge 1->0"]
    assert "score >= 0.8" in fig._suptitle.get_text()


def test_graph_with_truth_colours_found_false_and_missed_edges():
    scores = np.array([0.9, 0.01, 0.7, 0.2, 0.4, 0.6])
    truth = np.array([1.0, 1.0, 0.0, np.nan, 0.0, 0.0])
    fig = plots.graph_figure({"s": scores, "m": scores}, truth={"s": truth})
    colours = {p.get_label(): p.get_edgecolor() for p in fig.axes[0].patches}
    from matplotlib.colors import to_rgba

    assert colours["_edge 1->0"][:3] == to_rgba(FOUND)[:3]  # inferred, true
    assert colours["_edge 0->1"][:3] == to_rgba(FALSE)[:3]  # inferred, not true
    assert colours["_missed 2->0"][:3] == to_rgba(MISSED)[:3]  # true, missed
    assert "1 true edges found, 2 false, 1 missed" in fig.axes[0].get_title()
    assert not any("missed" in p.get_label() for p in fig.axes[1].patches)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "inferred, true edge",
        "inferred, no true edge",
        "true edge missed",
    ]
    assert not plots.graph_figure({"s": scores}).legends  # no truth, no legend


@pytest.mark.parametrize("n", [3, 6, 10])
def test_name_labels_do_not_overlap_each_other_nodes_or_titles(n):
    names = [
        NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else f"_{i}") for i in range(n)
    ]
    rng = np.random.default_rng(n)
    scores = rng.uniform(size=n * (n - 1))
    truth = (rng.uniform(size=n * (n - 1)) > 0.5).astype(float)
    fig = plots.graph_figure(
        {"sample 0": scores, "mean": scores**2}, names, truth={"sample 0": truth}
    )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = _labels(fig)
    drawn = [t.get_text() for t in labels]
    assert drawn, "no name was drawn"
    boxes = [t.get_window_extent(renderer) for t in labels]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    others = [ln.get_window_extent(renderer) for ax in fig.axes for ln in ax.lines]
    others += [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for box in boxes:
        assert not any(box.overlaps(o) for o in others)  # not on a node or a title
        assert fig.bbox.contains(*box.min) and fig.bbox.contains(*box.max)
    for text in drawn:  # each label is (a shortened) one of the names
        flat = text.replace("\n", "").rstrip("\u2026")
        assert any(name.startswith(flat) for name in names)


def test_shorten_wraps_at_separators_and_cuts_with_an_ellipsis():
    assert shorten("B", 8) == "B"
    assert shorten("left_front_wheel_hub_sensor", 12) == "left_front_\nwheel_hub_\u2026"
    assert all(len(line) <= 12 for line in shorten("a" * 40, 12).split("\n"))
    assert numbered(["0", "Москва", "x"]) == ["0", "\u200e1 Москва", "\u200e2 x"]


def test_non_latin_names_render_without_missing_glyphs():
    n = len(NAMES)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 12, 2)).cumsum(axis=1)  # [N, T, F]
    probs = rng.dirichlet([1, 1], size=n * (n - 1))  # [E, 2]
    feats = ["температура", "الضغط"]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        figs = [
            plots.graph_figure({"s": probs[:, 1]}, NAMES),
            plots.features_figure(
                x, x[:, :4] + 1, 8, feature_names=feats, object_names=NAMES
            ),  # fmt: skip
            plots.trajectories_figure(
                x, probs[:, 1], object_names=NAMES, feature_names=feats
            ),  # fmt: skip
            plots.edge_matrices_figure(probs, None, 0, NAMES),
        ]
        for fig in figs:
            fig.savefig(__import__("io").BytesIO(), format="png")
    assert _glyph_warnings(record) == []
    graph = figs[0]
    drawn = [t.get_text().replace("\n", "") for t in _labels(graph)]
    assert any(d.startswith("Москва") for d in drawn)  # DejaVu Sans has Cyrillic
    if not drawable([NAMES[0]]):  # no CJK font here: the number, and the figure says so
        assert not any("北" in d for d in drawn)
        assert (
            "object 0: no installed font draws the name" in graph._suptitle.get_text()
        )
    legend = [t.get_text() for t in figs[1].legends[0].get_texts()]
    assert "\u200e1 Москва-Сортировочная" in legend


# --------------------------------------------------------- features over time


def test_positional_features_are_recognised_by_name():
    assert plots.positional_dims(["x", "y", "vx", "vy"]) == (0, 1)
    assert plots.positional_dims(["vx", "vy", "X", "Y"]) == (2, 3)
    assert plots.positional_dims(["pos_x", "temp", "pos_y"]) == (0, 2)
    assert plots.positional_dims(["x (m)", "y (m)"]) == (0, 1)
    for names in (["vel_x", "vel_y"], ["temperature", "pressure"], ["x"], ["f0", "f1"]):
        assert plots.positional_dims(names) is None


def test_features_figure_has_one_panel_per_feature_and_a_forecast():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 20, 2))  # [N, T, F]
    fig = plots.features_figure(x, x[:, -5:] + 1.0, 15, feature_names=["temp", "p"])
    assert [ax.get_ylabel() for ax in fig.axes] == ["temp", "p"]
    for ax in fig.axes:
        assert len(ax.lines) == 3 * 2 + 1  # data, forecast per object; forecast start
        dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
        assert list(dashed[0].get_xdata()) == list(range(14, 20))  # joined at frame 14
    assert "against the data there" in fig._suptitle.get_text()
    one = plots.features_figure(x[..., :1])
    assert len(one.axes) == 1 and one.axes[0].get_xlabel() == "frame"


def test_report_without_truth_never_says_true_vs_inferred(run, npz):
    series = read_series(npz, split="test")
    assert series.edges is not None
    with_truth = build_report(run, data=series, max_samples=20)
    assert "true vs inferred" in with_truth
    assert "a true edge not inferred" in with_truth
    without = build_report(run, data=dataclasses.replace(series, edges=None),
                           max_samples=20)  # fmt: skip
    assert "true vs inferred" not in without and "no true edges known" in without
    for text in (with_truth, without):
        assert "(type 0) &gt;= 0.5" in text  # the threshold is stated
        assert "in the data&#x27;s units" in text  # the forecast against the data


def test_report_draws_non_positional_features_over_time(run, npz, monkeypatch):
    series = read_series(npz, split="test")
    positional = build_report(run, data=series, max_samples=20)
    assert positional.count("<figure>") == 6  # + paths with edges
    assert "paths of x, y" in positional
    monkeypatch.setattr(plots, "positional_dims", lambda names: None)
    other = build_report(run, data=series, max_samples=20)
    assert other.count("<figure>") == 5  # no paths; features over time
    assert "paths of" not in other
    assert re.search(r"every feature over time in the data&#x27;s units", other)
    assert re.search(r"RMSE over the \d+ frames against the data", other)
    assert report_figures.GRAPH_THRESHOLD == 0.5


# ---------------------------------------------------------------- progress


def test_long_commands_print_progress_on_stderr(
    run, npz, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("NRI_PROGRESS", "1")  # plain lines: stderr is not a terminal
    assert main(["import", str(npz), "--out", str(tmp_path / "d"), "--name", "p"]) == 0
    err = capsys.readouterr().err
    assert f"nri: importing {npz} ..." in err and "done in" in err
    assert (
        main(["infer", str(run), "--data", str(npz), "--out", str(tmp_path / "i")]) == 0
    )
    err = capsys.readouterr().err
    assert f"nri: inferring the graph of {npz} ..." in err
    assert re.search(r"nri: inferring edges: \d+ windows in [\d.]+ s", err)
    assert main(["forecast", str(run), "--data", str(npz), "--steps", "3",
                 "--out", str(tmp_path / "f")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert re.search(r"nri: forecasting: \d+ samples in [\d.]+ s", err)
    assert len(err.strip().splitlines()) <= 6  # a few lines, not a line per batch
    infer_edges(run, npz)  # the Python API stays silent
    assert capsys.readouterr().err == ""


def test_evaluate_says_mse_is_in_normalised_units(run, capsys):
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "MSE 1 step (normalised)" in out and "normalised: features" in out


def test_progress_is_off_off_a_terminal_and_clears_itself_on_one(npz, tmp_path, capsys):
    assert main(["import", str(npz), "--out", str(tmp_path / "d"), "--name", "p"]) == 0
    assert capsys.readouterr().err == ""  # a pipe or log file: only results

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    with progress.report_to(term):
        with progress.stage("reading"):
            time.sleep(0.7)
        for _ in progress.batches(3, 1, "steps", "items"):
            time.sleep(0.3)
    shown = term.getvalue()
    assert "nri: reading ... 00:0" in shown and "steps" in shown
    stdout = sys.stdout
    with progress.report_to(term), progress.stage("writing"):
        time.sleep(0.6)
        print("result")  # the command's result: the step's line is cleared first
        cleared = term.getvalue()
    assert cleared.endswith("\r") and term.getvalue() == cleared
    assert sys.stdout is stdout and "result" in capsys.readouterr().out
    assert shown.endswith("\r") or shown.rstrip(" ").endswith("\x1b[A")  # cleared
    with progress.report_to(term, enabled=False):
        assert not progress.active()
