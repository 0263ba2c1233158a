"""``nri import --format basketball`` (nri.data.basketball): Zhan et al.'s layout
(ball, 5 offence, 5 defence as 22 columns), velocities by forward differences, the
object selections, the validation split from train, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests._own_data import run_cli

from nri.data.basketball import FPS, OBJECTS, read
from nri.data.files import DataError

S_TRAIN, S_TEST, T = 10, 3, 8


def _tracks(n_seq: int, seed: int) -> np.ndarray:
    """``[S, T, 22]`` in feet: column 2k, 2k+1 = object k's (x, y); a smooth walk."""
    rng = np.random.default_rng(seed)
    start = rng.uniform((2.0, 2.0), (45.0, 48.0), size=(n_seq, 1, 11, 2))
    walk = rng.normal(scale=0.8, size=(n_seq, T, 11, 2)).cumsum(axis=1)
    return (start + walk).reshape(n_seq, T, 22)


@pytest.fixture
def zhan_dir(tmp_path: Path) -> Path:
    """Zhan et al.'s files: bball_train.npz / bball_test.npz, key 'data'."""
    root = tmp_path / "bball"
    root.mkdir()
    np.savez(root / "bball_train.npz", data=_tracks(S_TRAIN, 0))
    np.savez(root / "bball_test.npz", data=_tracks(S_TEST, 1))
    return root


def test_layout_and_velocities_by_hand(tmp_path: Path) -> None:
    train = _tracks(4, 0)
    # offence player 1 (object 1: columns 2, 3) moves x = 0, 1, 3, 6, ... feet
    train[0, :, 2] = np.cumsum(np.arange(T))
    train[0, :, 3] = 10.0
    np.savez(tmp_path / "one.npz", train=train, test=_tracks(2, 1))
    splits = read(tmp_path / "one.npz", valid_frac="0.25", seed="0")
    tr, va, te = splits["train"], splits["valid"], splits["test"]
    assert tr.object_names == OBJECTS and OBJECTS[1] == "offence1"
    assert tr.feature_names == ("x", "y", "vx", "vy")
    assert te.x.shape == (2, 11, T - 1, 4)  # the last frame has no successor
    assert (tr.n_samples, va.n_samples) == (3, 1)
    both = {*tr.sample_names, *va.sample_names}
    assert both == {f"train{i}" for i in range(4)}  # valid drawn from train
    whole = {
        n: s for sp in (tr, va) for n, s in zip(sp.sample_names, sp.x, strict=True)
    }
    x = whole["train0"][1]  # [T-1, 4] of offence1
    np.testing.assert_allclose(x[:, 0], np.cumsum(np.arange(T))[:-1])
    np.testing.assert_allclose(x[:, 2], np.arange(1, T) * FPS)  # (p[t+1] - p[t]) * fps
    np.testing.assert_allclose(x[:, 3], 0.0)
    ball = whole["train1"][0]  # object 0 = columns 0, 1
    np.testing.assert_allclose(ball[:, :2], train[1, :-1, 0:2])


def test_objects_and_options(zhan_dir: Path) -> None:
    raw = np.load(zhan_dir / "bball_test.npz")["data"]
    off = read(zhan_dir, offence_only="true")["test"]
    assert off.object_names == tuple(f"offence{i}" for i in range(1, 6))
    for k in range(5):  # offence player k = columns 2 + 2k, 3 + 2k
        np.testing.assert_allclose(
            off.x[:, k, :, :2], raw[:, :-1, 2 + 2 * k : 4 + 2 * k]
        )
    assert read(zhan_dir, ball="false")["test"].object_names == OBJECTS[1:]
    six = read(zhan_dir, offence_only="true", ball="true")["test"]
    assert six.object_names == OBJECTS[:6]
    pos = read(zhan_dir, velocities="false", fps="25")["test"]
    assert pos.x.shape == (S_TEST, 11, T, 2)
    np.testing.assert_allclose(pos.x[:, 3], raw[:, :, 6:8])
    slow = read(zhan_dir, fps="1")["test"].x[..., 2]
    np.testing.assert_allclose(read(zhan_dir)["test"].x[..., 2], slow * FPS)
    cut = read(zhan_dir, window=3, stride=2)["test"]  # 7 frames -> starts 0, 2, 4
    assert cut.x.shape == (S_TEST * 3, 11, 3, 4)
    assert cut.sample_names[:3] == ("test0@0", "test0@2", "test0@4")


def test_four_axis_and_offence_only_arrays(tmp_path: Path) -> None:
    four = _tracks(5, 0).reshape(5, T, 11, 2)
    np.savez(tmp_path / "a.npz", tr=four, te=four[:2])
    got = read(tmp_path / "a.npz", train_key="tr", test_key="te")["test"]
    np.testing.assert_allclose(got.x[:, 4, :, :2], four[:2, :-1, 4])
    five = four[:, :, 1:6]  # dNRI's five agents
    np.savez(tmp_path / "b.npz", train=five, test=five[:2])
    got = read(tmp_path / "b.npz")["test"]
    assert got.object_names == tuple(f"offence{i}" for i in range(1, 6))
    with pytest.raises(DataError, match="no ball"):
        read(tmp_path / "b.npz", ball="true")


