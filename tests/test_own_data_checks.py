"""The own-data review, the checks of what users bring: time stamps that mix UTC
offsets with naive ones (refused), a truth whose only non-zeros are on the diagonal
and arrays that look [S, T, N, F] (notices), numeric CSV object ids (names, matched
at infer time)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import named_csv, run_cli
from nri.data.errors import DataError
from nri.errors import DataNotice

# ---------------------------------------------------- review: mixed time-zone stamps


def test_stamps_with_and_without_utc_offsets_are_refused(tmp_path, capsys):
    """Naive stamps beside ones with an offset would be read as UTC: one line."""
    stamps = [f"2024-03-01T10:{m:02d}:00" for m in range(10)]
    path = named_csv(tmp_path / "tz.csv", stamps)
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

    data = named_csv(tmp_path / "d.csv", [str(t) for t in range(10)])
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
    np.save(tmp_path / "plain.npy", few)  # no names: by position, said
    rc, _, err = run_cli(["infer", str(run), "--data", str(tmp_path / "plain.npy"),
                          "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert rc == 0, err
    said = [line for line in err.splitlines() if "no object names" in line]
    assert len(said) == 1 and "by position" in said[0], err
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


# ------------------------------------------ validation data of other objects (Python)


def test_fit_refuses_validation_data_of_other_objects_or_features():
    """``fit(X, valid=...)`` with another number of objects trained and validated
    without a word (NRI runs on any N); another number of features failed deep in
    the normaliser. Both are one line naming the split, before any training."""
    import nri

    x = np.random.default_rng(0).normal(size=(12, 3, 12, 2)).cumsum(2)
    for valid, said in ((x[:, :2], "2 objects x 2 features"),
                        (x[..., :1], "3 objects x 1 features")):  # fmt: skip
        with pytest.raises(DataError, match=f"the valid split has {said} but the "
                           "train split 3 x 2"):  # fmt: skip
            nri.NRI(epochs=1).fit(x, valid=valid)


# --------------------------------------------- numbers beside ISO stamps in 'time'


def test_numbers_beside_iso_stamps_are_named_as_a_mix(tmp_path):
    """A time column of numbers with a few ISO stamps (or the other way round) said
    of a valid stamp that it is 'neither a number nor an ISO date'; now one line
    names one of each. A cell that is neither is still named as before."""
    from nri.data.importers import read_series

    numbers = [str(t) for t in range(10)]
    stamps = [f"2024-03-01T10:{m:02d}:00" for m in range(10)]
    for times, first in ((numbers[:9] + stamps[9:], "'2024-03-01T10:09:00'"),
                         (numbers[:1] + stamps[1:], "'2024-03-01T10:01:00'")):  # fmt: skip
        path = named_csv(tmp_path / "t.csv", times)
        with pytest.raises(DataError, match=rf"mixes ISO stamps \(line \d+: {first}\) "
                           r"and numbers \(line \d+: '0'\)"):  # fmt: skip
            read_series(path)
    path = named_csv(tmp_path / "n.csv", numbers[:9] + ["noon"])
    with pytest.raises(DataError, match="'noon' is neither a number nor an ISO date"):
        read_series(path)


# ------------------------- review: wide tables, 2-D name arrays, fractional steps


def test_a_wide_table_is_refused_with_the_way_to_the_long_format(tmp_path, capsys):
    """A table with a column per object and feature (no ``object`` column) gets one
    line that says what the long format is and that pandas.melt makes it."""
    t = np.arange(12.0)
    wide = pd.DataFrame({"time": t, "a_x": t, "a_y": -t, "b_x": 2 * t, "b_y": t**2})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    rc, _, err = run_cli(["import", str(tmp_path / "wide.csv"), "--out",
                          str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("nri: error: ")
    assert "no column 'object'" in err and "pandas.melt" in err, err
    assert not (tmp_path / "out").exists()


def test_name_arrays_of_two_axes_are_refused_not_flattened(tmp_path, capsys):
    """``object_names`` of shape [2, 2] for 4 objects were read as a, b, c, d."""
    x = np.random.default_rng(0).normal(size=(12, 4, 10, 2)).cumsum(2)
    names = np.array([["a", "b"], ["c", "d"]])
    np.savez(tmp_path / "n.npz", x=x, object_names=names)
    rc, _, err = run_cli(["import", str(tmp_path / "n.npz"), "--out",
                          str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "object_names has shape [2, 2]" in err and "one name per entry" in err, err
    assert not (tmp_path / "out").exists()
    np.savez(tmp_path / "ok.npz", x=x, object_names=names.ravel())
    rc, _, err = run_cli(["import", str(tmp_path / "ok.npz"), "--out",
                          str(tmp_path / "ok")], capsys)  # fmt: skip
    assert rc == 0, err


def test_forecast_steps_must_be_a_whole_number():
    """``forecast(X, steps=2.5)`` failed deep in the model with a TypeError and
    ``steps=True`` forecast one step: both are one line now."""
    import nri

    x = np.random.default_rng(0).normal(size=(12, 3, 12, 2)).cumsum(2)
    model = nri.NRI(epochs=1, encoder_hidden_dim=8, decoder_hidden_dim=8,
                    progress_bar=False, threads=1).fit(x)  # fmt: skip
    for steps in (2.5, True, "3"):
        with pytest.raises(DataError, match="a whole number >= 1"):
            model.forecast(x, steps=steps)
    assert model.forecast(x, steps=np.int64(2)).shape == (12, 3, 2, 2)
