"""The own-data review, the split: windows of one recording, and the pieces
``SAMPLE/k`` that ``--on-gap cut`` makes of it, go to one split (``--split-by``,
``import.split_by``); below 3 recordings every recording is split in time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import named_csv, run_cli
from nri.data.series import make_series, make_windows
from nri.errors import DataNotice


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
    assert "--split-by window puts neighbouring windows" in err  # a short notice
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


def _starts(meta: dict, split: str) -> list[int]:
    """The first frames of a split's windows ``REC@FIRST``."""
    return [int(n.rpartition("@")[2]) for n in meta["splits"][split]["sample_names"]]


def test_one_recording_is_split_in_time(tmp_path, capsys):
    """1 recording: its first windows train, the next validate, the last test, and
    with --stride < --window the windows at the boundaries that would share frames
    with the other split are dropped (said in one line, recorded in the metadata)."""
    from nri.data.splits import windows_sharing_frames

    x = np.random.default_rng(1).normal(size=(1, 3, 200, 2))
    np.save(tmp_path / "one.npy", x)
    for stride, counts, dropped in ((None, [16, 2, 2], 0), (5, [29, 4, 4], 2)):
        out = tmp_path / f"out{stride}"
        argv = ["import", str(tmp_path / "one.npy"), "--out", str(out), "--window",
                "10"] + ([] if stride is None else ["--stride", str(stride)])  # fmt: skip
        rc, stdout, err = run_cli(argv, capsys)
        assert rc == 0 and "notice" not in err, err
        said = [line for line in stdout.splitlines() if "split in time" in line]
        assert said == [
            f"split in time: {' / '.join(map(str, counts))} windows in train / valid "
            f"/ test, {dropped} dropped that would share frames across splits"
        ], stdout
        meta = json.loads((out / "meta_one.json").read_text())
        assert meta["import"]["split_by"] == "time"
        assert meta["import"]["n_dropped"] == dropped
        assert list(meta["import"]["n_windows"].values()) == counts
        train, valid, test = (_starts(meta, s) for s in ("train", "valid", "test"))
        assert [len(train), len(valid), len(test)] == counts
        assert max(train) < min(valid) and max(valid) < min(test)  # in time order
        assert max(train) + 10 <= min(valid) and max(valid) + 10 <= min(test)
        assert max(test) == 190  # the last window tests
        n_windows = 190 // (stride or 10) + 1
        assert len(train) + len(valid) + len(test) + dropped == n_windows
        splits = {
            split: make_series(
                np.zeros((len(names), 2, 4, 1)), sample_names=tuple(names)
            )
            for split, names in (("train", [f"0@{a}" for a in train]),
                                 ("valid", [f"0@{a}" for a in valid]),
                                 ("test", [f"0@{a}" for a in test]))
        }  # fmt: skip
        assert windows_sharing_frames(splits, window=10) == {
            "valid": (0, counts[1]), "test": (0, counts[2])
        }  # fmt: skip


