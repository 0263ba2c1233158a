"""Own data: every import format gives the same tensors; bad files give clear errors."""

import csv
import json
import shlex

import numpy as np
import pytest
import torch

from nri import graph
from nri.cli import main
from nri.config import resolve
from nri.data.custom import (
    import_data,
    load_file_dataset,
    split_series,
    suggested_settings,
)
from nri.data.dataset import DataError, load_dataset
from nri.data.importers import (
    make_series,
    make_windows,
    read_csv,
    read_npy,
    read_npz,
    read_nri,
    read_series,
)

S, N, T, F = 10, 3, 6, 4


@pytest.fixture
def arrays():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(S, N, T, F)) * [1.0, 2.0, 30.0, 0.1] + [0, 5, 100, 0]
    adj = rng.integers(0, 2, size=(S, N, N)).astype(np.float64)
    adj[:, np.arange(N), np.arange(N)] = 0
    return x, adj


def write_long_csv(path, x, sample_ids=None, object_ids=None, times=None, shuffle=0):
    """``x [S, N, T, F]`` as a long-format CSV (rows shuffled with seed ``shuffle``)."""
    s, n, t, f = x.shape
    sample_ids = sample_ids or [str(i) for i in range(s)]
    object_ids = object_ids or [str(i) for i in range(n)]
    rows = [
        [sample_ids[a], repr(float(times[a][k])) if times else str(k), object_ids[i]]
        + [repr(float(v)) for v in x[a, i, k]]
        for a in range(s)
        for k in range(t)
        for i in range(n)
    ]
    if shuffle:
        np.random.default_rng(shuffle).shuffle(rows)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "time", "object", *[f"f{j}" for j in range(f)]])
        w.writerows(rows)


def write_nri_layout(root, x, adj, suffix="springs3"):
    """The original NRI particle layout: loc/vel ``[S, T, 2, N]``, edges ``[S, N, N]``."""
    root.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        np.save(root / f"loc_{split}_{suffix}.npy", x[..., :2].transpose(0, 2, 3, 1))
        np.save(root / f"vel_{split}_{suffix}.npy", x[..., 2:].transpose(0, 2, 3, 1))
        np.save(root / f"edges_{split}_{suffix}.npy", adj)


def test_every_format_gives_the_same_series(tmp_path, arrays):
    x, adj = arrays
    np.savez(tmp_path / "a.npz", x=x, edges=adj)
    np.save(tmp_path / "a.npy", x)
    write_long_csv(tmp_path / "a.csv", x, shuffle=3)  # row order must not matter
    write_nri_layout(tmp_path / "nri", x, adj)
    labels = graph.to_edges_np(adj).astype(np.int64)  # [S, E]
    series = {
        "npz": read_npz(tmp_path / "a.npz"),
        "npy": read_npy(tmp_path / "a.npy"),
        "csv": read_csv(tmp_path / "a.csv"),
        "nri": read_nri(tmp_path / "nri", "train"),
        "dispatch": read_series(tmp_path / "a.csv"),
    }
    for name, s in series.items():
        assert s.x.shape == (S, N, T, F) and s.x.dtype == np.float64, name
        assert np.array_equal(s.x, x), name
    assert np.array_equal(series["npz"].edges, labels)
    assert np.array_equal(series["nri"].edges, labels)
    assert series["npy"].edges is None and series["csv"].edges is None
    # edges as [S, E] in nri.graph order, or one shared graph, mean the same
    np.savez(tmp_path / "b.npz", x=x, edges=labels)
    assert np.array_equal(read_npz(tmp_path / "b.npz").edges, labels)
    np.savez(tmp_path / "c.npz", trajectories=x, edges=adj[0])
    assert np.array_equal(
        read_npz(tmp_path / "c.npz").edges, np.tile(labels[0], (S, 1))
    )


