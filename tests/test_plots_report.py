"""Figures (what they draw, where) and the HTML report of a tiny run."""

import base64
import json
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from _own_data import tiny_run
from nri import graph, plots
from nri.cli import main
from nri.report import read_training_log, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def _arrows(fig):
    return [p for ax in fig.axes for p in ax.patches if isinstance(p, FancyArrowPatch)]


def test_trajectories_draw_the_edges_above_the_threshold():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 8, 4))  # [N, T, F]
    scores = np.array([0.9, 0.1, 0.7, 0.2, 0.4, 0.5])  # [E], nri.graph order
    fig = plots.trajectories_figure(x, scores, forecast=x[:, :2], threshold=0.5)
    assert isinstance(fig, Figure)
    arrows = _arrows(fig)
    assert [a.get_label() for a in arrows] == ["_edge 1->0", "_edge 0->1", "_edge 1->2"]
    # edge 0 is sender 1 -> receiver 0: from object 1's last position to object 0's
    start, end = arrows[0]._posA_posB
    assert np.allclose(start, x[1, -1, :2]) and np.allclose(end, x[0, -1, :2])
    ax = fig.axes[0]
    assert len(ax.lines) == 3 * 3  # path, last position, forecast per object
    one = plots.trajectories_figure(x[..., :1])  # one feature: against time
    assert one.axes[0].get_xlabel() == "frame" and not _arrows(one)


def test_edge_matrices_are_receiver_by_sender():
    probs = np.zeros((6, 2))
    probs[:, 1] = [0.9, 0.1, 0.8, 0.3, 0.6, 0.2]
    probs[:, 0] = 1 - probs[:, 1]
    true = np.array([1, 0, 1, -1, 0, 0])
    fig = plots.edge_matrices_figure(probs, true, no_edge_type=0)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 2  # true, P(interaction)
    assert images[1][0, 1] == pytest.approx(0.9)  # receiver 0 <- sender 1
    assert images[1][1, 0] == pytest.approx(0.8)  # receiver 1 <- sender 0
    assert np.allclose(
        images[1], graph.to_dense_np(probs[:, 1], fill=np.nan), equal_nan=True
    )
    assert np.ma.getmaskarray(images[0])[1, 2] and images[0][1, 0] == 1  # -1: blank
    per_type = plots.edge_matrices_figure(probs)  # no "no interaction" type: K panels
    assert sum(1 for ax in per_type.axes if ax.images) == 2
    assert [ax.get_title() for ax in per_type.axes if ax.images] == [
        "inferred P(type 0)",
        "inferred P(type 1)",
    ]


def test_mse_and_graph_figures():
    fig = plots.mse_figure({"a": [1e-3, 2e-3, 4e-3], "b": [1e-2, 2e-2, 3e-2]})
    lines = fig.axes[0].lines
    assert [ln.get_label() for ln in lines] == ["a", "b"]
    assert list(lines[0].get_xdata()) == [1, 2, 3]
    assert list(lines[1].get_ydata()) == [1e-2, 2e-2, 3e-2]
    scores = {"one": np.array([0.9, 0.01, 0.7, 0.2, 0.04, 0.5]), "two": np.ones(6)}
    g = plots.graph_figure(scores, ("a", "b", "c"))
    titles = [ax.get_title() for ax in g.axes]
    assert titles == ["one\n3 of 6 edges", "two\n6 of 6 edges"]
    arrows = [a.get_label() for a in g.axes[0].patches]
    assert arrows == ["_edge 1->0", "_edge 0->1", "_edge 1->2"]  # score >= 0.5
    assert len(g.axes[1].patches) == 6
    texts = [t.get_text() for t in g.axes[0].texts]
    assert texts == ["0", "1", "2", "a", "b", "c"]  # numbered nodes, names outside


def test_training_log_per_epoch_means(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(
        "epoch,step,train/loss,val/nll,val/acc_perm,train/kl\n"
        "0,9,4.0,,,1\n0,19,2.0,,,1\n0,19,,3.0,0.5,\n"
        "1,29,1.0,,,1\n1,39,,2.5,0.75,\n"
    )
    log = read_training_log(path)
    assert log["train/loss"][0].tolist() == [0, 1]
    assert log["train/loss"][1].tolist() == [3.0, 1.0]  # mean of 4 and 2, then 1
    assert log["val/acc_perm"][1].tolist() == [0.5, 0.75]
    fig = plots.training_curves_figure(log)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss and NLL", "edge metrics"]  # the KL is not drawn
    labels = [ln.get_label() for ln in fig.axes[0].lines]
    assert labels == ["train/loss", "val/nll"]
    assert read_training_log(tmp_path / "missing.csv") == {}


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory)


def test_report_is_self_contained(run, tmp_path, capsys):
    path = write_report(run, out=tmp_path / "r.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"{metrics['acc_perm']:.4f}" in text and f"{metrics['mse_1']:.3e}" in text
    assert "edge accuracy (permutation-invariant)" in text
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', text)
    # curves, MSE, edge matrices, paths, features over time, graph
    assert len(images) == 6
    for data in images:
        assert base64.b64decode(data).startswith(PNG)
    assert text.count("<figure>") == 6
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    assert "n_timesteps: 22" in text  # the configuration
    assert "x, y, vx, vy" in text  # the data summary
    assert "Inferred graph" in text and "<td>1</td><td>0</td>" in text.replace(" ", "")
    assert not list(tmp_path.glob(".r.html.*"))  # written atomically
    assert main(["report", str(run), "--out", str(tmp_path / "cli.html")]) == 0
    assert f"report: {(tmp_path / 'cli.html').resolve()}" in capsys.readouterr().out


def test_report_without_metrics_or_data(run, tmp_path):
    (tmp_path / "run").mkdir()
    for name in ("config.yaml", "normalizer.json"):
        (tmp_path / "run" / name).write_bytes((run / name).read_bytes())
    (tmp_path / "run" / "checkpoints").mkdir()
    best = run / "checkpoints" / "best.ckpt"
    (tmp_path / "run" / "checkpoints" / "best.ckpt").write_bytes(best.read_bytes())
    text = write_report(tmp_path / "run", data=tmp_path / "missing.npz").read_text()
    assert "no metrics.json" in text and "no training log" in text
    assert "no inferred edges" in text and "does not exist" in text
    assert "data:image/png" not in text
