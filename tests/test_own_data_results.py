"""Own data as users bring it, the results side (issue 14 items 1, 7-13).

The refusals are in the bad-input catalogue (``RESULTS_CASES`` in test_bad_input.py);
here they run again and must leave every file as it was. The rest are value checks
through the command line: features matched by name, K = 3 edge types scored, forecasts
on the user's time axis, every window of one long recording, the true graph beside the
probabilities, runs that work from any directory, evaluation batches and memory.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from _own_data import (
    N_OBJECTS,
    OFFSET,
    SCALE,
    check_refusal,
    run_cli,
    tiny_npz,
    tiny_run,
)
from nri.cli import main
from nri.eval_batch import auto_eval_batch
from nri.models import NRIConfig
from nri.models.nri import NRI
from nri.sim.io import DatasetConfig, write_dataset
from nri.sim.springs import SpringsConfig, simulate_springs
from test_bad_input import RESULTS_CASES, TINY, Env, base  # noqa: F401 - fixture

E = N_OBJECTS * (N_OBJECTS - 1)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return tiny_run(tmp_path_factory)


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> Path:
    return tiny_npz(tmp_path_factory)


@pytest.mark.parametrize("case", RESULTS_CASES, ids=[c.name for c in RESULTS_CASES])
def test_refusals_write_nothing(case, base, tmp_path, capsys):  # noqa: F811
    env = Env(tmp_path, tmp_path / "data", tmp_path / "run", tmp_path / "mpm_run")
    shutil.copytree(base.data, env.data)
    shutil.copytree(base.run, env.run)
    check_refusal(case, env, capsys, ".tmp")


def _long_csv(
    path: Path,
    x: np.ndarray,
    columns: tuple[str, ...] = ("x", "y", "vx", "vy"),
    order: tuple[int, ...] = (0, 1, 2, 3),
    times: list[str] | None = None,
    objects: tuple[str, ...] | None = None,
) -> Path:
    """``x [S, N, T, F]`` as a long CSV whose feature columns are ``columns``
    holding features ``order`` of x; rows in reverse order (the order must not
    matter)."""
    s, n, t, _ = x.shape
    times = times or [str(k) for k in range(t)]
    objects = objects or tuple(str(o) for o in range(n))
    rows = [
        [str(b), times[k], objects[o], *(f"{x[b, o, k, f]:.12g}" for f in order)]
        for b in range(s)
        for k in range(t)
        for o in range(n)
    ]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "time", "object", *columns])
        w.writerows(rows[::-1])
    return path


# ------------------------------------------------------------------ item 1: names


def test_feature_columns_in_another_order_give_the_same_results(
    run, npz, tmp_path, capsys
):
    x = np.load(npz)["x"][:6]  # [6, 4, 30, 4] x, y, vx, vy
    plain = _long_csv(tmp_path / "plain.csv", x)
    mixed = _long_csv(
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


def test_evaluate_matches_features_by_name(run, npz, tmp_path, capsys):
    with np.load(npz) as z:
        x, edges = z["x"], z["edges"]
    order = [2, 0, 3, 1]  # vx, x, vy, y
    np.savez(tmp_path / "mixed.npz", x=x[..., order], edges=edges,
             feature_names=np.array(["vx", "x", "vy", "y"]))  # fmt: skip
    rc = main(
        [
            "import",
            str(tmp_path / "mixed.npz"),
            "--out",
            str(tmp_path / "d"),
            "--name",
            "own",
        ]
    )  # fmt: skip  (the same split as the run's data)
    assert rc == 0
    metrics = []
    for name, data in (("a", run.parent / "data"), ("b", tmp_path / "d")):
        rc, _, err = run_cli(["evaluate", str(run), "--data", str(data), "--out",
                           str(tmp_path / f"{name}.json")], capsys)  # fmt: skip
        assert rc == 0, err
        metrics.append(json.loads((tmp_path / f"{name}.json").read_text()))
    assert metrics[0]["mse"] == pytest.approx(metrics[1]["mse"], rel=1e-5)
    assert metrics[0]["acc"] == metrics[1]["acc"]


# --------------------------------------------------------------- item 7: K types


def _springs3(root: Path) -> Path:
    write_dataset(
        DatasetConfig(n_objects=3, n_train=16, n_valid=8, n_test=8, seed=5), root
    )
    return root


def _k3_sets(tmp_path: Path) -> tuple[Path, Path]:
    """Two imported sets of the same 99-frame springs: labels 0/1, and 0/1/2 (half the
    springs relabelled 2)."""
    sim = tmp_path / "sim"
    write_dataset(DatasetConfig(n_objects=3, n_train=30, n_valid=1, n_test=1, seed=5,
                                length=10000), sim)  # fmt: skip
    loc, vel = (np.load(sim / f"{k}_train_springs3.npy") for k in ("loc", "vel"))
    x = np.concatenate([loc, vel], axis=2).transpose(0, 3, 1, 2)  # [S, 3, 99, 4]
    adj = np.load(sim / "edges_train_springs3.npy").astype(np.int64)  # [S, 3, 3]
    strong = np.random.default_rng(0).random(adj.shape) < 0.5
    names = np.array(["x", "y", "vx", "vy"])
    out = []
    for name, e in (("k2", adj), ("k3", np.where((adj > 0) & strong, 2, adj))):
        np.savez(tmp_path / f"{name}.npz", x=x, edges=e, feature_names=names)
        rc = main(["import", str(tmp_path / f"{name}.npz"), "--out",
                   str(tmp_path / name), "--name", "s3", "--test-frac", "0.2"])  # fmt: skip
        assert rc == 0
        out.append(tmp_path / name)
    return out[0], out[1]


def test_three_edge_types_are_scored(tmp_path, capsys):
    data01, data012 = _k3_sets(tmp_path)
    out = tmp_path / "run"
    rc, _, err = run_cli(["train", "--preset", "springs5", "--set", "data.suffix=s3",
                       "--data", str(data012), "--out", str(out), "--set",
                       "model.n_edge_types=3", "--set", "model.skip_first=true",
                       *TINY], capsys)  # fmt: skip
    assert rc == 0, err
    rc, text, err = run_cli(["evaluate", str(out), "--batch-size", "4"], capsys)
    assert rc == 0, err
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_label_classes"] == 3 and m["headline"] == "acc_perm"
    assert 0 <= m["acc_perm"] <= 1 and "perm.-invariant" in text
    # the same 3-type model against 0/1 labels: type 0 = no edge, never an interaction
    rc, text, err = run_cli(["evaluate", str(out), "--data", str(data01), "--batch-size",
                          "4", "--out", str(tmp_path / "m01.json")], capsys)  # fmt: skip
    assert rc == 0, err
    m = json.loads((tmp_path / "m01.json").read_text())
    assert m["headline"] == "acc_interaction" and m["n_label_classes"] == 2
    assert m["perm_mapping"][0] == 0 and all(c >= 1 for c in m["perm_mapping"][1:])
    assert "type 0 = none vs any interaction) [headline]" in text
    assert "trivial baselines" in text
    assert m["acc_all_no_edge"] + m["acc_all_edge"] == pytest.approx(1.0)


# ------------------------------------------------------------ item 8: time stamps


def test_forecast_continues_the_iso_time_axis(run, npz, tmp_path, capsys):
    x = np.load(npz)["x"][:3]  # 30 frames
    stamps = [f"2024-03-01T08:{10 * k // 60:02d}:{10 * k % 60:02d}" for k in range(30)]
    path = _long_csv(tmp_path / "iso.csv", x, times=stamps)
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
    path = _long_csv(
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
    return _long_csv(tmp_path / "rec.csv", x, times=stamps), x


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
    path = _long_csv(tmp_path / "d.csv", x, objects=("a", "b", "c", "d"))
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


# ----------------------------------------------------------- item 11: portability


def test_a_run_trained_with_a_relative_path_works_from_anywhere(
    tmp_path, capsys, monkeypatch
):
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    _springs3(project / "data")
    rc, _, err = run_cli(["train", "--preset", "springs5", "--set", "data.suffix=springs3",
                       "--data", "data", "--out", "runs/r", *TINY], capsys)  # fmt: skip
    assert rc == 0, err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    rc, _, err = run_cli(["evaluate", str(project / "runs" / "r"), "--batch-size", "4"],
                      capsys)  # fmt: skip
    assert rc == 0, err
    # a run that stored a relative path (Python's fit, older runs): found from the run
    cfg = project / "runs" / "r" / "config.yaml"
    raw = yaml.safe_load(cfg.read_text())
    raw["data"]["path"] = "data"
    cfg.write_text(yaml.safe_dump(raw))
    rc, _, err = run_cli(["evaluate", str(project / "runs" / "r"), "--batch-size", "4"],
                      capsys)  # fmt: skip
    assert rc == 0, err
    # the report finds the same data (its graph section is not dropped)
    rc, _, err = run_cli(
        ["report", str(project / "runs" / "r"), "--out", "r.html"], capsys
    )
    assert rc == 0, err
    assert "no inferred edges" not in (elsewhere / "r.html").read_text()


# ------------------------------------------------------ item 13: memory, batches


def test_evaluation_batches_are_sized_from_n():
    mc, gib = NRIConfig(), 2**30  # more in tests/test_eval_batch.py
    assert auto_eval_batch(mc, 5, 2 * gib) == 256  # the papers' sets: unchanged
    assert auto_eval_batch(mc, 10, 2 * gib) == 256
    assert auto_eval_batch(mc, 50, 2 * gib) == 2  # 0.67 GiB per sample (estimate)
    assert auto_eval_batch(mc, 100, 2 * gib) == 1


def test_out_of_memory_is_one_line_naming_the_option(
    base,  # noqa: F811 - the fixture of test_bad_input
    tmp_path,
    capsys,
    monkeypatch,
):
    def no_memory(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 9.00 GiB")

    monkeypatch.setattr(NRI, "evaluate_batch", no_memory)
    run = tmp_path / "run"
    shutil.copytree(base.run, run)
    before = (
        (run / "metrics.json").read_text() if (run / "metrics.json").exists() else None
    )
    rc, _, err = run_cli(["evaluate", str(run)], capsys)
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert (
        "ran out of memory" in err and "--batch-size" in err and "Traceback" not in err
    )
    after = (
        (run / "metrics.json").read_text() if (run / "metrics.json").exists() else None
    )
    assert after == before
    rc, _, err = run_cli(
        [
            "train",
            "--preset",
            "springs5",
            "--set",
            "data.suffix=springs3",
            "--data",
            str(base.data),
            "--out",
            str(tmp_path / "new"),
            *TINY[:-1],
        ],
        capsys,
    )  # fmt: skip  (with the final evaluation)
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert f"nri evaluate {tmp_path / 'new'} --batch-size" in err
    assert (tmp_path / "new" / "checkpoints" / "best.ckpt").exists()  # the run is kept


# ------------------------------------------ second user test (issue 14, results side)


def _strict_json(path: Path) -> dict:
    """JSON that other readers accept: a bare NaN or Infinity fails."""

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in {path}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_overflow_after_normalisation_is_refused_by_infer_and_forecast(
    run, npz, tmp_path, capsys
):
    x = np.load(npz)["x"][:3].copy()
    x[1, 2, 7, 0] = 1e308  # finite here, inf after the run's min-max mapping
    path = _long_csv(tmp_path / "big.csv", x)
    for cmd in (["infer"], ["forecast", "--steps", "2"]):
        out = tmp_path / cmd[0]
        rc, _, err = run_cli([cmd[0], str(run), "--data", str(path), *cmd[1:],
                           "--out", str(out)], capsys)  # fmt: skip
        assert rc == 2, err
        assert err.startswith("nri: error: ") and len(err.splitlines()) == 1, err
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
    path = _long_csv(tmp_path / "d.csv", np.load(npz)["x"][:2], objects=names)
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


def test_skip_first_permutation_keeps_type_0_no_edge(run, npz, tmp_path, capsys):
    """K = 2 with skip_first: the permutation-invariant score is the raw one, even
    against a truth the model gets mostly wrong (the complement of its own graph),
    where swapping the types would score better."""
    from nri import graph

    path = _long_csv(tmp_path / "d.csv", np.load(npz)["x"][:6])
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--out",
                       str(tmp_path / "own")], capsys)  # fmt: skip
    assert rc == 0, err
    with np.load(tmp_path / "own" / "edges.npz") as z:
        own = z["mean_probs"].argmax(-1)  # [E] the mean graph's types
    flipped = graph.to_dense_np(1 - own[None], fill=0)[0]  # [N, N] its complement
    np.save(tmp_path / "flipped.npy", flipped)
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--edges",
                       str(tmp_path / "flipped.npy"), "--out", str(tmp_path / "i")],
                      capsys)  # fmt: skip
    assert rc == 0, err
    m = _strict_json(tmp_path / "i" / "edges.json")["metrics"]
    assert m["acc"] < 0.5  # a free relabelling would swap the types here
    assert m["perm_mapping"] == [0, 1]
    assert m["acc_perm"] == pytest.approx(m["acc"])
    assert m["acc"] == pytest.approx(m["acc_interaction"])
    out = tmp_path / "m.json"
    rc, text, err = run_cli(["evaluate", str(run), "--out", str(out)], capsys)
    assert rc == 0, err
    m = _strict_json(out)
    assert m["perm_mapping"] == [0, 1] and m["acc_perm"] == pytest.approx(m["acc"])


def test_json_outputs_hold_null_not_nan(run, npz, tmp_path, capsys):
    """An all-zero truth leaves the AUROC undefined: null in edges.json, never NaN."""
    path = _long_csv(tmp_path / "d.csv", np.load(npz)["x"][:2])
    np.save(tmp_path / "none.npy", np.zeros((N_OBJECTS, N_OBJECTS), dtype=np.int64))
    rc, _, err = run_cli(["infer", str(run), "--data", str(path), "--edges",
                       str(tmp_path / "none.npy"), "--out", str(tmp_path / "i")],
                      capsys)  # fmt: skip
    assert rc == 0, err
    assert _strict_json(tmp_path / "i" / "edges.json")["metrics"]["auroc"] is None


def test_evaluate_help_names_the_run_settings(capsys):
    rc, text, _ = run_cli(["evaluate", "--help"], capsys)
    assert rc == 0
    flat = " ".join(text.split())
    assert "model.n_timesteps" in flat and "model.test_horizon" in flat
    assert "0..48" not in flat and "--any-objects" in flat