def test_imported_formats_give_the_same_tensors(tmp_path, arrays):
    x, adj = arrays
    np.savez(tmp_path / "a.npz", x=x, edges=adj, feature_names=["f0", "f1", "f2", "f3"])
    write_long_csv(tmp_path / "a.csv", x, shuffle=1)
    loaded = {}
    for ext in ("npz", "csv"):
        import_data(tmp_path / f"a.{ext}", tmp_path / ext, "own", seed=5)
        loaded[ext] = load_dataset(tmp_path / ext, "own")
    loaded["file"] = load_dataset(tmp_path / "a.csv")  # a file directly
    a, b = loaded["npz"], loaded["csv"]
    assert a.normalizer == b.normalizer and a.system == "custom"
    for split in ("train", "valid", "test"):
        assert torch.equal(a.splits[split].x, b.splits[split].x), split
        assert a.splits[split].x.dtype == torch.float32
    assert a.has_edges and not b.has_edges  # the CSV has no graph: labels -1
    assert (b.train.edges == -1).all() and b.train.edges.shape == (8, N * (N - 1))
    # the training split spans [-1, 1] per feature: fitted on train, all 4 kept
    assert torch.allclose(a.train.x.amin(dim=(0, 1, 2)), torch.full((F,), -1.0))
    assert torch.allclose(a.train.x.amax(dim=(0, 1, 2)), torch.full((F,), 1.0))
    idx = split_series(read_npz(tmp_path / "a.npz"), seed=5)["test"].sample_names
    expect = a.normalizer.transform(x[[int(i) for i in idx]]).astype(np.float32)
    assert np.array_equal(a.test.x.numpy(), expect)
    f = loaded["file"]  # default split seed 0
    assert f.train.x.shape[0] + f.valid.x.shape[0] + f.test.x.shape[0] == S
    back = f.normalizer.inverse(f.test.x.double()).numpy()
    again = load_file_dataset(tmp_path / "a.csv", splits=("test",))
    assert torch.equal(again.test.x, f.test.x)
    assert np.allclose(back, x[np.isin(x[:, 0, 0, 0], back[:, 0, 0, 0])], atol=1e-4)


def test_generic_layout_keeps_labels_and_all_features(tmp_path, arrays):
    x, adj = arrays
    x5 = np.concatenate([x, x[..., :1] ** 2], axis=-1)  # 5 features
    np.savez(tmp_path / "a.npz", x=x5, edges=adj)
    meta = import_data(tmp_path / "a.npz", tmp_path / "d", "five", seed=1)
    data = load_dataset(tmp_path / "d")  # one set: the suffix is found
    assert data.n_features == 5 and data.suffix == "five"
    assert json.loads(meta.read_text())["has_edges"] is True
    parts = split_series(read_npz(tmp_path / "a.npz"), seed=1)
    assert np.array_equal(data.test.edges.numpy(), parts["test"].edges)
    assert not list((tmp_path / "d").glob("*.partial"))
    assert not list((tmp_path / "d").glob(".incomplete*"))
    # re-importing without edges removes the old edge files
    np.save(tmp_path / "a.npy", x5)
    import_data(tmp_path / "a.npy", tmp_path / "d", "five")
    assert not list((tmp_path / "d").glob("edges_*"))
    again = load_dataset(tmp_path / "d", "five")
    assert not again.has_edges and "no edge labels" in again.summary()


