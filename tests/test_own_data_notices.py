"""The own-data review, second round: what users bring that used to give a plausible
result without a word. Samples shorter than a window left out (a notice naming
them), a truth of counts read as that many edge types (a notice, or --edge-types K),
objects matched by position when one side has no names (a notice), and jittered
time stamps (refused as irregular, with the fix, instead of as a gap)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import named_csv, run_cli
from nri.data.errors import DataError
from nri.data.importers import read_series
from nri.data.series import make_series, make_windows
from nri.errors import DataNotice


def _notices(err: str, fragment: str) -> list[str]:
    return [line for line in err.splitlines() if fragment in line]


# ------------------------------------------- samples shorter than a window left out


def _ragged_csv(path: Path, lengths: dict[str, int], gap_at: int | None = None) -> Path:
    """Samples of the given lengths (2 objects, 2 features); ``gap_at``: the
    sample ``g`` of 12 frames misses the time stamp ``gap_at``."""
    rows = []
    frames = {**lengths, **({"g": 12} if gap_at is not None else {})}
    for s, (name, t) in enumerate(frames.items()):
        for k in range(t):
            if name == "g" and k == gap_at:
                continue
            rows += [{"sample": name, "time": k, "object": o, "x": np.sin(k + s + j),
                      "y": np.cos(k * (s + 1) + j)} for j, o in enumerate("ab")]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_samples_shorter_than_the_window_are_named(tmp_path, capsys):
    """Two samples of 3 and 2 frames give no window of 4 and are left out: one
    notice with their names and frames, on the CSV route, for pieces cut at a gap
    and for mocap trials (once for all splits); none when every sample is long
    enough (frames left over at the end are the normal case)."""
    lengths = {"r0": 12, "r1": 12, "r2": 12, "r3": 12, "r4": 3, "r5": 2, "r6": 12}
    path = _ragged_csv(tmp_path / "r.csv", lengths)
    with pytest.warns(DataNotice) as said:
        series = read_series(path, window=4)
    text = [str(w.message) for w in said if "left out" in str(w.message)]
    assert len(text) == 1, text
    assert "left out 2 sample(s) shorter than the window of 4 frames" in text[0]
    assert "(5 frames in all)" in text[0] and "'r4' (3 frames)" in text[0]
    assert "'r5' (2 frames)" in text[0] and "window <= 2" in text[0]
    assert series.n_samples == 5 * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        read_series(path, window=2)  # every sample gives a window
        long = read_series(
            _ragged_csv(tmp_path / "l.csv", {"a": 12, "b": 10}), window=4
        )
        make_windows(make_series(np.zeros((3, 2, 10, 1)) + np.arange(10)[:, None]), 4)
    assert long.n_samples == 3 + 2  # 12 -> 3 windows, 10 -> 2 (2 frames unread)
    rc, _, err = run_cli(["import", str(path), "--out", str(tmp_path / "o"),
                          "--window", "4"], capsys)  # fmt: skip
    assert rc == 0 and len(_notices(err, "left out")) == 1, err  # not once per split
    gap = _ragged_csv(tmp_path / "g.csv", {f"r{i}": 12 for i in range(3)}, gap_at=9)
    with pytest.warns(DataNotice, match=r"left out 1 sample.*'g/1' \(2 frames\)"):
        read_series(gap, window=4, on_gap="cut")  # g/0: frames 0-8, g/1: 10-11


def test_mocap_trials_shorter_than_their_window_one_notice(tmp_path):
    from tests._mocap_files import write_cmu

    from nri.data.mocap import read_mocap

    src = write_cmu(tmp_path / "35", {1: 30, 2: 30, 3: 8, 4: 9, 5: 30})
    opts = {"train_trials": "1,3", "valid_trials": "2", "test_trials": "4,5",
            "train_window": "10", "test_window": "12"}  # fmt: skip
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", DataNotice)
        out = read_mocap(src, **opts)
    text = [str(w.message) for w in said if issubclass(w.category, DataNotice)]
    assert len(text) == 1, text
    assert "left out 2 trial(s)" in text[0] and "'35_03' (7 frames, train)" in text[0]
    assert "'35_04' (8 frames, test)" in text[0] and "test_window" in text[0]
    assert out["train"].n_samples == 2 and out["test"].n_samples == 2


# --------------------------------------------------- a truth of counts or weights


def test_a_truth_of_counts_gets_a_notice(tmp_path, capsys):
    """Labels 0..4 (e.g. interaction counts) read as 5 edge types: a notice on
    every route (once per read), --edge-types 5 says they are types (no notice,
    recorded), and labels beyond the types given are refused."""
    from nri.data.layout import read_data_dir

    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3, 12, 1))
    counts = np.array([[0, 4, 1], [2, 0, 3], [0, 1, 0]])
    np.savez(tmp_path / "c.npz", x=x, edges=counts)
    with pytest.warns(DataNotice, match=r"labels 0\.\.4, read as 5 edge types") as w:
        read_series(tmp_path / "c.npz")
    said = next(str(m.message) for m in w if "edge types" in str(m.message))
    assert "(A > 0)" in said and "--edge-types 5" in said
    rc, stdout, err = run_cli(["import", str(tmp_path / "c.npz"), "--out",
                               str(tmp_path / "a")], capsys)  # fmt: skip
    assert rc == 0 and len(_notices(err, "5 edge types")) == 1, err
    rc, stdout, err = run_cli(["import", str(tmp_path / "c.npz"), "--out",
                               str(tmp_path / "b"), "--edge-types", "6"], capsys)  # fmt: skip
    assert rc == 0 and "edge types" not in err, err
    assert json.loads((tmp_path / "b" / "meta_c.json").read_text())["n_edge_types"] == 6
    assert "model.n_edge_types=6" in stdout
    rc, _, err = run_cli(["import", str(tmp_path / "c.npz"), "--out",
                          str(tmp_path / "r"), "--edge-types", "3"], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and "go up to 4" in err, err
    np.save(tmp_path / "p.npy", x)
    pd.DataFrame(counts).to_csv(tmp_path / "truth.csv")
    rc, _, err = run_cli(["import", str(tmp_path / "p.npy"), "--out", str(tmp_path / "e"),
                          "--edges", str(tmp_path / "truth.csv")], capsys)  # fmt: skip
    assert rc == 0 and len(_notices(err, "read as 5 edge types")) == 1, err
    assert "truth.csv" in _notices(err, "read as 5 edge types")[0]
    rc, _, err = run_cli(["import", str(tmp_path / "p.npy"), "--out",
                          str(tmp_path / "n"), "--edge-types", "3"], capsys)  # fmt: skip
    assert rc == 2 and "has no edges" in err, err
    own = tmp_path / "own"  # feat_/edges_ files without metadata: one notice
    own.mkdir()
    for split in ("train", "valid", "test"):
        np.save(own / f"feat_{split}_o.npy", x[:4])
        np.save(own / f"edges_{split}_o.npy", np.broadcast_to(counts, (4, 3, 3)))
    with pytest.warns(DataNotice, match="read as 5 edge types") as w:
        read_data_dir(own)
    assert len([m for m in w if "edge types" in str(m.message)]) == 1
    with warnings.catch_warnings():  # an imported set recorded its K: no notice
        warnings.simplefilter("error", DataNotice)
        read_data_dir(tmp_path / "a")
        make_series(x, edges=counts, n_edge_types=5)
        make_series(x, edges=(counts > 0).astype(int))
        make_series(x, edges=np.minimum(counts, 2), n_edge_types=3)


def test_true_edges_given_as_an_array_are_checked():
    """``infer_edges(true_edges=array)`` took the array with astype(int64): a
    weight 0.3 became "no interaction" and NaN a huge label. Now as on every route."""
    from nri.run_data import with_true_edges

    series = make_series(np.random.default_rng(0).normal(size=(2, 3, 8, 1)))
    for bad, fragment in ((np.full((3, 3), 0.3), "look like weights"),
                          (np.full((3, 3), np.nan), "NaN")):  # fmt: skip
        with pytest.raises(DataError, match=fragment):
            with_true_edges(series, bad)
    with pytest.warns(DataNotice, match="read as 4 edge types"):
        with_true_edges(series, np.array([[0, 3, 1], [1, 0, 0], [2, 0, 0]]))
    ok = with_true_edges(series, np.array([[9, 1, 0], [1, 0, 0], [0, 1, 0]]))
    assert ok.edges.tolist() == [[1, 0, 1, 0, 0, 1]] * 2  # diagonal ignored


# ------------------------------------------ objects matched by position, one side


def test_one_side_without_object_names_gets_a_notice():
    """Objects 0..3 named by a CSV against 0..3 that are positions (an .npy): the
    names look alike, so nothing was said; the match is by position all the same."""
    from nri.run_data import name_order

    ids = ("0", "1", "2", "3")
    with pytest.warns(DataNotice, match="the data have no object names") as w:
        assert (
            name_order("object", ids, ids, "new.npy", "the run", (False, True)) is None
        )
    assert "by position" in str(w[0].message) and "object_names" in str(w[0].message)
    with pytest.warns(DataNotice, match="the run has no object names"):
        assert (
            name_order("object", ids, ids, "new.csv", "the run", (True, False)) is None
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        for named in ((False, False), (True, True), (None, None)):  # both alike
            assert name_order("object", ids, ids, "d", "the run", named) is None
        assert name_order("feature", ("f0", "f1"), ("f0", "f1"), "d", "the run") is None
    with pytest.warns(DataNotice, match="taking f0, f1 as px, py by position"):
        name_order("feature", ("f0", "f1"), ("px", "py"), "d.npy", "the run")


# ------------------------------------------------------------ jittered time stamps

JITTER = ["0", "0.98", "2.03", "2.99", "4.01", "5.02", "5.97", "7", "8.04", "8.98"]


def test_jittered_time_stamps_are_refused_as_irregular(tmp_path, capsys):
    """Stamps off a regular grid were refused as a gap ('fill in the missing time
    stamps', --on-gap cut, which then found no stretch to keep): now one line says
    that the steps are irregular, from 0.94 to 1.05, and to resample them."""
    path = named_csv(tmp_path / "j.csv", JITTER)
    for opts in ([], ["--on-gap", "cut"], ["--on-gap", "drop"]):
        rc, _, err = run_cli(["import", str(path), "--out", str(tmp_path / "o"),
                              *opts], capsys)  # fmt: skip
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert "irregular" in err and "from 0.94 to 1.05" in err and "resample" in err
        assert "missing" not in err and "no equally spaced stretch" not in err, err
    table = pd.read_csv(named_csv(tmp_path / "m.csv", [str(t) for t in range(10)]))
    table["time"] = table["time"].astype(str)
    one = table["sample"] == 4
    table.loc[one, "time"] = np.repeat(JITTER, 3)  # one jittered sample
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataError, match=r"sample '4' are irregular.*--on-gap drop"):
        read_series(tmp_path / "m.csv")
    rc, _, err = run_cli(["import", str(tmp_path / "m.csv"), "--out",
                          str(tmp_path / "d"), "--on-gap", "drop"], capsys)  # fmt: skip
    assert rc == 0 and "dropped 1 sample(s)" in err and "'4'" in err, err
    gap = named_csv(tmp_path / "g.csv", [str(t) for t in range(12) if t != 5])
    with pytest.raises(DataError, match="'4' is followed by '6'") as refused:
        read_series(gap)  # a missing stamp is still a gap
    assert "irregular" not in str(refused.value)


# ------------------------------------------------ new data far outside the training range


def test_data_far_outside_the_training_range_get_a_notice():
    """Data in other units than the run's training data (px in mm against m) gave a
    graph and a forecast like any other without a word; a notice now names the
    feature and its training range. Values a little outside it are normal."""
    from types import SimpleNamespace

    from nri.data.normalize import Normalizer
    from nri.run_data import normalised

    norm = Normalizer(groups=(0, 1), mins=(-2.0, 0.0), maxs=(2.0, 1.0),
                      names=("px", "py"))  # fmt: skip
    run = SimpleNamespace(normalizer=norm)
    x = np.random.default_rng(0).uniform(-1, 1, size=(3, 2, 8, 2))
    x[..., 1] = (x[..., 1] + 1) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        normalised(run, make_series(x * 3, source="near.npy"))  # 3x: still near
    x[0, 1, 5, 0] = 2000.0  # millimetres
    with pytest.warns(DataNotice, match="far outside") as said:
        normalised(run, make_series(x, source="mm.npy"))
    text = str(said[0].message)
    assert "mm.npy" in text and "'px' (training range [-2, 2]" in text
    assert "'py'" not in text and "units" in text


def _train_one_epoch(data: Path, out: Path) -> Path:
    """A tiny NRI run (1 epoch) on the imported set ``own`` of 4-feature data."""
    from nri.config import resolve
    from nri.training.fit import fit

    cfg = resolve(["cpu"], [
        "data.suffix=own", "model.skip_first=true", "model.n_features=4",
        "model.n_timesteps=12", "model.pred_steps=5", "model.test_horizon=3",
        "model.encoder_hidden_dim=8", "model.decoder_hidden_dim=8",
        "train.epochs=1", "train.batch_size=16", "train.progress_bar=false",
        "train.threads=1", "train.precision=32-true"])  # fmt: skip
    return fit(cfg, out, data=data).run_dir


def test_new_data_at_another_sampling_rate_get_a_notice(tmp_path):
    """The time step of the training data's time column is kept with the run
    (``data.json``); data whose frames are another time apart gave a plausible graph
    and forecast without a word (the dynamics are learned per frame)."""
    from _own_data import long_csv, own_arrays
    from nri.data.custom import import_data
    from nri.forecast import forecast_trajectories
    from nri.infer import infer_edges

    x, _ = own_arrays(n_samples=40)
    t = x.shape[2]
    long_csv(tmp_path / "train.csv", x, times=[f"{0.1 * k:.1f}" for k in range(t)])
    import_data(tmp_path / "train.csv", tmp_path / "data", "own")
    run = _train_one_epoch(tmp_path / "data", tmp_path / "run")
    assert json.loads((run / "data.json").read_text())["time_step"] == pytest.approx(
        0.1
    )
    same = long_csv(tmp_path / "same.csv", x[:4], times=[f"{5 + 0.1 * k:.1f}"
                                                          for k in range(t)])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        infer_edges(run, same)  # the same step (another start): no notice
    other = long_csv(tmp_path / "fast.csv", x[:4], times=[f"{0.05 * k:.2f}"
                                                           for k in range(t)])  # fmt: skip
    for call in (lambda: infer_edges(run, other),
                 lambda: forecast_trajectories(run, other, n_steps=2)):  # fmt: skip
        with pytest.warns(DataNotice, match="frames are 0.05 apart") as said:
            call()
        text = str(said[0].message)
        assert "fast.csv" in text and "trained on frames 0.1 apart" in text
        assert "resample" in text
    np.save(tmp_path / "x.npy", x[:4])
    with warnings.catch_warnings(record=True) as said:  # no times: nothing to compare
        warnings.simplefilter("always")
        infer_edges(run, tmp_path / "x.npy")
    assert not [w for w in said if "apart" in str(w.message)]


def test_evaluating_a_run_on_its_re_imported_data_directory_gets_a_notice(tmp_path):
    """``nri import`` into the directory a run was trained on replaced the data, and
    ``nri evaluate RUN`` then scored the new files as if they were the run's own test
    data. The run keeps a fingerprint of each split's files (``data.json``)."""
    from _own_data import own_arrays
    from nri.data.custom import import_data
    from nri.evaluate import evaluate_run

    x, adj = own_arrays(n_samples=40)
    np.savez(tmp_path / "a.npz", x=x, edges=adj)
    import_data(tmp_path / "a.npz", tmp_path / "data", "own")
    run = _train_one_epoch(tmp_path / "data", tmp_path / "run")
    prints = json.loads((run / "data.json").read_text())["fingerprints"]
    assert sorted(prints) == ["test", "train", "valid"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        evaluate_run(run, write=False)  # the files as trained: no notice
    y, _ = own_arrays(n_samples=40, seed=1)  # other data of the same shape
    np.savez(tmp_path / "b.npz", x=y, edges=adj)
    import_data(tmp_path / "b.npz", tmp_path / "data", "own")
    with pytest.warns(DataNotice, match="have changed since the run was trained"):
        evaluate_run(run, write=False)
    import_data(tmp_path / "b.npz", tmp_path / "other", "own")
    with warnings.catch_warnings():  # another directory, given on purpose: no notice
        warnings.simplefilter("error", DataNotice)
        evaluate_run(run, tmp_path / "other", write=False)