def test_window_split_is_the_explicit_random_choice(tmp_path, capsys):
    """--split-by window keeps the random per-window split (the old default for 1-2
    recordings), with a short notice; --split-by recording is refused below 3."""
    x = np.random.default_rng(1).normal(size=(1, 3, 200, 2))
    np.save(tmp_path / "one.npy", x)
    out = tmp_path / "out"
    rc, stdout, err = run_cli(["import", str(tmp_path / "one.npy"), "--out", str(out),
                               "--window", "10", "--split-by", "window"], capsys)  # fmt: skip
    assert rc == 0 and "split in time" not in stdout, err
    notice = [line for line in err.splitlines() if "notice" in line]
    assert len(notice) == 1 and "overstate" in notice[0], err
    assert len(notice[0].split(" ", 3)[3]) <= 200  # after "nri: notice: PATH:"
    meta = json.loads((out / "meta_one.json").read_text())
    assert meta["import"]["split_by"] == "window"
    assert {s: v["n_samples"] for s, v in meta["splits"].items()} == {
        "train": 16, "valid": 2, "test": 2
    }  # fmt: skip
    train, test = _starts(meta, "train"), _starts(meta, "test")
    assert min(test) < max(train)  # random: not in time order (seed 0)
    # insisting on recordings is one line naming the fix
    rc, _, err = run_cli(["import", str(tmp_path / "one.npy"), "--out",
                          str(tmp_path / "no"), "--window", "10", "--split-by",
                          "recording"], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and "--split-by time" in err, err
    assert not (tmp_path / "no").exists()


def test_time_is_the_default_for_two_recordings(tmp_path):
    """In Python too: windows of 1 or 2 recordings split in time by default, each
    recording on its own; 3 recordings are split by recording."""
    from nri.data.splits import random_splits, split_series, split_unit

    two = make_windows(make_series(np.random.default_rng(3).normal(
        size=(2, 3, 100, 1))), 10, 5)  # fmt: skip
    assert split_unit(two) == "time"
    splits = split_series(two)
    assert random_splits(two, "w", split_by="time").splits["test"].sample_names == (
        splits["test"].sample_names
    )
    for rec in ("0", "1"):
        starts = {
            split: [int(n.split("@")[1]) for n in s.sample_names
                    if n.startswith(f"{rec}@")]
            for split, s in splits.items()
        }  # fmt: skip
        assert [len(v) for v in starts.values()] == [13, 2, 2]  # 19, 1 dropped twice
        assert max(starts["train"]) + 10 <= min(starts["valid"])
        assert max(starts["valid"]) + 10 <= min(starts["test"])
    assert split_unit(make_windows(make_series(np.zeros((3, 3, 20, 1))), 5)) == (
        "recording"
    )
    # windows split at random by request, with the notice
    with pytest.warns(DataNotice, match="--split-by window puts"):
        by_window = split_series(two, split_by="window")
    assert {n[0] for n in by_window["test"].sample_names} <= {"0", "1"}


def test_a_recording_too_short_to_split_in_time_is_refused(tmp_path, capsys):
    np.save(tmp_path / "short.npy", np.random.default_rng(4).normal(size=(2, 3, 60, 2)))
    argv = ["import", str(tmp_path / "short.npy"), "--out", str(tmp_path / "o"),
            "--window", "10", "--stride", "5"]  # fmt: skip
    # 11 windows per recording: 1 test, 1 valid, 7 train, 2 dropped
    rc, stdout, err = run_cli(argv, capsys)
    assert rc == 0 and "split in time: 14 / 2 / 2 windows" in stdout, err
    # 4 windows @0, 10, 20, 30 of 30 frames: the valid one, @0, leaves no train
    rc, _, err = run_cli([*argv[:3], str(tmp_path / "no"), "--window", "30",
                          "--stride", "10"], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "recording '0' (4 windows) is too short to split in time" in err
    assert "--stride" in err and not (tmp_path / "no").exists()
    # whole samples have no time order between them: --split-by time needs windows
    rc, _, err = run_cli([*argv[:3], str(tmp_path / "no"), "--split-by", "time"],
                         capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and "--window L" in err, err


def test_given_split_options_that_would_be_ignored_are_refused(tmp_path, capsys):
    """A data directory keeps its splits: --split-by, --valid-frac, --test-frac and
    --seed would be ignored, so giving one is refused in one line."""
    np.save(tmp_path / "a.npy", np.random.default_rng(5).normal(size=(20, 3, 12, 2)))
    assert run_cli(["import", str(tmp_path / "a.npy"), "--out", str(tmp_path / "d"),
                    "--seed", "3"], capsys)[0] == 0  # fmt: skip
    for option in (["--seed", "3"], ["--valid-frac", "0.2"], ["--test-frac", "0.2"],
                   ["--split-by", "time"]):  # fmt: skip
        rc, _, err = run_cli(["import", str(tmp_path / "d"), "--out",
                              str(tmp_path / "o"), *option], capsys)  # fmt: skip
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert f"{option[0]} {option[1]} does not apply" in err
        assert "data set directory" in err and not (tmp_path / "o").exists()
    rc, _, err = run_cli(["import", str(tmp_path / "d"), "--out", str(tmp_path / "o")],
                         capsys)  # fmt: skip
    assert rc == 0, err


def test_pieces_cut_at_gaps_stay_with_their_recording(tmp_path):
    """--on-gap cut makes pieces SAMPLE/0, SAMPLE/1 of one recording: one split."""
    from nri.data.custom import split_series
    from nri.data.importers import read_series
    from nri.data.series import make_series, make_windows
    from nri.data.splits import random_splits

    times = [str(t) for t in (*range(10), *range(11, 21))]  # a gap after 9
    data = named_csv(tmp_path / "g.csv", times)
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
    with pytest.warns(DataNotice, match="--split-by window puts"):
        by_win = random_splits(windows, "w", split_by="window").splits
    assert by_win["test"].n_samples == 2  # 10 % of 25 windows, not of 5 recordings


def test_pieces_without_windows_stay_with_their_recording(tmp_path, capsys):
    """Without --window the pieces SAMPLE/0, SAMPLE/1 are the samples: they too are
    neighbours in time, so one recording's pieces go to one split."""
    times = [str(t) for t in (*range(10), *range(11, 21))]  # a gap after 9
    data = named_csv(tmp_path / "g.csv", times)
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
    # pieces of 2 recordings: in time (2 pieces each are too few), or at random
    # with the notice naming pieces (until the split in time, that was the default)
    two = pd.read_csv(data)
    two[two["sample"] < 2].to_csv(tmp_path / "two.csv", index=False)
    argv = ["import", str(tmp_path / "two.csv"), "--out", str(tmp_path / "two"),
            "--on-gap", "cut"]  # fmt: skip
    rc, _, err = run_cli(argv, capsys)
    assert rc == 2 and "'0' (2 pieces (cut at gaps)) is too short" in err, err
    rc, _, err = run_cli([*argv, "--split-by", "window"], capsys)
    assert rc == 0, err
    notice = [line for line in err.splitlines() if "--split-by window" in line]
    assert len(notice) == 1 and "neighbouring pieces" in notice[0], err
    # pieces with windows: each recording in time, across its pieces
    rc, stdout, err = run_cli([*argv[:3], str(tmp_path / "tw"), "--on-gap", "cut",
                               "--window", "4"], capsys)  # fmt: skip
    assert rc == 0 and "split in time: 4 / 2 / 2 windows" in stdout, (stdout, err)
    meta = json.loads((tmp_path / "tw" / "meta_two.json").read_text())
    assert meta["splits"]["valid"]["sample_names"] == ["0/1@0", "1/1@0"]
    assert meta["splits"]["test"]["sample_names"] == ["0/1@4", "1/1@4"]