def test_csv_ids_times_and_one_sample(tmp_path, arrays):
    x, _ = arrays
    objs = ["10", "2", "1"]  # numeric ids sort as numbers: 1, 2, 10
    write_long_csv(tmp_path / "a.csv", x[:2], sample_ids=["b", "a"], object_ids=objs)
    s = read_csv(tmp_path / "a.csv")
    assert s.object_names == ("1", "2", "10") and s.sample_names == ("a", "b")
    assert np.array_equal(s.x[1], x[0, ::-1])  # sample "b" = x[0]; objects reversed
    # no sample column: one sample; ISO dates as time
    rows = [["time", "object", "v"]]
    for k, day in enumerate(["2024-01-01", "2024-01-02", "2024-01-03"]):
        rows += [[day, "p", str(k)], [day, "q", str(-k)]]
    with (tmp_path / "b.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    one = read_csv(tmp_path / "b.csv")
    assert one.x.shape == (1, 2, 3, 1) and one.feature_names == ("v",)
    assert np.array_equal(one.times[0], [0.0, 86400.0, 172800.0])
    assert np.array_equal(one.x[0, 1, :, 0], [0.0, -1.0, -2.0])


def test_windows_cut_long_and_ragged_recordings(tmp_path, arrays):
    x, adj = arrays
    s = make_series(x, adj)
    w = make_windows(s, 3, stride=2)  # T = 6 -> windows at 0, 2 (4 would end at 7)
    assert w.x.shape == (S * 2, N, 3, F)
    assert np.array_equal(w.x[1], x[0, :, 2:5]) and np.array_equal(w.x[2], x[1, :, :3])
    assert np.array_equal(w.edges[3], s.edges[1])
    write_long_csv(tmp_path / "r.csv", x[:2])
    with (tmp_path / "r.csv").open() as fh:
        lines = fh.readlines()
    (tmp_path / "r.csv").write_text("".join(lines[:-N]))  # sample 1 one frame short
    with pytest.raises(DataError, match=r"differ in length \(5 to 6.*--window"):
        read_csv(tmp_path / "r.csv")
    cut = read_csv(tmp_path / "r.csv", window=5, stride=1)
    assert cut.x.shape == (3, N, 5, F) and cut.sample_names == ("0@0", "0@1", "1@0")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sample,time,object,a\n0,0,0,1\n0,0,1,\n0,1,0,1\n0,1,1,2\n",
         "line 3: missing value in column 'a'"),
        ("sample,time,object,a\n0,0,0,1\n0,0,1,nan\n", "missing value"),
        ("sample,time,object,a\n0,0,0,1\n0,0,1,2\n0,1,0,1\n",
         r"no row for object\(s\) \['1'\] at time '1'"),
        ("sample,time,object,a\n0,0,0,1\n0,0,1,1\n0,0,0,2\n", "two rows for sample"),
        ("sample,time,object,a\n0,0,0,1\n0,1,0,2\n", "at least 2 interacting"),
        ("sample,time,thing,a\n0,0,0,1\n", "no column 'object'"),
        ("sample,time,object,a\n0,0,0,x\n", "column 'a' = 'x' is not a number"),
        ("sample,time,object,a\n0,0,0\n", "line 2: missing value in column 'a'"),
        ("sample,time,object,a\n0,noon,0,1\n0,noon,1,1\n", "neither a number nor"),
        ("sample,time,object\n0,0,0\n0,0,1\n", "no feature columns"),
    ],
)  # fmt: skip
def test_bad_csv_files(tmp_path, content, message):
    (tmp_path / "bad.csv").write_text(content)
    with pytest.raises(DataError, match=message):
        read_csv(tmp_path / "bad.csv")


def test_bad_arrays(tmp_path, arrays):
    x, adj = arrays
    bad = x.copy()
    bad[1, 2, 3, 0] = np.nan
    cases = {
        "nan.npz": ({"x": bad}, "missing .NaN.*sample 1, object 2, time 3"),
        "three.npz": ({"x": x[0]}, "expected 4 axes"),
        "one.npz": ({"x": x[:, :1]}, "at least 2"),
        "edges.npz": ({"x": x, "edges": adj[:, :2]}, "edges have shape"),
        "labels.npz": ({"x": x, "edges": adj * 0.5}, "edge values must be labels"),
        "keys.npz": ({"a": x, "b": x}, "store the trajectories under 'x'"),
        "names.npz": ({"x": x, "object_names": ["a"]}, "1 object_names for 3"),
        "dup_objects.npz": (
            {"x": x, "object_names": ["a", "b", "a"]},
            "object_names has 'a' twice .entries 0 and 2.",
        ),
        "dup_features.npz": (
            {"x": x, "feature_names": ["px", "px", "vx", "vy"]},
            "feature_names has 'px' twice",
        ),
        "dup_samples.npz": (
            {"x": x, "sample_names": ["r0"] * (len(x) - 1) + ["r1"]},
            "sample_names has 'r0' twice .entries 0 and 1.",
        ),
        "empty_name.npz": (
            {"x": x, "object_names": ["a", " ", "c"]},
            "object_names entry 1 is empty",
        ),
        "pickle.npz": ({"x": x, "edges": np.array([{}], dtype=object)}, "pickled"),
    }
    for name, (content, message) in cases.items():
        np.savez(tmp_path / name, **content)
        with pytest.raises(DataError, match=message):
            read_series(tmp_path / name)
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(DataError, match="corrupt"):
        read_series(tmp_path / "corrupt.npz")
    (tmp_path / "a.xlsx").write_bytes(b"")
    with pytest.raises(DataError, match="unknown format .xlsx"):
        read_series(tmp_path / "a.xlsx")
    with pytest.raises(DataError, match="cannot fill train, valid and test"):
        split_series(make_series(x[:2]))
    const = x.copy()
    const[..., 1] = 3.0
    np.save(tmp_path / "const.npy", const)
    with pytest.raises(DataError, match="feature 'f1' is constant"):
        load_dataset(tmp_path / "const.npy")