def test_import_through_the_cli(zhan_dir: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "data"
    argv = ["import", str(zhan_dir), "--out", str(out), "--name", "bb",
            "--format", "basketball", "--format-option", "offence_only=true",
            "--norm-groups", "0,0,1,1"]  # fmt: skip
    rc, stdout, err = run_cli(argv, capsys)
    assert rc == 0, err
    assert "nri train" in stdout
    assert np.load(out / "feat_test_bb.npy").shape == (S_TEST, 5, T - 1, 4)
    assert not list(out.glob("edges_*"))  # the data have no graph
    meta = json.loads((out / "meta_bb.json").read_text())
    assert meta["import"]["format"] == "basketball"
    assert meta["import"]["format_options"] == {"offence_only": "true"}
    assert meta["feature_groups"] == [0, 0, 1, 1]
    n = meta["splits"]
    assert n["train"]["n_samples"] + n["valid"]["n_samples"] == S_TRAIN


def _refused(argv: list[str], out: Path, capsys) -> str:  # noqa: ANN001
    rc, _, err = run_cli(argv, capsys)
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("nri: error: "), err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written
    return err


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("make", "options", "fragments"),
    [
        (lambda p: _write(p / "f.npz", train=_tracks(3, 0)), [], ["no array 'test'"]),
        (lambda p: _write(p / "f.npz", data=_tracks(3, 0)), [], ["bball_train.npz"]),
        (
            lambda p: _write(
                p / "f.npz", train=_tracks(3, 0)[..., :20], test=_tracks(2, 0)
            ),
            [],
            ["shape (3, 8, 20)", "22"],
        ),
        (
            lambda p: _write(p / "f.npz", train=_tracks(3, 0)[0], test=_tracks(2, 0)),
            [],
            ["shape (8, 22)", "[sequences, frames, 22]"],
        ),
        (
            lambda p: _write(
                p / "f.npz",
                train=_tracks(3, 0),
                test=_tracks(2, 0).reshape(2, T, 11, 2)[:, :, 1:6],
            ),
            [],
            ["different objects"],
        ),
        (
            lambda p: _write(p / "f.npz", train=np.array(["a"]), test=np.array(["b"])),
            [],
            ["dtype"],
        ),  # fmt: skip
        (lambda p: _text(p / "f.npz", "sample,time\n1,2\n"), [], ["not an .npz"]),
        (lambda p: _text(p / "f.npz", "PK\x03\x04broken"), [], ["corrupt"]),
        (lambda p: _dir(p, ["bball_train.npz"]), [], ["no bball_test.npz"]),
        (
            lambda p: _write(p / "f.npz", train=_tracks(3, 0), test=_tracks(2, 0)),
            ["speed=fast"],
            ["speed", "offence_only"],
        ),
        (
            lambda p: _write(p / "f.npz", train=_tracks(3, 0), test=_tracks(2, 0)),
            ["fps=-2"],
            ["fps=-2", "expected a number > 0"],
        ),
        (
            lambda p: _write(p / "f.npz", train=_tracks(1, 0), test=_tracks(2, 0)),
            [],
            ["1 training sequence"],
        ),
    ],
)
def test_foreign_or_corrupt_files_are_one_line(  # noqa: ANN001
    tmp_path: Path, capsys, make, options, fragments
) -> None:
    src = make(tmp_path)
    out = tmp_path / "out"
    argv = ["import", str(src), "--out", str(out), "--format", "basketball"]
    argv += [a for o in options for a in ("--format-option", o)]
    err = _refused(argv, out, capsys)
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _dir(root: Path, names: list[str]) -> Path:
    d = root / "bb"
    d.mkdir()
    for name in names:
        np.savez(d / name, data=_tracks(3, 0))
    return d


def test_draw_court(zhan_dir: Path) -> None:
    from matplotlib.figure import Figure

    from nri.plots_court import draw_court

    s = read(zhan_dir)["test"]
    edges = np.zeros((11, 11))
    edges[2, 1] = 0.9  # offence1 -> offence2
    edges[3, 3] = 1.0  # the diagonal is never drawn
    edges[4, 0] = 0.4  # below 0.5: not drawn
    ax = Figure().add_subplot()
    draw_court(
        ax, s.x[0], s.object_names, edges, {"feature_names": list(s.feature_names)}
    )
    arrows = [t for t in ax.texts if t.arrow_patch is not None]
    assert len(arrows) == 1
    assert ax.get_aspect() == 1.0
    lo, hi = ax.get_xlim()
    assert lo <= 0 and 47 <= hi < 60  # the half court, to scale
    far = s.x[0].copy()
    far[0, :, 0] = 80.0  # the ball past half court: the full court is drawn
    ax = Figure().add_subplot()
    draw_court(ax, far, s.object_names, None, {"feature_names": list(s.feature_names)})
    assert ax.get_xlim()[1] >= 94
