"""Own data as users bring it, more of issue 14 through the command line: a report that
leaves sections out says so on the terminal (item 11), calendar-monthly time stamps
(item 3), true edges for CSV data at import (item 10); then the review of the own-data
path: windows split by recording, mixed time zones, an identity matrix as the truth,
transposed arrays, numeric object ids."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import run_cli
from nri.cli import main
from nri.data.errors import DataError
from nri.errors import DataNotice
from nri.sim.io import DatasetConfig, write_dataset
from test_bad_input import TINY


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, Path]:  # noqa: ANN001
    """A springs3 set and a one-epoch run on it without metrics.json."""
    root = tmp_path_factory.mktemp("more")
    data = root / "data"
    write_dataset(DatasetConfig(n_objects=3, n_train=8, n_valid=4, n_test=4), data)
    run = root / "run"
    argv = ["train", "--preset", "springs5", "--set", "data.suffix=springs3",
            "--data", str(data), "--out", str(run), *TINY]  # fmt: skip
    assert main(argv) == 0
    return data, run


def test_report_says_on_the_terminal_which_sections_it_left_out(
    tiny_run, tmp_path, capsys
):
    data, run = tiny_run
    run = Path(shutil.copytree(run, tmp_path / "run"))
    moved = tmp_path / "moved"
    shutil.copytree(data, moved)
    cfg = (run / "config.yaml").read_text().replace(str(data), str(tmp_path / "gone"))
    (run / "config.yaml").write_text(cfg)  # the run's data were moved away
    rc, out, err = run_cli(["report", str(run)], capsys)
    assert rc == 0 and (run / "report.html").is_file(), err
    assert "report: " in out
    lines = err.splitlines()
    assert lines and all(line.startswith("nri: notice: report: ") for line in lines)
    graph = [line for line in lines if "inferred graph" in line]
    assert len(graph) == 1 and "--data" in graph[0] and "gone" in graph[0]
    metrics = [line for line in lines if "metrics table" in line]
    assert len(metrics) == 1 and "nri evaluate" in metrics[0]
    rc, _, err = run_cli(["report", str(run), "--data", str(moved)], capsys)
    assert rc == 0 and "inferred graph" not in err  # with --data: nothing missing


def _named_csv(path: Path, times: list[str]) -> Path:
    rows = [
        {"sample": s, "time": t, "object": name, "x": np.sin(k + o + s),
         "y": np.cos(k * (o + 1)) + s}
        for s in range(10) for k, t in enumerate(times)
        for o, name in enumerate(["ann", "bob", "cy"])
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_import_edges_for_a_csv_matched_by_name(tmp_path, capsys):
    data = _named_csv(tmp_path / "d.csv", [str(t) for t in range(10)])
    adj = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])  # [receiver, sender]
    names = ["ann", "bob", "cy"]
    order = [2, 0, 1]  # rows and columns in another order than the data's objects
    frame = pd.DataFrame(adj[order][:, order], index=[names[i] for i in order],
                         columns=[names[i] for i in order])  # fmt: skip
    frame.to_csv(tmp_path / "truth.csv")  # pandas' index column, header ",cy,ann,bob"
    np.save(tmp_path / "truth.npy", adj)
    pd.DataFrame(adj).to_csv(tmp_path / "plain.csv")  # names 0..2: positions
    for truth in ("truth.csv", "truth.npy", "plain.csv"):
        out = tmp_path / truth.replace(".", "_")
        rc, stdout, err = run_cli(["import", str(data), "--out", str(out), "--edges",
                                str(tmp_path / truth)], capsys)  # fmt: skip
        assert rc == 0, err
        assert "label-1 fraction" in stdout
        # numbered rows and columns are positions: said once, with the order taken
        said = (
            "numbers its objects 0..2: taken as the data's objects in the data's order"
        )
        assert err.count(said) == (truth == "plain.csv"), err
        stored = np.load(out / "edges_test_d.npy")
        assert (stored == adj).all(), truth
        meta = json.loads((out / "meta_d.json").read_text())
        assert meta["has_edges"] and meta["import"]["edges"].endswith(truth)


def test_monthly_stamps_are_refused_with_the_step_count_hint(tmp_path, capsys):
    months = [f"2024-{m:02d}-01" for m in range(1, 13)]
    rc, _, err = run_cli(["import", str(_named_csv(tmp_path / "m.csv", months)),
                       "--out", str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 2 and err.startswith("nri: error: ") and len(err.splitlines()) == 1
    assert "calendar steps" in err and "month number" in err and "gap" not in err
    assert not (tmp_path / "out").exists()
    numbered = _named_csv(tmp_path / "n.csv", [str(m) for m in range(12)])
    rc, _, err = run_cli(
        ["import", str(numbered), "--out", str(tmp_path / "out")], capsys
    )
    assert rc == 0, err


# ------------------------------------------- review of the own-data path: the split


def _recording(name: str) -> str:
    """``REC@40``, ``REC/1@40`` and ``REC/1`` (a piece cut at a gap) -> ``REC``."""
    return name.partition("@")[0].partition("/")[0]


def _split_recordings(out: Path, name: str) -> dict[str, set[str]]:
    meta = json.loads((out / f"meta_{name}.json").read_text())
    return {
        split: {_recording(n) for n in info["sample_names"]}
        for split, info in meta["splits"].items()
    }


def test_windows_are_split_by_recording(tmp_path, capsys):
    """Windows of one recording neighbour each other (with --stride < --window they
    share frames): all of them go to one split, the fractions count recordings."""
    x = np.random.default_rng(0).normal(size=(10, 3, 40, 2))
    np.savez(tmp_path / "w.npz", x=x)
    out = tmp_path / "rec"
    rc, stdout, err = run_cli(["import", str(tmp_path / "w.npz"), "--out", str(out),
                               "--window", "10", "--stride", "5"], capsys)  # fmt: skip
    assert rc == 0 and "notice" not in err, err
    said = "split by recording: 8 / 1 / 1 recordings in train / valid / test"
    assert said in stdout  # the user sees how the recordings went
    recs = _split_recordings(out, "w")
    assert [len(recs[s]) for s in ("train", "valid", "test")] == [8, 1, 1]
    assert not (recs["train"] & recs["valid"] or recs["train"] & recs["test"])
    assert not recs["valid"] & recs["test"]
    meta = json.loads((out / "meta_w.json").read_text())
    assert meta["import"]["split_by"] == "recording"
    assert meta["splits"]["test"]["n_samples"] == 7  # every window of the recording
    # the switch back: windows at random, recordings over several splits
    out = tmp_path / "win"
    rc, stdout, err = run_cli(["import", str(tmp_path / "w.npz"), "--out", str(out),
                               "--window", "10", "--split-by", "window"], capsys)  # fmt: skip
    assert rc == 0 and "recording(s)" not in err and "split by" not in stdout, err
    recs = _split_recordings(out, "w")
    assert recs["test"] & recs["train"]
    assert json.loads((out / "meta_w.json").read_text())["import"]["split_by"] == (
        "window"
    )
    # without --window every sample is a sample, as before
    rc, _, err = run_cli(["import", str(tmp_path / "w.npz"), "--out",
                          str(tmp_path / "whole")], capsys)  # fmt: skip
    meta = json.loads((tmp_path / "whole" / "meta_w.json").read_text())
    assert rc == 0 and meta["import"]["split_by"] == "sample", err
    # --stride alone would be ignored: one line
    rc, _, err = run_cli(["import", str(tmp_path / "w.npz"), "--out",
                          str(tmp_path / "s"), "--stride", "5"], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and "needs --window" in err, err
    assert not (tmp_path / "s").exists()


def test_one_recording_falls_back_to_windows_with_a_notice(tmp_path, capsys):
    x = np.random.default_rng(1).normal(size=(1, 3, 200, 2))
    np.save(tmp_path / "one.npy", x)
    out = tmp_path / "out"
    rc, _, err = run_cli(["import", str(tmp_path / "one.npy"), "--out", str(out),
                          "--window", "10"], capsys)  # fmt: skip
    assert rc == 0, err
    notice = [line for line in err.splitlines() if "1 recording(s)" in line]
    assert len(notice) == 1 and notice[0].startswith("nri: notice: "), err
    assert "split at random" in notice[0] and "overstate" in notice[0]
    meta = json.loads((out / "meta_one.json").read_text())
    assert meta["import"]["split_by"] == "window"
    assert {s: v["n_samples"] for s, v in meta["splits"].items()} == {
        "train": 16, "valid": 2, "test": 2
    }  # fmt: skip
    # insisting on recordings is one line naming the fix
    rc, _, err = run_cli(["import", str(tmp_path / "one.npy"), "--out",
                          str(tmp_path / "no"), "--window", "10", "--split-by",
                          "recording"], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and "--split-by window" in err, err
    assert not (tmp_path / "no").exists()


def test_pieces_cut_at_gaps_stay_with_their_recording(tmp_path):
    """--on-gap cut makes pieces SAMPLE/0, SAMPLE/1 of one recording: one split."""
    from nri.data.custom import split_series
    from nri.data.importers import read_series
    from nri.data.series import make_series, make_windows
    from nri.data.splits import random_splits

    times = [str(t) for t in (*range(10), *range(11, 21))]  # a gap after 9
    data = _named_csv(tmp_path / "g.csv", times)
    with pytest.warns(DataNotice, match="cut 10 sample"):
        series = read_series(data, window=3, on_gap="cut")
    assert set(series.recordings) == {str(s) for s in range(10)}
    for seed in range(5):
        splits = split_series(series, seed=seed)
        where = {
            _recording(n): split for split, s in splits.items() for n in s.sample_names
        }
        for split, s in splits.items():
            assert all(where[_recording(n)] == split for n in s.sample_names)
    # the Python API takes the same switch
    windows = make_windows(make_series(np.random.default_rng(2).normal(
        size=(5, 3, 20, 1))), 4)  # fmt: skip
    by_rec = random_splits(windows, "w").splits
    assert set(by_rec["test"].recordings).isdisjoint(by_rec["train"].recordings)
    by_win = random_splits(windows, "w", split_by="window").splits
    assert by_win["test"].n_samples == 2  # 10 % of 25 windows, not of 5 recordings


def test_pieces_without_windows_stay_with_their_recording(tmp_path, capsys):
    """Without --window the pieces SAMPLE/0, SAMPLE/1 are the samples: they too are
    neighbours in time, so one recording's pieces go to one split."""
    times = [str(t) for t in (*range(10), *range(11, 21))]  # a gap after 9
    data = _named_csv(tmp_path / "g.csv", times)
    for seed in range(3):
        out = tmp_path / f"out{seed}"
        rc, _, err = run_cli(["import", str(data), "--out", str(out), "--on-gap",
                              "cut", "--seed", str(seed)], capsys)  # fmt: skip
        assert rc == 0, err
        recs = _split_recordings(out, "g")
        assert [len(recs[s]) for s in ("train", "valid", "test")] == [8, 1, 1]
        assert not (recs["train"] & (recs["valid"] | recs["test"]))
        assert (
            json.loads((out / "meta_g.json").read_text())["import"]["split_by"]
            == "recording"
        )
    # pieces of 2 recordings: at random, with the notice naming pieces
    two = pd.read_csv(data)
    two[two["sample"] < 2].to_csv(tmp_path / "two.csv", index=False)
    rc, _, err = run_cli(["import", str(tmp_path / "two.csv"), "--out",
                          str(tmp_path / "two"), "--on-gap", "cut"], capsys)  # fmt: skip
    assert rc == 0, err
    notice = [line for line in err.splitlines() if "2 recording(s)" in line]
    assert len(notice) == 1 and "4 pieces (cut at gaps)" in notice[0], err