def test_suggested_settings_fit_the_model_and_the_test_protocol():
    for train, test in ((30, 30), (49, 99), (8, 8), (49, 49)):
        s = suggested_settings(train, test)
        assert s["n_timesteps"] <= train
        assert s["n_timesteps"] + 1 + s["test_horizon"] <= test
        cfg = resolve([], [f"model.{k}={v}" for k, v in s.items()])  # validates
        assert cfg.model_config.pred_steps <= s["n_timesteps"] - 1
    assert suggested_settings(49, 99) == {"n_timesteps": 49, "test_horizon": 20}
    with pytest.raises(DataError, match="too short"):
        suggested_settings(3, 3)


def test_import_command(tmp_path, arrays, capsys):
    x, adj = arrays
    np.savez(tmp_path / "my data.npz", x=x, edges=adj)
    assert main(["import", str(tmp_path / "my data.npz"), "--out", str(tmp_path / "d"),
                 "--norm-groups", "0,0,1,1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "my_data" in out and "--set model.n_features=4" in out
    assert "--set model.n_timesteps=4 --set model.test_horizon=1" in out
    data = load_dataset(tmp_path / "d", "my_data")
    assert data.normalizer.groups == (0, 0, 1, 1)
    # the printed train line is shell-quoted: an output folder with a space survives
    assert main(["import", str(tmp_path / "my data.npz"), "--out",
                 str(tmp_path / "out dir")]) == 0  # fmt: skip
    line = [ln for ln in capsys.readouterr().out.splitlines() if "nri train" in ln][0]
    words = shlex.split(line)
    assert words[words.index("--data") + 1] == str(tmp_path / "out dir")
    (tmp_path / "bad.csv").write_text("sample,time,object,a\n0,0,0,1\n0,0,1,\n")
    assert (
        main(["import", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "e")]) == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("nri: error:") and "missing value" in err
    assert len(err.splitlines()) == 1


def test_an_imported_set_reads_back_as_the_same_series(tmp_path, arrays):
    """Data model round trip: Series -> nri import's directory -> Series (layout)."""
    from nri.data.layout import read_data_dir

    x, adj = arrays
    adj = adj.copy()
    adj[:, 0, 1] = 2  # a third edge type survives the trip
    names = {"feature_names": ["a", "b", "c", "d"], "object_names": ["p", "q", "r"]}
    np.savez(tmp_path / "a.npz", x=x, edges=adj, **names)
    import_data(tmp_path / "a.npz", tmp_path / "d", "own", seed=2)
    back = read_data_dir(tmp_path / "d")
    parts = split_series(read_npz(tmp_path / "a.npz"), seed=2)
    assert (back.system, back.name, back.feature_groups) == ("custom", "own", None)
    for split, s in back.splits.items():
        assert np.array_equal(s.x, parts[split].x) and s.n_edge_types == 3
        assert np.array_equal(s.edges, parts[split].edges)
        assert s.feature_names == tuple("abcd") and s.object_names == tuple("pqr")
        # which input sample is which
        assert s.sample_names == parts[split].sample_names


def test_stored_sample_names_must_match_the_files(tmp_path, arrays):
    """Names recorded at import that no longer fit the files are refused, not misplaced."""
    from nri.data.layout import read_data_dir

    x, adj = arrays
    np.savez(tmp_path / "a.npz", x=x, edges=adj)
    import_data(tmp_path / "a.npz", tmp_path / "d", "own", seed=2)
    meta_path = tmp_path / "d" / "meta_own.json"
    meta = json.loads(meta_path.read_text())
    assert meta["splits"]["train"]["sample_names"]  # recorded, and read back above
    train = meta["splits"]["train"]
    train["sample_names"] = train["sample_names"][1:]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DataError, match="names .* train samples but the train files"):
        read_data_dir(tmp_path / "d")


def test_overlapping_windows_across_splits_are_reported(tmp_path):
    """Windows of one recording that share frames across train and test leak: counted
    by hand on named windows, and said in one notice at import (none without overlap)."""
    import warnings

    from nri.data.splits import windows_sharing_frames
    from nri.errors import DataNotice

    def named(*names):
        return make_series(np.zeros((len(names), 2, 4, 1)), sample_names=names)

    splits = {
        "train": named("a@0", "a@10", "b@0"),
        "valid": named("a@5", "b@10"),  # a@5 overlaps a@0 and a@10; b@10 is clear
        "test": named("c@0", "a@20"),  # c unseen; a@20 is 10 after a@10: clear
    }
    assert windows_sharing_frames(splits, window=10) == {
        "valid": (1, 2),
        "test": (0, 2),
    }
    assert windows_sharing_frames(splits, window=11)["test"] == (1, 2)

    x = np.random.default_rng(0).normal(size=(10, 3, 50, 2))
    np.savez(tmp_path / "w.npz", x=x)
    with pytest.warns(DataNotice, match=r"--stride 5 < --window 25: \d+ of 6 valid"):
        import_data(tmp_path / "w.npz", tmp_path / "o1", window=25, stride=5,
                    split_by="window")  # fmt: skip
    with pytest.warns(DataNotice) as said:  # only the notice of the random split
        import_data(tmp_path / "w.npz", tmp_path / "o2", window=25, split_by="window")
    assert [str(w.message).count("share frames") for w in said] == [0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        # split by recording (the default for 10 recordings): no window shares frames
        import_data(tmp_path / "w.npz", tmp_path / "o3", window=25, stride=5)
        # split in time (the default for 1 or 2): none either
        import_data(tmp_path / "w.npz", tmp_path / "o4", window=10, stride=5,
                    split_by="time")  # fmt: skip


def test_an_imported_csv_keeps_its_time_axis(tmp_path, arrays):
    """Numeric times with step 2 and ISO stamps survive nri import: the directory reads
    back with the CSV's own times (not frame indices), windows keep their offset."""
    import pandas as pd

    from nri.data.layout import read_data_dir

    x, _ = arrays
    times = [list(2.0 * np.arange(T) + 10 * a) for a in range(S)]  # step 2, own offsets
    write_long_csv(tmp_path / "n.csv", x, times=times)
    direct = split_series(read_csv(tmp_path / "n.csv"), seed=3)
    import_data(tmp_path / "n.csv", tmp_path / "d", "n", seed=3)
    back = read_data_dir(tmp_path / "d")
    for split, s in back.splits.items():
        assert np.array_equal(s.times, direct[split].times) and s.time_origin is None
        assert s.sample_names == direct[split].sample_names

    frame = pd.read_csv(tmp_path / "n.csv")
    origin = pd.Timestamp("2024-03-01T10:00:00")
    frame["time"] = [
        (origin + pd.Timedelta(minutes=v)).isoformat() for v in frame["time"]
    ]
    frame.to_csv(tmp_path / "iso.csv", index=False)
    import_data(
        tmp_path / "iso.csv", tmp_path / "i", "iso", seed=3, window=T - 2, stride=T - 2
    )
    back = read_data_dir(tmp_path / "i")
    direct = split_series(
        read_series(tmp_path / "iso.csv", window=T - 2, stride=T - 2), seed=3
    )
    for split, s in back.splits.items():
        assert s.time_origin == direct[split].time_origin is not None
        assert np.array_equal(s.times, direct[split].times)
        assert s.times.shape == (s.n_samples, T - 2) and np.all(
            np.diff(s.times) == 120.0
        )
