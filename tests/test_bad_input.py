"""The catalogue of bad input (issue 7): every case through the command line.

Each case prepares its files, runs ``nri ...`` in-process and must end with exit code 2
and exactly one line on stderr, ``nri: error: ...``, that names the problem (the
fragments listed with the case), with no traceback. The Python API raises the same
message as a ``ValueError`` subclass (``DataError``, ``RunError``, ``CheckpointError``,
``ConfigError``...); several test files check those directly.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

from nri.cli import main
from nri.sim.io import DatasetConfig, write_dataset

TINY = ["--set", "train.n_train=16", "--set", "train.n_valid=8", "--set",
        "train.progress_bar=false", "--set", "train.batch_size=8", "--epochs", "1",
        "--no-eval"]  # fmt: skip


@dataclass(frozen=True)
class Env:
    tmp: Path  # a fresh directory for the case
    data: Path  # a valid springs3 set (49 / 99 frames), copied for the case
    run: Path  # a trained NRI run on `data`, copied for the case
    mpm_run: Path  # a trained NRI-MPM run on `data`, copied for the case


@dataclass(frozen=True)
class Case:
    name: str
    argv: Callable[[Env], list[str]]  # prepares files, returns the command line
    fragments: tuple[str, ...]


def _save(path: Path, arr: np.ndarray) -> None:
    np.save(path, arr, allow_pickle=True)


def _edit(path: Path, fn: Callable[[np.ndarray], np.ndarray]) -> None:
    _save(path, fn(np.load(path)))


def _train(env: Env, *extra: str, data: Path | None = None) -> list[str]:
    return ["train", "--preset", "springs5", "--set", "data.suffix=springs3",
            "--data", str(data or env.data), "--out", str(env.tmp / "new"), *TINY,
            *extra]  # fmt: skip


def _eval(env: Env, run: Path | None = None, *extra: str) -> list[str]:
    return ["evaluate", str(run or env.run), "--batch-size", "4", *extra]


def _nan(env: Env) -> list[str]:
    _edit(env.data / "loc_train_springs3.npy", lambda a: np.where(a > 0.5, np.nan, a))
    return ["data", str(env.data)]


def _inf(env: Env) -> list[str]:
    _edit(env.data / "vel_valid_springs3.npy", lambda a: np.where(a > 0.1, np.inf, a))
    return ["data", str(env.data)]


def _text_dtype(env: Env) -> list[str]:
    _edit(env.data / "loc_test_springs3.npy", lambda a: np.full(a.shape, "x"))
    return ["data", str(env.data)]


def _rank(env: Env) -> list[str]:
    _edit(env.data / "loc_train_springs3.npy", lambda a: a[..., 0])
    return ["data", str(env.data)]


def _loc_vel(env: Env) -> list[str]:
    _edit(env.data / "vel_train_springs3.npy", lambda a: a[:, :-1])
    return ["data", str(env.data)]


def _edges_shape(env: Env) -> list[str]:
    _edit(env.data / "edges_train_springs3.npy", lambda a: a[:, :2])
    return ["data", str(env.data)]


def _edges_count(env: Env) -> list[str]:
    _edit(env.data / "edges_valid_springs3.npy", lambda a: a[:-1])
    return ["data", str(env.data)]


def _pickled(env: Env) -> list[str]:
    path = env.data / "loc_valid_springs3.npy"
    _save(path, np.array([{"a": 1}], dtype=object))
    return ["data", str(env.data)]


def _truncated(env: Env) -> list[str]:
    path = env.data / "vel_test_springs3.npy"
    path.write_bytes(path.read_bytes()[:200])
    return ["data", str(env.data)]


def _not_npy(env: Env) -> list[str]:
    (env.data / "edges_test_springs3.npy").write_text("sample,time,object\n")
    return ["data", str(env.data)]


def _empty(env: Env) -> list[str]:
    for kind in ("loc", "vel", "edges"):
        _edit(env.data / f"{kind}_valid_springs3.npy", lambda a: a[:0])
    return ["data", str(env.data)]


def _missing_split(env: Env) -> list[str]:
    (env.data / "vel_valid_springs3.npy").unlink()
    return ["data", str(env.data)]


def _incomplete(env: Env) -> list[str]:
    (env.data / ".incomplete_springs3").write_text("")
    return ["data", str(env.data)]


def _objects_differ(env: Env) -> list[str]:
    for kind in ("loc", "vel"):
        _edit(env.data / f"{kind}_test_springs3.npy", lambda a: a[..., :2])
    _edit(env.data / "edges_test_springs3.npy", lambda a: a[:, :2, :2])
    return ["data", str(env.data)]


def _two_sets(env: Env) -> list[str]:
    for path in list(env.data.glob("*_springs3.*")):
        shutil.copy(path, env.data / path.name.replace("springs3", "other3"))
    return ["data", str(env.data)]


def _unknown_suffix(env: Env) -> list[str]:
    return ["data", str(env.data), "--suffix", "springs7"]


def _train_unknown_preset(env: Env) -> list[str]:
    return ["train", "--preset", "sprongs5", "--data", str(env.data)]


def _train_bad_set_syntax(env: Env) -> list[str]:
    return _train(env, "--set", "train.epochs")


def _train_unknown_key(env: Env) -> list[str]:
    return _train(env, "--set", "model.hiden_dim=8")


def _train_bad_value(env: Env) -> list[str]:
    return _train(env, "--set", "train.lr_decay=fast")


def _train_out_of_range(env: Env) -> list[str]:
    return _train(env, "--set", "model.tau=0")


def _train_short_series(env: Env) -> list[str]:
    for split in ("train", "valid", "test"):
        for kind in ("loc", "vel"):
            _edit(env.data / f"{kind}_{split}_springs3.npy", lambda a: a[:, :30])
    return _train(env)


def _train_feature_mismatch(env: Env) -> list[str]:
    return _train(env, "--set", "model.n_features=3")


def _train_edge_types(env: Env) -> list[str]:
    _edit(env.data / "edges_train_springs3.npy", lambda a: a * 3)  # labels 0 and 3
    return _train(env)


def _train_exists(env: Env) -> list[str]:
    return ["train", "--preset", "springs5", "--set", "data.suffix=springs3", "--data",
            str(env.data), "--out", str(env.run), *TINY]  # fmt: skip


def _eval_checkpoint_path_missing(env: Env) -> list[str]:
    return _eval(env, None, "--checkpoint", str(env.tmp / "gone.ckpt"))


def _resume_other_config(env: Env) -> list[str]:
    return ["train", "--preset", "springs5", "--set", "data.suffix=springs3",
            "--data", str(env.data), "--out", str(env.run), *TINY, "--set",
            "model.hidden_dim=32", "--resume"]  # fmt: skip


def _no_data(env: Env) -> list[str]:
    return ["train", "--preset", "springs5", "--out", str(env.tmp / "x"), *TINY]


def _eval_missing_run(env: Env) -> list[str]:
    return _eval(env, env.tmp / "nope")


def _eval_not_a_run(env: Env) -> list[str]:
    (env.tmp / "empty").mkdir()
    return _eval(env, env.tmp / "empty")


def _eval_corrupt_config(env: Env) -> list[str]:
    (env.run / "config.yaml").write_text("model: [unclosed\n")
    return _eval(env)


def _eval_config_wrong_types(env: Env) -> list[str]:
    raw = yaml.safe_load((env.run / "config.yaml").read_text())
    raw["model"]["hidden_dim"] = "wide"
    (env.run / "config.yaml").write_text(yaml.safe_dump(raw))
    return _eval(env)


def _eval_missing_normalizer(env: Env) -> list[str]:
    (env.run / "normalizer.json").unlink()
    return _eval(env)


def _eval_missing_checkpoint(env: Env) -> list[str]:
    (env.run / "checkpoints" / "best.ckpt").unlink()
    return _eval(env)


def _eval_corrupt_checkpoint(env: Env) -> list[str]:
    path = env.run / "checkpoints" / "best.ckpt"
    path.write_bytes(path.read_bytes()[:1000])
    return _eval(env)


class _Exploit:
    def __reduce__(self):  # noqa: ANN204
        return (print, ("this checkpoint ran code",))


def _eval_crafted_pickle(env: Env) -> list[str]:
    path = env.run / "checkpoints" / "best.ckpt"
    import torch

    torch.save({"state_dict": {}, "payload": _Exploit()}, path)
    return _eval(env)


def _eval_raw_pickle(env: Env) -> list[str]:
    path = env.run / "checkpoints" / "best.ckpt"
    path.write_bytes(pickle.dumps({"state_dict": _Exploit()}))
    return _eval(env)


def _eval_other_model_checkpoint(env: Env) -> list[str]:
    shutil.copy(env.mpm_run / "checkpoints" / "best.ckpt",
                env.run / "checkpoints" / "best.ckpt")  # fmt: skip
    return _eval(env)


def _eval_other_size_checkpoint(env: Env) -> list[str]:
    raw = yaml.safe_load((env.run / "config.yaml").read_text())
    raw["model"]["decoder_hidden_dim"] = 24
    (env.run / "config.yaml").write_text(yaml.safe_dump(raw))
    return _eval(env)


def _eval_short_test(env: Env) -> list[str]:
    return _eval(env, None, "--split", "valid")  # 49 frames, the protocol needs 70


def _eval_other_objects(env: Env) -> list[str]:
    other = env.tmp / "four"  # a 4-object set under the run's name springs3
    write_dataset(DatasetConfig(n_objects=4, n_train=4, n_valid=2, n_test=2), other)
    for path in list(other.iterdir()):
        path.rename(other / path.name.replace("springs4", "springs3"))
    return _eval(env, None, "--data", str(other))


def _simulate_one_object(env: Env) -> list[str]:
    return ["simulate", "springs", "--objects", "1", "--train", "2", "--valid", "2",
            "--test", "2", "--out", str(env.tmp / "s"), "--quiet"]  # fmt: skip


def _simulate_bad_length(env: Env) -> list[str]:
    return ["simulate", "springs", "--train", "2", "--valid", "2", "--test", "2",
            "--length", "1050", "--out", str(env.tmp / "s"), "--quiet"]  # fmt: skip


def _simulate_out_is_file(env: Env) -> list[str]:
    (env.tmp / "file").write_text("")
    return ["simulate", "springs", "--train", "2", "--valid", "2", "--test", "2",
            "--out", str(env.tmp / "file"), "--quiet"]  # fmt: skip


# ---- own data, reading side (issue 14 items 2-7, 12): inputs in env.tmp, outputs in
# env.tmp / "out"; tests/test_own_data_reading.py runs these cases again and checks
# that nothing at all was written.


def _long_csv(path: Path, times: list[str], samples: int = 4, header: str = "") -> Path:
    """A long CSV (sample, time, object, x, y) of 3 objects at ``times``."""
    rows = [header or "sample,time,object,x,y"]
    for s in range(samples):
        for k, t in enumerate(times):
            rows += [
                f"{s},{t},{o},{np.sin(k + o + s):.4f},{o * k + s}" for o in range(3)
            ]
    path.write_text("\n".join(rows) + "\n")
    return path


def _import(env: Env, path: Path, *extra: str) -> list[str]:
    return ["import", str(path), "--out", str(env.tmp / "out"), *extra]


def _csv_duplicate_column(env: Env) -> list[str]:
    path = _long_csv(env.tmp / "d.csv", [str(t) for t in range(8)],
                     header="sample,time,object,x,x")  # fmt: skip
    return _import(env, path)


def _csv_unnamed_column(env: Env) -> list[str]:
    path = _long_csv(env.tmp / "u.csv", [str(t) for t in range(8)],
                     header="sample,time,object,,y")  # fmt: skip
    return _import(env, path)


def _csv_not_a_number(env: Env) -> list[str]:
    path = _long_csv(env.tmp / "n.csv", [str(t) for t in range(8)])
    lines = path.read_text().splitlines()
    lines[5] = "0,1,1,n/a?,1"  # sample 0, time 1, object 1
    path.write_text("\n".join(lines) + "\n")
    return _import(env, path)


def _csv_gap(env: Env) -> list[str]:
    times = [str(t) for t in range(12)]
    path = _long_csv(env.tmp / "g.csv", times)
    text = path.read_text().splitlines()  # sample 1 loses time 5 (all its rows)
    kept = [r for r in text if not r.startswith("1,5,")]
    path.write_text("\n".join(kept) + "\n")
    return _import(env, path)


def _csv_gap_window(env: Env) -> list[str]:
    times = [f"{0.5 * t:g}" for t in range(12) if t != 6]  # every sample: 2.5 -> 3.5
    return _import(env, _long_csv(env.tmp / "w.csv", times), "--window", "4")


def _csv_iso_gap(env: Env) -> list[str]:
    times = [f"2024-03-01T10:{m:02d}:00" for m in range(12) if m != 7]
    return _import(env, _long_csv(env.tmp / "iso.csv", times))


def _npz_huge_value(env: Env) -> list[str]:
    x = np.random.default_rng(0).normal(size=(10, 3, 8, 2))
    x[:, 0, 3, 1] = 1e308  # a placeholder in every sample, so in every split
    np.savez(env.tmp / "huge.npz", x=x, feature_names=np.array(["a", "b"]))
    return _import(env, env.tmp / "huge.npz")


def _data_huge_value(env: Env) -> list[str]:
    def huge(a: np.ndarray) -> np.ndarray:  # vel [S, T, 2, n]: axis 2 index 0 is vx
        a = a.copy()
        a[0, 0, 0, 0] = 1e308
        return a

    _edit(env.data / "vel_valid_springs3.npy", huge)
    return ["data", str(env.data)]


def _own_dir(env: Env, edges: np.ndarray, feat: int = 2) -> Path:
    root = env.tmp / "own_dir"  # feat_/edges_ files without metadata
    root.mkdir()
    rng = np.random.default_rng(1)
    for split, s in (("train", 8), ("valid", 4), ("test", 4)):
        np.save(root / f"feat_{split}_w.npy", rng.normal(size=(s, 3, 10, feat)))
        e = edges if edges.ndim == 2 else np.broadcast_to(edges[0], (s, 3, 3))
        np.save(root / f"edges_{split}_w.npy", e)
    return root


def _dir_weighted_edges(env: Env) -> list[str]:
    w = np.array([[[0, 0.3, 0.7], [0.3, 0, 0.9], [0.7, 0.9, 0]]])
    return _import(env, _own_dir(env, w))


def _dir_nan_edges(env: Env) -> list[str]:
    e = np.array([[0, 1, np.nan], [1, 0, 0], [np.nan, 0, 0]])
    return ["data", str(_own_dir(env, e))]


def _npz_weighted_edges(env: Env) -> list[str]:
    x = np.random.default_rng(0).normal(size=(10, 3, 8, 2))
    w = np.array([[0, 2.5, 0.2], [2.5, 0, 1], [0.2, 1, 0]])
    np.savez(env.tmp / "w.npz", x=x, edges=w)
    return _import(env, env.tmp / "w.npz")


def _npz_negative_labels(env: Env) -> list[str]:
    x = np.random.default_rng(0).normal(size=(10, 3, 8, 2))
    np.savez(
        env.tmp / "neg.npz", x=x, edges=np.array([[0, -2, 1], [1, 0, 1], [0, 1, 0]])
    )
    return _import(env, env.tmp / "neg.npz")


def _import_constant_feature(env: Env) -> list[str]:
    x = np.random.default_rng(0).normal(size=(10, 3, 8, 2))
    x[..., 1] = 4.0
    np.savez(env.tmp / "c.npz", x=x, feature_names=np.array(["a", "level"]))
    return _import(env, env.tmp / "c.npz")


def _import_too_short(env: Env) -> list[str]:
    np.save(env.tmp / "short.npy", np.random.default_rng(0).normal(size=(10, 3, 3, 2)))
    return _import(env, env.tmp / "short.npy")


def _import_out_is_file(env: Env) -> list[str]:
    np.save(env.tmp / "ok.npy", np.random.default_rng(0).normal(size=(10, 3, 8, 2)))
    (env.tmp / "out").write_text("not a directory\n")
    return _import(env, env.tmp / "ok.npy")


def _simulate_out_under_file(env: Env) -> list[str]:
    (env.tmp / "out").write_text("not a directory\n")
    return ["simulate", "springs", "--train", "2", "--valid", "2", "--test", "2",
            "--out", str(env.tmp / "out" / "sub"), "--quiet"]  # fmt: skip


def _csv_huge_value(env: Env) -> list[str]:
    path = _long_csv(env.tmp / "huge.csv", [f"{0.5 * t:g}" for t in range(8)])
    rows = path.read_text().splitlines()
    rows = [
        r.replace(r.split(",")[3], "1e308", 1) if r.split(",")[1:3] == ["1.5", "1"]
        else r for r in rows
    ]  # object 1 at time 1.5 in every sample  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    return _import(env, path)


def _train_out_is_file(env: Env) -> list[str]:
    (env.tmp / "afile").write_text("not a directory\n")
    argv = _train(env)
    argv[argv.index("--out") + 1] = str(env.tmp / "afile")
    return argv


def _train_test_too_short(env: Env) -> list[str]:
    return _train(env, "--set", "model.test_horizon=60")  # 49 + 1 + 60 > 99 frames


def _csv_monthly(env: Env) -> list[str]:
    months = [f"2024-{m:02d}-01" for m in range(1, 13)]
    return _import(env, _long_csv(env.tmp / "monthly.csv", months))


def _csv_edges_other_names(env: Env) -> list[str]:
    path = _long_csv(env.tmp / "e.csv", [str(t) for t in range(8)])
    (env.tmp / "truth.csv").write_text(",a,b,c\na,0,1,0\nb,0,0,1\nc,1,0,0\n")
    return _import(env, path, "--edges", str(env.tmp / "truth.csv"))


READING_CASES = [
    Case("reading: CSV column named twice", _csv_duplicate_column, ("'x' twice",)),
    Case("reading: CSV column without a name", _csv_unnamed_column, ("no name",)),
    Case("reading: CSV cell not a number", _csv_not_a_number, ("column 'x'", "n/a?")),
    Case("reading: CSV time stamp missing in one sample", _csv_gap,
         ("sample '1'", "'4' is followed by '6'", "--on-gap")),
    Case("reading: CSV gap bridged by --window", _csv_gap_window,
         ("'2.5' is followed by '3.5'", "--on-gap")),
    Case("reading: CSV ISO stamps with a gap", _csv_iso_gap,
         ("'2024-03-01T10:06:00' is followed by '2024-03-01T10:08:00'", "60 s")),
    Case("reading: 1e308 in an .npz", _npz_huge_value,
         ("feature 'b'", "not finite after normalisation")),
    Case("reading: 1e308 in a data directory", _data_huge_value,
         ("'vx' of the valid split", "not finite")),
    Case("reading: weighted graph in a directory", _dir_weighted_edges,
         ("edges_train_w.npy", "0.3", "--edge-threshold")),
    Case("reading: NaN edges in a directory", _dir_nan_edges,
         ("edges_train_w.npy", "with -1")),
    Case("reading: weighted graph in an .npz", _npz_weighted_edges,
         ("2.5", "--edge-threshold")),
    Case("reading: edge label below -1", _npz_negative_labels,
         ("-2", "--edge-threshold")),
    Case("reading: constant feature at import", _import_constant_feature,
         ("'level'", "constant")),
    Case("reading: too few frames at import", _import_too_short, ("too short",)),
    Case("reading: import --out is a file", _import_out_is_file, ("--out", "is a file")),
    Case("reading: simulate --out under a file", _simulate_out_under_file,
         ("--out", "is a file, so")),
    Case("reading: 1e308 in a CSV, named as written", _csv_huge_value,
         ("feature 'x'", "at sample '", "object '1', time '1.5'")),
    Case("reading: calendar-monthly ISO stamps", _csv_monthly,
         ("calendar steps", "every month", "month number")),
    Case("reading: --edges CSV naming other objects", _csv_edges_other_names,
         ("truth.csv", "missing ['0', '1', '2']", "extra ['a', 'b', 'c']")),
    Case("reading: train --out is a file", _train_out_is_file,
         ("--out", "afile is a file", "give a directory")),
    Case("reading: test split too short for the test protocol", _train_test_too_short,
         ("test trajectories have 99 frames", "49 + 1 + 60", "model.test_horizon=20")),
]  # fmt: skip


# ---- own data, results side (issue 14 items 1, 7, 8-13): infer, forecast, evaluate and
# report with the trained run `env.run` (springs3, W = 49 frames, features x, y, vx, vy);
# outputs go to env.tmp / "out"; tests/test_own_data_evaluate.py runs these cases again
# and checks that nothing was written.


def _test_csv(env: Env, columns: tuple[str, ...] = ("x", "y", "vx", "vy"),
              times: Callable[[int], str] = str) -> Path:  # fmt: skip
    """The first 2 test samples of env.data as a long CSV with these feature columns
    (the values of x, y, vx, vy in that order, whatever the names)."""
    from nri.data.importers import read_series

    series = read_series(env.data, split="test")
    rows = [",".join(("sample", "time", "object", *columns))]
    for s in range(2):
        for t in range(series.n_frames):
            for o in range(series.n_objects):
                vals = ",".join(f"{v:.9g}" for v in series.x[s, o, t])
                rows.append(f"{s},{times(t)},{o},{vals}")
    path = env.tmp / "test.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _out(env: Env) -> str:
    return str(env.tmp / "out")


def _infer_other_features(env: Env) -> list[str]:
    path = _test_csv(env, ("x", "y", "vx", "speed"))
    return ["infer", str(env.run), "--data", str(path), "--out", _out(env)]


def _infer_other_objects(env: Env) -> list[str]:
    info = json.loads((env.run / "data.json").read_text())
    info["object_names"] = ["a", "b", "c"]
    (env.run / "data.json").write_text(json.dumps(info))
    x = np.load(env.data / "loc_test_springs3.npy")  # [S, T, 2, N]
    v = np.load(env.data / "vel_test_springs3.npy")
    feats = np.concatenate([x, v], axis=2).transpose(0, 3, 1, 2)  # [S, N, T, 4]
    np.savez(env.tmp / "o.npz", x=feats, object_names=np.array(["a", "b", "z"]),
             feature_names=np.array(["x", "y", "vx", "vy"]))  # fmt: skip
    return ["infer", str(env.run), "--data", str(env.tmp / "o.npz"), "--out", _out(env)]


def _infer_edges_shape(env: Env) -> list[str]:
    np.save(env.tmp / "truth.npy", np.ones((2, 2)))
    return ["infer", str(env.run), "--data", str(env.data), "--edges",
            str(env.tmp / "truth.npy"), "--out", _out(env)]  # fmt: skip


def _infer_edges_weights(env: Env) -> list[str]:
    (env.tmp / "truth.csv").write_text("0,0.5,1\n1,0,1\n0,1,0\n")
    return ["infer", str(env.run), "--data", str(_test_csv(env)), "--edges",
            str(env.tmp / "truth.csv"), "--out", _out(env)]  # fmt: skip


def _forecast_at_too_early(env: Env) -> list[str]:
    return ["forecast", str(env.run), "--data", str(env.data), "--steps", "3",
            "--at", "10", "--out", _out(env)]  # fmt: skip


def _forecast_at_unknown_time(env: Env) -> list[str]:
    path = _test_csv(env, times=lambda t: f"2024-05-01T12:{t // 60:02d}:{t % 60:02d}")
    return ["forecast", str(env.run), "--data", str(path), "--steps", "3",
            "--at", "2024-05-01T12:00:70.5", "--out", _out(env)]  # fmt: skip


def _eval_data_moved(env: Env) -> list[str]:
    raw = yaml.safe_load((env.run / "config.yaml").read_text())
    raw["data"]["path"] = str(env.tmp / "moved_away")
    (env.run / "config.yaml").write_text(yaml.safe_dump(raw))
    return ["evaluate", str(env.run), "--batch-size", "4"]


def _infer_out_is_file(env: Env) -> list[str]:
    (env.tmp / "out").write_text("a file\n")
    return ["infer", str(env.run), "--data", str(env.data), "--out", _out(env)]


def _forecast_out_under_file(env: Env) -> list[str]:
    (env.tmp / "out").write_text("a file\n")
    return ["forecast", str(env.run), "--data", str(env.data), "--steps", "2",
            "--out", str(env.tmp / "out" / "fc")]  # fmt: skip


def _report_out_is_dir(env: Env) -> list[str]:
    (env.tmp / "out").mkdir()
    return ["report", str(env.run), "--out", _out(env)]


def _eval_out_is_dir(env: Env) -> list[str]:
    (env.tmp / "out").mkdir()
    return ["evaluate", str(env.run), "--batch-size", "4", "--out", _out(env)]


def _huge(env: Env) -> Path:
    """The test CSV with 1e308 for x of object 1 at frame 60 of sample 0."""
    path = _test_csv(env)
    rows = path.read_text().splitlines()
    i = 1 + 60 * 3 + 1  # header, then frames of 3 objects
    cells = rows[i].split(",")
    cells[3] = "1e308"
    rows[i] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")
    return path


def _infer_overflow(env: Env) -> list[str]:
    return ["infer", str(env.run), "--data", str(_huge(env)), "--out", _out(env)]


def _forecast_overflow(env: Env) -> list[str]:
    return ["forecast", str(env.run), "--data", str(_huge(env)), "--steps", "2",
            "--out", _out(env)]  # fmt: skip


def _infer_edges_empty_cell(env: Env) -> list[str]:
    (env.tmp / "truth.csv").write_text(",0,1,2\n0,0,,1\n1,0,0,1\n2,0,1,0\n")
    return ["infer", str(env.run), "--data", str(_test_csv(env)), "--edges",
            str(env.tmp / "truth.csv"), "--out", _out(env)]  # fmt: skip


def _iso(t: int) -> str:
    return f"2024-05-01T12:{t // 60:02d}:{t % 60:02d}"


def _forecast_at(env: Env, at: str) -> list[str]:
    path = _test_csv(env, times=_iso)
    return ["forecast", str(env.run), "--data", str(path), "--steps", "3",
            "--at", at, "--out", _out(env)]  # fmt: skip


def _forecast_at_between_frames(env: Env) -> list[str]:
    return _forecast_at(env, "2024-05-01T12:00:10.5")


def _forecast_at_time_too_early(env: Env) -> list[str]:
    return _forecast_at(env, "2024-05-01T12:00:10")


def _forecast_at_index_on_iso(env: Env) -> list[str]:
    return _forecast_at(env, "60")


RESULTS_CASES = [
    Case("results: CSV features not the run's", _infer_other_features,
         ("missing 'vy'", "extra 'speed'")),
    Case("results: object names not the run's", _infer_other_objects,
         ("missing 'c'", "extra 'z'", "--any-objects")),
    Case("results: --edges of the wrong shape", _infer_edges_shape, ("truth.npy", "[3, 3]")),
    Case("results: --edges with weights", _infer_edges_weights, ("0.5", "binarise")),
    Case("results: forecast --at before the window", _forecast_at_too_early,
         ("frame 10", "--at 49..99")),
    Case("results: forecast --at not a time of the data", _forecast_at_unknown_time,
         ("'2024-05-01T12:00:70.5' is not an ISO time stamp",)),
    Case("results: 1e308 overflows in infer", _infer_overflow,
         ("test.csv: feature 'x' is not finite after normalisation", "1e+308",
          "fix or remove such values in")),
    Case("results: 1e308 overflows in forecast", _forecast_overflow,
         ("test.csv: feature 'x' is not finite after normalisation",
          "fix or remove such values in")),
    Case("results: --edges with an empty cell", _infer_edges_empty_cell,
         ("holds an empty cell at row 1 (0), column 2 (1)",)),
    Case("results: forecast --at between two frames", _forecast_at_between_frames,
         ("not the time of a frame", "2024-05-01T12:00:10 and 2024-05-01T12:00:11")),
    Case("results: forecast --at time before the window", _forecast_at_time_too_early,
         ("give a time from 2024-05-01T12:00:49 to 2024-05-01T12:01:39",)),
    Case("results: forecast --at a frame index on ISO data", _forecast_at_index_on_iso,
         ("'60' is not an ISO time stamp", "take --at as a time")),
    Case("results: the run's data moved", _eval_data_moved, ("moved_away", "--data")),
    Case("results: infer --out is a file", _infer_out_is_file, ("--out", "is a file")),
    Case("results: forecast --out under a file", _forecast_out_under_file,
         ("--out", "is a file, so")),
    Case("results: report --out is a directory", _report_out_is_dir,
         ("--out", "is a directory")),
    Case("results: evaluate --out is a directory", _eval_out_is_dir,
         ("--out", "is a directory")),
]  # fmt: skip


CASES = [
    # data sets (nri data; the same loader serves train, evaluate and Python)
    Case("NaN in a split", _nan, ("loc_train_springs3.npy", "NaN")),
    Case("inf in a split", _inf, ("vel_valid_springs3.npy", "inf")),
    Case("text array", _text_dtype, ("loc_test_springs3.npy", "dtype")),
    Case("wrong rank", _rank, ("loc_train_springs3.npy",)),
    Case("loc and vel disagree", _loc_vel, ("vel_train_springs3.npy",)),
    Case("edge matrix of the wrong size", _edges_shape, ("edges_train_springs3.npy",)),
    Case("fewer edge labels than samples", _edges_count, ("edges_valid_springs3.npy",)),
    Case(
        "pickled object array", _pickled, ("loc_valid_springs3.npy", "Python objects")
    ),
    Case("truncated .npy", _truncated, ("vel_test_springs3.npy",)),
    Case("not a .npy file", _not_npy, ("edges_test_springs3.npy",)),
    Case("empty split", _empty, ("valid", "empty")),
    Case("missing split file", _missing_split, ("vel_valid_springs3.npy", "missing")),
    Case("interrupted set", _incomplete, ("springs3", "incomplete")),
    Case("objects differ across splits", _objects_differ, ("objects",)),
    Case("several sets, no suffix", _two_sets, ("--suffix",)),
    Case("unknown suffix", _unknown_suffix, ("springs7",)),
    # nri train: configuration
    Case("unknown preset", _train_unknown_preset, ("sprongs5",)),
    Case("--set without a value", _train_bad_set_syntax, ("section.key=value",)),
    Case("unknown setting", _train_unknown_key, ("hiden_dim",)),
    Case("setting of the wrong type", _train_bad_value, ("lr_decay",)),
    Case("setting out of range", _train_out_of_range, ("tau",)),
    Case("no data directory", _no_data, ("--data",)),
    # nri train: data against the model
    Case("too few time steps for the encoder", _train_short_series, ("49",)),
    Case("features differ from the model", _train_feature_mismatch, ("features",)),
    Case(
        "more edge types in the labels", _train_edge_types, ("n_edge_types=2", "labels")
    ),
    Case("run directory already used", _train_exists, ("--resume",)),
    Case("resume with another configuration", _resume_other_config, ("hidden_dim",)),
    # nri evaluate: runs and checkpoints
    Case("missing run directory", _eval_missing_run, ("does not exist",)),
    Case("not a run directory", _eval_not_a_run, ("config.yaml",)),
    Case("corrupt config.yaml", _eval_corrupt_config, ("config.yaml",)),
    Case("config of the wrong types", _eval_config_wrong_types, ("hidden_dim",)),
    Case("missing normaliser", _eval_missing_normalizer, ("normalizer.json",)),
    Case("missing checkpoint", _eval_missing_checkpoint, ("best.ckpt",)),
    Case("--checkpoint path missing", _eval_checkpoint_path_missing, ("gone.ckpt",)),
    Case("truncated checkpoint", _eval_corrupt_checkpoint, ("best.ckpt",)),
    Case(
        "checkpoint that runs code (torch.save)", _eval_crafted_pickle, ("best.ckpt",)
    ),
    Case("checkpoint that runs code (raw pickle)", _eval_raw_pickle, ("best.ckpt",)),
    Case("checkpoint of another model", _eval_other_model_checkpoint, ("nri_mpm",)),
    Case("checkpoint of another size", _eval_other_size_checkpoint, ("does not fit",)),
    Case("test series too short for the protocol", _eval_short_test, ("70",)),
    Case("other number of objects", _eval_other_objects, ("4 objects", "trained on 3")),
    # nri simulate
    Case("one object", _simulate_one_object, ("objects",)),
    Case("length not a multiple of the sampling", _simulate_bad_length, ("multiple",)),
    Case("output is a file", _simulate_out_is_file, ("file",)),
    # own data, reading side (issue 14): see READING_CASES above
    *READING_CASES,
    # own data, results side (issue 14): see RESULTS_CASES above
    *RESULTS_CASES,
]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Env:
    root = tmp_path_factory.mktemp("bad_input_base")
    data = root / "data"
    write_dataset(
        DatasetConfig(n_objects=3, n_train=16, n_valid=8, n_test=8, seed=3), data
    )
    run, mpm_run = root / "run", root / "mpm_run"
    common = ["--set", "data.suffix=springs3", "--data", str(data), *TINY]
    assert main(["train", "--preset", "springs5", "--out", str(run), *common]) == 0
    assert main(["train", "--preset", "mpm_springs5", "--set", "model.hidden_dim=16",
                 "--out", str(mpm_run), *common]) == 0  # fmt: skip
    return Env(root, data, run, mpm_run)


def test_the_catalogue_is_large_and_unique():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_clear_line(case, base, tmp_path, capsys):
    env = Env(tmp_path, tmp_path / "data", tmp_path / "run", tmp_path / "mpm_run")
    shutil.copytree(base.data, env.data)
    shutil.copytree(base.run, env.run)
    shutil.copytree(base.mpm_run, env.mpm_run)
    argv = case.argv(env)
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own errors exit with 2 as well
        rc = exc.code
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert rc == 2, (rc, err)
    assert "this checkpoint ran code" not in captured.out
    assert "Traceback" not in err
    lines = err.splitlines()
    if lines[0].startswith("usage:"):  # argparse: the usage, then one error line
        lines = lines[-1:]
        assert "error:" in lines[0], err
    assert len(lines) == 1, err
    assert lines[0].startswith("nri"), err
    for fragment in case.fragments:
        assert fragment in lines[0], (fragment, lines[0])