# ---------------------------------------------------- review: mixed time-zone stamps


def test_stamps_with_and_without_utc_offsets_are_refused(tmp_path, capsys):
    """Naive stamps beside ones with an offset would be read as UTC: one line."""
    stamps = [f"2024-03-01T10:{m:02d}:00" for m in range(10)]
    path = _named_csv(tmp_path / "tz.csv", stamps)
    table = pd.read_csv(path, dtype=str)
    mixed = table.copy()
    first = mixed["sample"] == "0"
    mixed.loc[first, "time"] = mixed.loc[first, "time"] + "+02:00"
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    rc, _, err = run_cli(["import", str(tmp_path / "mixed.csv"), "--out",
                          str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("nri: error: ")
    assert "column 'time'" in err and "+02:00" in err and "or none" in err, err
    assert not (tmp_path / "out").exists()
    # every stamp with an offset (even different ones) is fine, and so is none
    aware = table.copy()
    aware["time"] = aware["time"] + np.where(first, "+02:00", "Z")
    aware.to_csv(tmp_path / "aware.csv", index=False)
    for ok in ("aware.csv", "tz.csv"):
        rc, _, err = run_cli(["import", str(tmp_path / ok), "--out",
                              str(tmp_path / ok.replace(".", "_"))], capsys)  # fmt: skip
        assert rc == 0, err


# ------------------------------------------- review: an identity matrix as the truth


def test_a_truth_with_only_a_diagonal_gets_a_notice(tmp_path, capsys):
    """np.eye(N) as the truth means "no edges at all" (the diagonal is ignored):
    almost surely a mistake, said in a notice on every route; truths with edges off
    the diagonal (StructInfer's self-loops, a -1 diagonal) are not reported."""
    import warnings

    from nri.data.importers import read_series
    from nri.data.series import make_series

    data = _named_csv(tmp_path / "d.csv", [str(t) for t in range(10)])
    np.save(tmp_path / "eye.npy", np.eye(3))
    pd.DataFrame(np.eye(3, dtype=int), index=["ann", "bob", "cy"],
                 columns=["ann", "bob", "cy"]).to_csv(tmp_path / "eye.csv")  # fmt: skip
    for truth in ("eye.npy", "eye.csv"):
        rc, _, err = run_cli(["import", str(data), "--out", str(tmp_path / truth[-3:]),
                              "--edges", str(tmp_path / truth)], capsys)  # fmt: skip
        said = [line for line in err.splitlines() if "off the diagonal" in line]
        assert rc == 0 and len(said) == 1, err
        assert said[0].startswith("nri: notice: ") and truth in said[0]
        assert "[receiver, sender]" in said[0] and "identity" in said[0]
    x = np.random.default_rng(0).normal(size=(4, 3, 10, 1))
    np.savez(tmp_path / "eye.npz", x=x, edges=np.broadcast_to(np.eye(3), (4, 3, 3)))
    with pytest.warns(DataNotice, match="no interaction off the diagonal"):
        read_series(tmp_path / "eye.npz")
    with pytest.warns(DataNotice, match="no interaction off the diagonal"):
        make_series(x, edges=np.eye(3) * 0.7, edge_threshold=0.5)
    self_loops = np.eye(3)
    self_loops[0, 1] = 1  # a real edge beside the self-loops
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        for fine in (self_loops, self_loops - 2 * np.eye(3), np.zeros((3, 3))):
            make_series(x, edges=fine)


# ------------------------------------------------------ review: transposed arrays


def test_an_array_that_looks_transposed_gets_a_notice(tmp_path, capsys):
    """[S, T, N, F] (30 frames of 4 objects) reads as 30 objects x 4 frames."""
    import warnings

    from nri.data.importers import read_series
    from nri.estimator import _series

    x = np.random.default_rng(0).normal(size=(20, 4, 30, 2))  # [S, N, T, F]
    swapped = x.transpose(0, 2, 1, 3)  # [S, T, N, F]
    np.save(tmp_path / "t.npy", swapped)
    rc, _, err = run_cli(["import", str(tmp_path / "t.npy"), "--out",
                          str(tmp_path / "out")], capsys)  # fmt: skip
    said = [line for line in err.splitlines() if "[S, T, N, F]" in line]
    assert rc == 0 and len(said) == 1 and said[0].startswith("nri: notice: "), err
    assert "30 objects x 4 frames" in said[0] and "x.transpose(0, 2, 1, 3)" in said[0]
    np.savez(tmp_path / "t.npz", x=swapped)
    with pytest.warns(DataNotice, match=r"is the array \[S, T, N, F\]"):
        read_series(tmp_path / "t.npz")
    with pytest.warns(DataNotice, match=r"is the array \[S, T, N, F\]"):
        _series(swapped, "X_train")
    np.save(tmp_path / "ok.npy", x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNotice)
        read_series(tmp_path / "ok.npy")
        _series(x[:, :, :7], "X")  # 4 objects, 7 frames: fewer objects than frames


# ---------------------------------------------------- review: numeric CSV object ids


def _long_csv(path: Path, x: np.ndarray, objects: list[str]) -> Path:
    """``x [S, N, T, F]`` as a long CSV whose objects are called ``objects``."""
    s, n, t, f = x.shape
    frame = pd.DataFrame(x.transpose(0, 2, 1, 3).reshape(-1, f),
                         columns=["x", "y", "vx", "vy"])  # fmt: skip
    frame.insert(0, "object", np.tile(objects, s * t))
    frame.insert(0, "time", np.tile(np.repeat(np.arange(t), n), s))
    frame.insert(0, "sample", np.repeat(np.arange(s), t * n))
    frame.to_csv(path, index=False)
    return path


def test_numeric_csv_object_ids_are_names(tmp_path, capsys):
    """A run trained on a CSV with objects 0, 1, 2, 3 knows them by name: data whose
    objects are 1..4, 0, 1, 2, 7 or alpha..delta are refused (--any-objects accepts
    them), while data without names (an .npy) are still taken by position."""
    from _own_data import own_arrays
    from nri.data.custom import suggested_settings

    x, _ = own_arrays(n_samples=20)  # [20, 4, 30, 4]
    train_csv = _long_csv(tmp_path / "train.csv", x, ["0", "1", "2", "3"])
    run = tmp_path / "run"
    sets = [f"model.{k}={v}" for k, v in suggested_settings(30, 30).items()]
    sets += ["model.n_features=4", "model.encoder_hidden_dim=16",
             "model.decoder_hidden_dim=16", "train.epochs=1", "train.batch_size=8",
             "train.progress_bar=false", "train.threads=1"]  # fmt: skip
    argv = ["train", "--preset", "cpu", "--data", str(train_csv), "--out", str(run),
            "--no-eval", *(w for s in sets for w in ("--set", s))]  # fmt: skip
    rc, _, err = run_cli(argv, capsys)
    assert rc == 0, err
    few = x[:2]
    for ids in (
        ["1", "2", "3", "4"],
        ["0", "1", "2", "7"],
        ["alpha", "beta", "gamma", "delta"],
    ):
        other = _long_csv(tmp_path / f"{ids[-1]}.csv", few, ids)
        for cmd in (["infer"], ["forecast", "--steps", "2"]):
            rc, _, err = run_cli([cmd[0], str(run), "--data", str(other), *cmd[1:],
                                  "--out", str(tmp_path / "o")], capsys)  # fmt: skip
            assert rc == 2 and len(err.splitlines()) == 1, err
            assert "object names do not match" in err and "--any-objects" in err
        rc, _, err = run_cli(["infer", str(run), "--data", str(other), "--out",
                              str(tmp_path / "o"), "--any-objects"], capsys)  # fmt: skip
        assert rc == 0, err
    other = _long_csv(tmp_path / "ev.csv", x[:10], ["1", "2", "3", "4"])
    rc, _, err = run_cli(["evaluate", str(run), "--data", str(other), "--out",
                          str(tmp_path / "m.json")], capsys)  # fmt: skip
    assert rc == 2 and "object names do not match" in err, err
    same = _long_csv(tmp_path / "same.csv", few[:, ::-1], ["3", "2", "1", "0"])
    rc, _, err = run_cli(["infer", str(run), "--data", str(same), "--out",
                          str(tmp_path / "o")], capsys)  # fmt: skip
    assert rc == 0 and "notice" not in err, err
    np.save(tmp_path / "plain.npy", few)  # no names: by position
    rc, _, err = run_cli(["infer", str(run), "--data", str(tmp_path / "plain.npy"),
                          "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert rc == 0, err
    info = json.loads((run / "data.json").read_text())
    assert info["object_names"] == ["0", "1", "2", "3"]
    assert info.get("objects_named") is True


def test_imported_directories_keep_whether_objects_were_named(tmp_path):
    """nri import records it (objects_named in meta); a directory imported before
    has no record: names 0..N-1 are then positions, as they were."""
    from nri.data.custom import import_data
    from nri.data.importers import read_series
    from nri.run_data import name_order

    x = np.random.default_rng(0).normal(size=(10, 4, 12, 4))
    import_data(_long_csv(tmp_path / "d.csv", x, ["0", "1", "2", "3"]), tmp_path / "c")
    np.save(tmp_path / "d.npy", x)
    import_data(tmp_path / "d.npy", tmp_path / "n")
    assert read_series(tmp_path / "c").objects_named is True
    assert read_series(tmp_path / "n").objects_named is False
    meta_path = tmp_path / "c" / "meta_d.json"
    meta = json.loads(meta_path.read_text())
    del meta["objects_named"]  # as nri import wrote it before
    meta_path.write_text(json.dumps(meta))
    old = read_series(tmp_path / "c")
    assert old.objects_named is None
    given, trained = ("1", "2", "3", "4"), old.object_names
    with pytest.warns(DataNotice, match="no object names; taking 1, 2, 3, 4 as 0"):
        assert name_order("object", given, trained, "new.csv", "the run",
                          (True, old.objects_named)) is None  # fmt: skip
    with pytest.raises(DataError, match="missing '0'; extra '4'"):
        name_order("object", given, trained, "new.csv", "the run", (True, True))
