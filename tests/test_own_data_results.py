"""Own data as users bring it, the results side (issue 14 items 1, 8-10): ``nri infer``
and ``nri forecast`` on the user's files.

Value checks through the command line: features and objects matched by name, forecasts
on the user's time axis, every window of one long recording, the true graph beside the
probabilities (an ``--edges`` CSV by names or numbers), values that overflow the run's
normalisation refused, strict JSON. Evaluation, training and reports on own data, and
the refusals of the bad-input catalogue, are in test_own_data_evaluate.py.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from _own_data import (
    N_OBJECTS,
    OFFSET,
    SCALE,
    long_csv,
    run_cli,
    strict_json,
    tiny_npz,
    tiny_run,
)
from nri.sim.springs import SpringsConfig, simulate_springs

E = N_OBJECTS * (N_OBJECTS - 1)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> Path:
    return tiny_npz(tmp_path_factory)


# ------------------------------------------------------------------ item 1: names


def test_feature_columns_in_another_order_give_the_same_results(
    run, npz, tmp_path, capsys
):
    x = np.load(npz)["x"][:6]  # [6, 4, 30, 4] x, y, vx, vy
    plain = long_csv(tmp_path / "plain.csv", x)
    mixed = long_csv(
        tmp_path / "mixed.csv", x, columns=("vy", "x", "vx", "y"), order=(3, 0, 2, 1)
    )
    for name, path in (("a", plain), ("b", mixed)):
        rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--out",
                           str(tmp_path / name)], capsys)  # fmt: skip
        assert rc == 0, err
        rc, _, err = run_cli(["forecast", str(run), "--data", str(path), "--steps", "3",
                           "--out", str(tmp_path / name)], capsys)  # fmt: skip
        assert rc == 0, err
    with (
        np.load(tmp_path / "a" / "edges.npz") as a,
        np.load(tmp_path / "b" / "edges.npz") as b,
    ):
        assert np.allclose(a["probs"], b["probs"], atol=1e-9)
    with (
        np.load(tmp_path / "a" / "forecast.npz") as a,
        np.load(tmp_path / "b" / "forecast.npz") as b,
    ):
        assert np.allclose(a["forecast"], b["forecast"], atol=1e-6)
        assert b["feature_names"].tolist() == ["x", "y", "vx", "vy"]  # the run's order


def test_objects_in_another_order_are_matched_by_name(run, npz, tmp_path, capsys):
    named = tmp_path / "run"
    shutil.copytree(run, named)
    info = json.loads((named / "data.json").read_text())
    info["object_names"] = ["ann", "bob", "cy", "dee"]
    (named / "data.json").write_text(json.dumps(info))
    with np.load(npz) as z:
        x, edges = z["x"][:5], z["edges"][:5]
    names = np.array(["x", "y", "vx", "vy"])
    np.savez(tmp_path / "a.npz", x=x, edges=edges, feature_names=names,
             object_names=np.array(info["object_names"]))  # fmt: skip
    perm = np.array([2, 0, 3, 1])
    np.savez(tmp_path / "b.npz", x=x[:, perm], edges=edges[:, perm][:, :, perm],
             feature_names=names,
             object_names=np.array(info["object_names"])[perm])  # fmt: skip
    for name in ("a", "b"):
        rc, _, err = run_cli(["infer", str(named), "--data", str(tmp_path / f"{name}.npz"),
                           "--out", str(tmp_path / name)], capsys)  # fmt: skip
        assert rc == 0, err
    with (
        np.load(tmp_path / "a" / "edges.npz") as a,
        np.load(tmp_path / "b" / "edges.npz") as b,
    ):
        assert np.allclose(a["probs"], b["probs"], atol=1e-9)
        assert np.array_equal(a["true_edges"], b["true_edges"])
        assert b["object_names"].tolist() == info["object_names"]


# ------------------------------------------------------------ item 8: time stamps


def test_forecast_continues_the_iso_time_axis(run, npz, tmp_path, capsys):
    x = np.load(npz)["x"][:3]  # 30 frames
    stamps = [f"2024-03-01T08:{10 * k // 60:02d}:{10 * k % 60:02d}" for k in range(30)]
    path = long_csv(tmp_path / "iso.csv", x, times=stamps)
    rc, text, err = run_cli(["forecast", str(run), "--data", str(path), "--steps", "3",
                          "--out", str(tmp_path / "fc")], capsys)  # fmt: skip
    assert rc == 0, err
    with (tmp_path / "fc" / "forecast.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["time"] == "2024-03-01T08:05:00"  # the stamp after 08:04:50
    assert {r["time"] for r in rows} == {"2024-03-01T08:05:00", "2024-03-01T08:05:10",
                                         "2024-03-01T08:05:20"}  # fmt: skip
    with np.load(tmp_path / "fc" / "forecast.npz") as z:
        assert str(z["time_origin"]) == "2024-03-01T08:00:00"
        assert np.allclose(z["time_step"], 10.0) and np.allclose(z["times"][0, 0], 300)
    assert "2024-03-01T08:05:00" in text


def test_forecast_continues_numeric_times(run, npz, tmp_path, capsys):
    x = np.load(npz)["x"][:2]
    path = long_csv(
        tmp_path / "n.csv", x, times=[f"{100 + 0.5 * k:g}" for k in range(30)]
    )
    rc, _, err = run_cli(["forecast", str(run), "--data", str(path), "--steps", "2",
                       "--out", str(tmp_path / "fc")], capsys)  # fmt: skip
    assert rc == 0, err
    with (tmp_path / "fc" / "forecast.csv").open() as fh:
        times = [r["time"] for r in csv.DictReader(fh)]
    assert times[0] == "115" and times[-1] == "115.5"
    with np.load(tmp_path / "fc" / "forecast.npz") as z:
        assert str(z["time_origin"]) == "" and np.allclose(z["time_step"], 0.5)


# -------------------------------------------------------- item 9: long recordings


def _recording(tmp_path: Path) -> tuple[Path, np.ndarray]:
    res = simulate_springs(
        SpringsConfig(n_objects=N_OBJECTS), n_sims=1, n_steps=101 * 100,
        rng=np.random.default_rng(7),
    )  # fmt: skip
    x = np.concatenate([res.loc, res.vel], axis=2).transpose(0, 3, 1, 2) * SCALE
    x[..., :2] += OFFSET  # [1, 4, 100, 4], the units of the tiny run's data
    stamps = [f"2024-06-01T00:{k // 60:02d}:{k % 60:02d}" for k in range(x.shape[2])]
    return long_csv(tmp_path / "rec.csv", x, times=stamps), x


def test_one_long_recording_every_window_and_a_chosen_start(run, tmp_path, capsys):
    path, x = _recording(tmp_path)  # 100 frames; the run's window W = 22
    rc, text, err = run_cli(["infer", str(run), "--data", str(path), "--out",
                          str(tmp_path / "inf")], capsys)  # fmt: skip
    assert rc == 0, err
    with np.load(tmp_path / "inf" / "edges.npz") as z:
        assert z["probs"].shape == (4, E, 2)  # windows at 0, 22, 44, 66
        assert z["window_start"].tolist() == [0, 22, 44, 66]
        assert np.allclose(z["mean_probs"], z["probs"].mean(0))
    assert "4 window(s) of 22 frames" in text and "mean over the 4 windows" in text
    doc = json.loads((tmp_path / "inf" / "edges.json").read_text())
    assert doc["n_windows"] == 4 and doc["window_starts"] == [0, 22, 44, 66]
    rc, _, err = run_cli(["forecast", str(run), "--data", str(path), "--steps", "5",
                       "--at", "2024-06-01T00:00:50", "--out", str(tmp_path / "fc")],
                      capsys)  # fmt: skip
    assert rc == 0, err
    with np.load(tmp_path / "fc" / "forecast.npz") as z:
        assert int(z["first_frame"]) == 50
        assert np.allclose(z["history"], x[:, :, 28:50])
        assert np.allclose(z["observed"], x[:, :, 50:55])  # the held-out truth
        assert z["time_labels"][0, 0] == "2024-06-01T00:00:50"


# --------------------------------------------------------------- item 10: truth


def test_true_graph_beside_the_probabilities(run, npz, tmp_path, capsys):
    with np.load(npz) as z:
        x, adj = z["x"][:4], z["edges"][0]
    shared = np.broadcast_to(adj, (4, *adj.shape))
    # the samples that share sample 0's graph: a CSV without edges and an --edges file
    path = long_csv(tmp_path / "d.csv", x, objects=("a", "b", "c", "d"))
    truth = tmp_path / "truth.csv"
    order = [3, 1, 0, 2]  # a header of names, in another order than the data's
    lines = ["," + ",".join("abcd"[i] for i in order)]
    lines += [
        "abcd"[i] + "," + ",".join(str(int(adj[i, j])) for j in order) for i in order
    ]
    truth.write_text("\n".join(lines) + "\n")
    rc, text, err = run_cli(["infer", str(run), "--data", str(path), "--edges", str(truth),
                          "--out", str(tmp_path / "inf")], capsys)  # fmt: skip
    assert rc == 0, err
    assert "trivial baselines: all no-edge" in text and "true: " in text
    with (tmp_path / "inf" / "edges.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:  # indexed [receiver, sender]
        assert int(r["true_type"]) == adj[int(r["receiver"]), int(r["sender"])]
    doc = json.loads((tmp_path / "inf" / "edges.json").read_text())
    frac_one = float((adj[~np.eye(N_OBJECTS, dtype=bool)] > 0).mean())
    assert doc["metrics"]["acc_all_edge"] == pytest.approx(frac_one)
    assert doc["metrics"]["acc_all_no_edge"] == pytest.approx(1 - frac_one)
    with np.load(tmp_path / "inf" / "edges.npz") as z:
        assert z["true_edges"].shape == (4, E)
    del shared


# ------------------------------------------ second user test (issue 14, results side)


def test_overflow_after_normalisation_is_refused_by_infer_and_forecast(
    run, npz, tmp_path, capsys
):
    x = np.load(npz)["x"][:3].copy()
    x[1, 2, 7, 0] = 1e308  # finite here, inf after the run's min-max mapping
    path = long_csv(tmp_path / "big.csv", x)
    for cmd in (["infer"], ["forecast", "--steps", "2"]):
        out = tmp_path / cmd[0]
        rc, _, err = run_cli([cmd[0], str(run), "--data", str(path), *cmd[1:],
                           "--out", str(out)], capsys)  # fmt: skip
        assert rc == 2, err
        # the run (an .npz) has no object names: the CSV's 0..3 by position, said
        lines = [ln for ln in err.splitlines() if not ln.startswith("nri: notice: ")]
        assert len(lines) == 1 and lines[0].startswith("nri: error: "), err
        assert "feature 'x'" in err and "not finite after normalisation" in err, err
        assert "1e+308" in err and not out.exists()


def _asymmetric(n: int) -> np.ndarray:
    """A hand-made directed graph ``[N, N]`` [receiver, sender]: the transpose differs."""
    adj = np.zeros((n, n), dtype=np.int64)
    for r, s in [(0, 1), (2, 1), (3, 0), (3, 2)]:
        adj[r, s] = 1
    assert (adj != adj.T).any()
    return adj


def _true_edges(run: Path, data: Path, truth: Path, out: Path, capsys) -> np.ndarray:
    rc, _, err = run_cli(["infer", str(run), "--data", str(data), "--edges", str(truth),
                       "--out", str(out)], capsys)  # fmt: skip
    assert rc == 0, err
    with np.load(out / "edges.npz") as z:
        return z["true_edges"][0]  # [E]


def test_edges_csv_rows_by_first_column_columns_by_header(run, npz, tmp_path, capsys):
    import pandas as pd

    from nri import graph

    names = ("a", "b", "c", "d")
    path = long_csv(tmp_path / "d.csv", np.load(npz)["x"][:2], objects=names)
    adj = _asymmetric(N_OBJECTS)
    want = graph.to_edges_np(adj)
    rows, cols = [2, 0, 3, 1], [3, 1, 0, 2]  # the rows in another order than the header
    frame = pd.DataFrame(adj[rows][:, cols], index=[names[i] for i in rows],
                         columns=[names[j] for j in cols])  # fmt: skip
    frame.to_csv(tmp_path / "named.csv")
    got = _true_edges(run, path, tmp_path / "named.csv", tmp_path / "a", capsys)
    assert got.tolist() == want.tolist()
    pd.DataFrame(adj).to_csv(tmp_path / "numbered.csv")  # index column, header 0..N-1
    got = _true_edges(run, path, tmp_path / "numbered.csv", tmp_path / "b", capsys)
    assert got.tolist() == want.tolist()
    pd.DataFrame(adj).to_csv(tmp_path / "header.csv", index=False)  # header 0..N-1
    got = _true_edges(run, path, tmp_path / "header.csv", tmp_path / "c", capsys)
    assert got.tolist() == want.tolist()
    bad = frame.astype(float)
    bad.iloc[1, 1] = np.nan  # receiver a, sender b
    bad.to_csv(tmp_path / "nan.csv")
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--edges",
                       str(tmp_path / "nan.csv"), "--out", str(tmp_path / "e")],
                      capsys)  # fmt: skip
    assert rc == 2 and "holds an empty cell at row 2 (a), column 2 (b)" in err, err


def test_json_outputs_hold_null_not_nan(run, npz, tmp_path, capsys):
    """An all-zero truth leaves the AUROC undefined: null in edges.json, never NaN."""
    path = long_csv(tmp_path / "d.csv", np.load(npz)["x"][:2])
    np.save(tmp_path / "none.npy", np.zeros((N_OBJECTS, N_OBJECTS), dtype=np.int64))
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--edges",
                       str(tmp_path / "none.npy"), "--out", str(tmp_path / "i")],
                      capsys)  # fmt: skip
    assert rc == 0, err
    assert strict_json(tmp_path / "i" / "edges.json")["metrics"]["auroc"] is None


def test_a_start_past_the_last_window_names_the_largest_start(run, npz, capsys):
    """--start 20 on 30 frames with a window of 22 was refused as 'needs 42 frames:
    train a run with a shorter window (--set model.n_timesteps=30)', which would not
    help; now the line names the largest start that fits (8), with --stride too."""
    for extra in ([], ["--stride", "2"]):
        rc, _, err = run_cli(["infer", str(run), "--data", str(npz), "--start", "20",
                              *extra], capsys)  # fmt: skip
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert "start 20" in err and "at most 8" in err and "n_timesteps=" not in err
