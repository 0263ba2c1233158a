"""Own data as users bring it, the reading side (issue 14 items 2-7 and 12).

The refusals are in the bad-input catalogue (``READING_CASES`` in test_bad_input.py);
here they run again and must leave every file as it was (a failed import writes
nothing). The rest are value checks through the command line: what is accepted must
come out right.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import check_refusal, run_cli
from nri.config import resolve
from nri.data.dataset import DataError, load_dataset
from nri.data.importers import read_series
from nri.errors import DataNotice
from nri.sim.io import DatasetConfig, write_dataset
from nri.training import module as training_module
from nri.training.fit import fit
from test_bad_input import READING_CASES, Env, _own_dir


@pytest.fixture(scope="module")
def springs3(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("reading") / "data"
    write_dataset(DatasetConfig(n_objects=3, n_train=8, n_valid=4, n_test=4), data)
    return data


@pytest.mark.parametrize("case", READING_CASES, ids=[c.name for c in READING_CASES])
def test_refusals_write_nothing(case, springs3, tmp_path, capsys):
    env = Env(tmp_path, tmp_path / "data", tmp_path / "run", tmp_path / "mpm_run")
    shutil.copytree(springs3, env.data)
    check_refusal(case, env, capsys, ".partial")


def _frame(times: list[str], samples: int = 6) -> pd.DataFrame:
    rows = [
        {"sample": s, "time": t, "object": f"o{o}", "x": np.sin(k + o + s),
         "y": np.cos(k * (o + 1)) + s}
        for s in range(samples) for k, t in enumerate(times) for o in range(3)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_unnamed_index_column_is_dropped_with_one_notice(tmp_path, capsys):
    df = _frame([str(t) for t in range(10)], samples=10)
    df.to_csv(tmp_path / "idx.csv")  # index=True: the header starts with ","
    assert (tmp_path / "idx.csv").read_text().startswith(",sample,time")
    rc, _, err = run_cli(["import", str(tmp_path / "idx.csv"), "--out",
                       str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 0, err
    assert err.splitlines() == [err] and err.startswith("nri: notice: ")
    assert "unnamed first column" in err
    meta = json.loads((tmp_path / "out" / "meta_idx.json").read_text())
    assert meta["feature_names"] == ["x", "y"]
    with pytest.warns(DataNotice, match="unnamed first column"):  # the Python API
        s = read_series(tmp_path / "idx.csv")
    plain = tmp_path / "plain.csv"
    df.to_csv(plain, index=False)
    assert np.array_equal(s.x, read_series(plain).x)


def test_iso_and_numeric_times(tmp_path):
    iso = [f"2024-03-01T10:{m:02d}:30" for m in range(8)]
    _frame(iso).to_csv(tmp_path / "iso.csv", index=False)
    s = read_series(tmp_path / "iso.csv")
    assert s.time_origin == "2024-03-01T10:00:30"
    assert s.times.dtype == np.float64 and s.times.shape == (6, 8)
    assert np.array_equal(s.times[0], 60.0 * np.arange(8))
    _frame([f"{0.1 * k + 5:.1f}" for k in range(8)]).to_csv(
        tmp_path / "num.csv", index=False
    )
    n = read_series(tmp_path / "num.csv")
    assert n.time_origin is None and np.allclose(n.times[2], 5 + 0.1 * np.arange(8))
    w = read_series(tmp_path / "iso.csv", window=4)
    assert w.time_origin == s.time_origin and w.times.shape == (12, 4)


def test_gaps_are_cut_or_dropped_on_request(tmp_path, capsys):
    df = _frame([str(t) for t in range(12)], samples=10)
    df = df[~((df["sample"] == 3) & (df["time"] == "7"))]  # sample 3 misses time 7
    df.to_csv(tmp_path / "g.csv", index=False)
    with pytest.raises(DataError, match="sample '3'.*'6' is followed by '8'"):
        read_series(tmp_path / "g.csv")
    out = tmp_path / "out"
    rc, _, err = run_cli(["import", str(tmp_path / "g.csv"), "--out", str(out),
                       "--on-gap", "drop"], capsys)  # fmt: skip
    assert rc == 0 and "dropped 1 sample(s)" in err and "'3'" in err
    meta = json.loads((out / "meta_g.json").read_text())
    names = [n for sp in meta["splits"].values() for n in sp["sample_names"]]
    assert sorted(names) == sorted(str(s) for s in range(10) if s != 3)
    assert meta["import"]["on_gap"] == "drop"
    rc, _, err = run_cli(["import", str(tmp_path / "g.csv"), "--out", str(out), "--name",
                       "cut", "--on-gap", "cut", "--window", "4"], capsys)  # fmt: skip
    assert rc == 0 and "cut 1 sample(s)" in err, err
    meta = json.loads((out / "meta_cut.json").read_text())
    names = [n for sp in meta["splits"].values() for n in sp["sample_names"]]
    assert "3/0@0" in names and "3/0@4" not in names  # frames 0-6: one window at 0
    assert "3/1@0" in names  # frames 8-11 after the gap
    assert len(names) == 9 * 3 + 2


def test_a_piece_named_as_another_sample_is_refused(tmp_path):
    """Sample '3' cut at its gap gives the pieces '3/0', '3/1'; a sample already
    named '3/0' made two samples of one name, refused later as a duplicate name the
    user never wrote ('3/0@0' twice) or as a length of the wrong one."""
    df = _frame([str(t) for t in range(12)], samples=10)
    df["sample"] = df["sample"].astype(str).replace({"4": "3/0"})
    df = df[~((df["sample"] == "3") & (df["time"] == "7"))]
    df.to_csv(tmp_path / "g.csv", index=False)
    with pytest.raises(DataError, match="cutting sample '3' at its gaps gives the "
                       "piece '3/0', which is also the name of another sample"):  # fmt: skip
        read_series(tmp_path / "g.csv", on_gap="cut", window=4)


def test_one_feature_directory_without_metadata(tmp_path, capsys):
    """A BOLD-like set (one feature) in feat_/edges_ files: every feature is kept."""
    env = Env(tmp_path, tmp_path, tmp_path, tmp_path)
    adj = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    root = _own_dir(env, adj, feat=1)  # one [N, N] graph for every sample
    assert not list(root.glob("meta_*"))
    data = load_dataset(root)
    assert data.system == "custom" and data.n_features == 1
    assert (data.test.edges == data.test.edges[0]).all()
    assert data.test.edges[0].tolist() == [1, 0, 1, 1, 0, 1]
    rc, out, err = run_cli(
        ["import", str(root), "--out", str(tmp_path / "out")], capsys
    )
    assert rc == 0, err
    assert "model.n_features=1" in out


def test_kuramoto_features_need_our_metadata(tmp_path):
    """Four stored features without metadata are own data: all four are kept."""
    env = Env(tmp_path, tmp_path, tmp_path, tmp_path)
    root = _own_dir(env, np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]]), feat=4)
    assert load_dataset(root).n_features == 4
    ours = tmp_path / "ours"
    cfg = DatasetConfig(system="kuramoto", n_objects=3, n_train=4, n_valid=2,
                        n_test=2, frames=10, frames_test=10)  # fmt: skip
    write_dataset(cfg, ours)
    assert load_dataset(ours).n_features == 3  # dphi, sin phi, omega (NRI-MPM)


def test_three_edge_types_import(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4, 12, 2))
    labels = rng.integers(0, 3, size=(20, 4, 4))
    np.savez(tmp_path / "k3.npz", x=x, edges=labels)
    rc, out, err = run_cli(["import", str(tmp_path / "k3.npz"), "--out",
                         str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 0, err
    assert "model.n_edge_types=3" in out and "label fractions 0:" in out
    meta = json.loads((tmp_path / "out" / "meta_k3.json").read_text())
    assert meta["n_edge_types"] == 3
    data = load_dataset(tmp_path / "out", "k3")
    assert set(np.unique(data.train.edges.numpy())) == {0, 1, 2}
    stored = np.load(tmp_path / "out" / "edges_train_k3.npy")
    off = ~np.eye(4, dtype=bool)
    assert set(np.unique(stored[:, off])) == {0, 1, 2}


def test_edge_threshold_binarises_weights_on_every_route(tmp_path, capsys):
    w = np.array([[0, 0.3, 0.7], [0.3, 0, 0.9], [0.7, 0.9, 0]])
    x = np.random.default_rng(0).normal(size=(10, 3, 8, 2))
    np.savez(tmp_path / "w.npz", x=x, edges=w)
    env = Env(tmp_path, tmp_path, tmp_path, tmp_path)
    root = _own_dir(env, w)
    for src, name in ((tmp_path / "w.npz", "w"), (root, "wd")):
        rc, _, err = run_cli(["import", str(src), "--out", str(tmp_path / "out"),
                           "--name", name, "--edge-threshold", "0.5"], capsys)  # fmt: skip
        assert rc == 0, err
        data = load_dataset(tmp_path / "out", name)
        # edge order [receiver, sender] row by row: (0,1) (0,2) (1,0) (1,2) (2,0) (2,1)
        assert data.test.edges[0].tolist() == [0, 1, 0, 1, 1, 1]


def test_failed_training_leaves_nothing_that_blocks_a_rerun(
    springs3, tmp_path, monkeypatch
):
    cfg = resolve(["springs5"], ["data.suffix=springs3", "train.epochs=1",
                                 "train.n_train=8", "train.n_valid=4",
                                 "train.batch_size=4", "train.progress_bar=false"])  # fmt: skip
    run = tmp_path / "run"

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise FloatingPointError("loss is NaN at step 0")

    monkeypatch.setattr(training_module.NRILightning, "training_step", fail)
    with pytest.raises(FloatingPointError):
        fit(cfg, run, data=springs3)
    assert not run.exists()  # created by the failed run, removed again
    monkeypatch.undo()
    result = fit(cfg, run, data=springs3)
    assert result.best_checkpoint.exists()


def test_squeezed_features_are_said_once_and_indicators_are_not(tmp_path, capsys):
    """A placeholder value or rounding noise would reach the model as a constant or as
    stretched noise: one notice each, naming the feature; ordinary features, a sparse
    0/1 indicator and simulated data give none."""
    import warnings

    from nri.data.normalize import fit_normalizer, squeezed_features

    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(20, 3, 30, 3)), axis=2)
    names = ("px", "py", "temp")
    assert squeezed_features(x, fit_normalizer(x, names)) == []
    big = x.copy()
    big[3, 1, 5, 0] = 1e200
    (msg,) = squeezed_features(big, fit_normalizer(big, names))
    assert "feature 'px' lie in" in msg and "1e+200" in msg
    noisy = x.copy()
    noisy[..., 2] = 5 + 1e-12 * rng.normal(size=noisy[..., 2].shape)
    (msg,) = squeezed_features(noisy, fit_normalizer(noisy, names))
    assert "feature 'temp' varies by only" in msg
    ind = x.copy()
    ind[..., 1] = (rng.random(ind[..., 1].shape) < 0.005).astype(float)  # rare events
    assert squeezed_features(ind, fit_normalizer(ind, names)) == []

    long = np.cumsum(rng.normal(size=(20, 3, 200, 3)), axis=2)
    long[:, 1, 5, 0] = 1e200  # in every sample, so in the training split too
    np.savez(tmp_path / "big.npz", x=long, feature_names=names)
    rc, _, err = run_cli(
        ["import", str(tmp_path / "big.npz"), "--out", str(tmp_path / "o")], capsys
    )
    assert rc == 0 and err.count("nri: notice:") == 1 and "'px'" in err, err
    sim = tmp_path / "sim"
    write_dataset(DatasetConfig(system="charged", n_objects=3, n_train=8, n_valid=2,
                                n_test=2, length=500, length_test=1000, seed=1), sim)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        load_dataset(sim)


def test_partial_files_of_a_killed_import_are_named(tmp_path, capsys):
    """An import killed before its marker (kill -9) leaves only *.partial files: the
    directory is refused in one line that says so, and the import again reads fine."""
    x = np.cumsum(np.random.default_rng(1).normal(size=(20, 3, 30, 2)), axis=2)
    np.savez(tmp_path / "a.npz", x=x)
    out = tmp_path / "d"
    out.mkdir()
    np.save(out / "feat_train_a.npy", x[:16])
    (out / "feat_train_a.npy").rename(out / "feat_train_a.npy.partial")
    rc, _, err = run_cli(["data", str(out)], capsys)
    assert rc == 2 and "interrupted `nri import`" in err and "\n" not in err.strip()
    rc, _, _ = run_cli(["import", str(tmp_path / "a.npz"), "--out", str(out)], capsys)
    assert rc == 0 and not list(out.glob("*.partial"))
    assert load_dataset(out).splits["train"].x.shape[0] == 16
