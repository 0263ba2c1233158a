"""The own-data review, the split: windows of one recording, and the pieces
``SAMPLE/k`` that ``--on-gap cut`` makes of it, go to one split (``--split-by``,
``import.split_by``), with a notice and a fallback below 3 recordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import named_csv, run_cli
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
    # pieces of 2 recordings: at random, with the notice naming pieces
    two = pd.read_csv(data)
    two[two["sample"] < 2].to_csv(tmp_path / "two.csv", index=False)
    rc, _, err = run_cli(["import", str(tmp_path / "two.csv"), "--out",
                          str(tmp_path / "two"), "--on-gap", "cut"], capsys)  # fmt: skip
    assert rc == 0, err
    notice = [line for line in err.splitlines() if "2 recording(s)" in line]
    assert len(notice) == 1 and "4 pieces (cut at gaps)" in notice[0], err
