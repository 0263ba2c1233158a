"""``nri import --format netsim`` (nri.data.netsim): Smith et al.'s sim*.mat
(``net[s, i, j]``: i -> j, -1 on the diagonal) and ACD's per-subject .npz (``Gref``
[receiver, sender]) give the same labels in nri.graph order; windows, subject splits,
one graph for the set, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from tests._own_data import run_cli

from nri.data.files import DataError
from nri.data.netsim import read

S, N, T = 5, 3, 20


def _net(n_subjects: int = S) -> np.ndarray:
    """node1 -> node2 excitatory (0.4), node2 -> node3 inhibitory (-0.3), -1 on the
    diagonal; ``net[s, i, j]`` is the connection from i to j (Smith et al.)."""
    net = np.zeros((n_subjects, N, N))
    net[:, 0, 1] = 0.4
    net[:, 1, 2] = -0.3
    net[:, np.arange(N), np.arange(N)] = -1.0
    return net


def _ts(n_subjects: int = S) -> np.ndarray:
    """``[subjects * T, N]``: value = 1000 * subject + 10 * t + node, to find cuts."""
    s, t, n = np.meshgrid(
        np.arange(n_subjects), np.arange(T), np.arange(N), indexing="ij"
    )
    return (1000.0 * s + 10.0 * t + n).reshape(n_subjects * T, N)


def _mat(path: Path, **extra: object) -> Path:
    arrays = {"ts": _ts(), "net": _net(), "Nsubjects": S, "Ntimepoints": T, "Nnodes": N}
    scipy.io.savemat(path, {**arrays, **extra})
    return path


# nri.graph order for N = 3: (recv, send) = (0,1) (0,2) (1,0) (1,2) (2,0) (2,1)
UNSIGNED = [0, 0, 1, 0, 0, 1]  # 1 <- 0 and 2 <- 1
SIGNED = [0, 0, 1, 0, 0, 2]  # the inhibitory 2 <- 1 is type 2


def test_smith_mat_direction_and_signs(tmp_path: Path) -> None:
    path = _mat(tmp_path / "sim.mat")
    splits = read(path, window=5)
    for s in splits.values():
        assert (s.edges == UNSIGNED).all()  # one graph for the set
        assert s.object_names == ("node1", "node2", "node3")
        assert s.feature_names == ("bold",)
    signed = read(path, window=5, signed="true")["train"]
    assert (signed.edges == SIGNED).all()


def test_windows_cut_each_subject(tmp_path: Path) -> None:
    path = _mat(tmp_path / "sim.mat")
    splits = read(path, window=5, split="subject", valid_frac="0.2", test_frac="0.2")
    subjects = {
        k: {name.split("@")[0] for name in s.sample_names} for k, s in splits.items()
    }
    assert sum(len(v) for v in subjects.values()) == S  # whole subjects per split
    assert not (
        subjects["train"] & subjects["valid"] or subjects["train"] & subjects["test"]
    )
    train = splits["train"]
    assert train.x.shape == (len(subjects["train"]) * 4, N, 5, 1)  # 20 frames -> 4
    for name, x in zip(train.sample_names, train.x, strict=True):
        subj, start = name.removeprefix("subject").split("@")
        s, a = int(subj) - 1, int(start)
        expect = 1000 * s + 10 * (a + np.arange(5))[None, :] + np.arange(N)[:, None]
        np.testing.assert_allclose(x[..., 0], expect)  # [N, window]
    over = read(path, window=10, stride=5)["test"]  # starts 0, 5, 10
    assert [n.split("@")[1] for n in over.sample_names[:3]] == ["0", "5", "10"]
    default = read(path)["train"]  # the default window is 50 > T = 20
    assert default.n_frames == 20


def test_split_by_window(tmp_path: Path) -> None:
    splits = read(_mat(tmp_path / "sim.mat"), window=5, split="window", seed="3")
    names = [n for s in splits.values() for n in s.sample_names]
    assert len(names) == len(set(names)) == S * 4
    subjects = [{n.split("@")[0] for n in s.sample_names} for s in splits.values()]
    assert subjects[0] & (subjects[1] | subjects[2])  # windows of a subject leak


def test_acd_layout_gives_the_same_graph(tmp_path: Path) -> None:
    d = tmp_path / "netsim"
    d.mkdir()
    ts = _ts().reshape(S, T, N)
    gref = (_net(1)[0] != 0).T.astype(np.int16)  # [receiver, sender], 1 on diagonal
    assert gref[1, 0] == 1 and gref[0, 1] == 0
    for s in range(S):
        np.savez(d / f"sim3_subject_{s + 1}.npz", X_np=ts[s].T, Gref=gref, n=N, T=T)
    splits = read(d, window=5, seed="1")
    assert all((s.edges == UNSIGNED).all() for s in splits.values())
    ref = read(_mat(tmp_path / "sim.mat"), window=5, seed="1")
    for k in splits:
        np.testing.assert_array_equal(splits[k].x, ref[k].x)
        assert splits[k].sample_names == ref[k].sample_names
    one = read(d / "sim3_subject_2.npz", window=5, split="window")
    assert sum(s.n_samples for s in one.values()) == 4


def test_graphs_that_differ(tmp_path: Path) -> None:
    net = _net()
    net[3, 2, 0] = 0.5  # subject 4 has node3 -> node1 as well
    path = tmp_path / "sim.mat"
    scipy.io.savemat(path, {"ts": _ts(), "net": net})
    with pytest.raises(DataError, match=r"subject 4, edge node3 -> node1"):
        read(path, window=5)
    got = read(path, window=5, graph="per_subject", split="window", seed="0")
    edges = {
        n.split("@")[0]: tuple(e) for s in got.values()
        for n, e in zip(s.sample_names, s.edges, strict=True)
    }  # fmt: skip
    assert edges["subject1"] == tuple(UNSIGNED)
    assert edges["subject4"] == (0, 1, 1, 0, 0, 1)  # 0 <- 2 added


def test_import_through_the_cli(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "data"
    argv = ["import", str(_mat(tmp_path / "sim3.mat")), "--out", str(out),
            "--format", "netsim", "--window", "10", "--format-option", "signed=true"]  # fmt: skip
    rc, stdout, err = run_cli(argv, capsys)
    assert rc == 0, err
    assert "model.n_features=1" in stdout and "model.n_edge_types=3" in stdout
    adj = np.load(out / "edges_train_sim3.npy")  # [S, N, N] [receiver, sender]
    assert adj[0, 1, 0] == 1 and adj[0, 2, 1] == 2 and adj[0].sum() == 3
    meta = json.loads((out / "meta_sim3.json").read_text())
    assert meta["import"]["edges_meaning"] == "truth"
    assert meta["n_edge_types"] == 3


def _savez(path: Path, **arrays: object) -> Path:
    np.savez(path, **arrays)
    return path


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _nots(root: Path) -> Path:
    """A .mat with the network but without the BOLD series."""
    path = root / "s.mat"
    scipy.io.savemat(path, {"net": _net(), "Nnodes": N})
    return path


def _empty_dir(root: Path) -> Path:
    d = root / "empty"
    d.mkdir()
    return d


@pytest.mark.parametrize(
    ("make", "options", "fragments"),
    [
        (_nots, [], ["'ts'", "net"]),
        (
            lambda p: _mat(p / "s.mat", ts=_ts()[None]),
            [],
            ["'ts' has shape", "2 axes"],
        ),
        (lambda p: _mat(p / "s.mat", net=_net()[:, :2]), [], ["'net' has shape"]),
        (lambda p: _mat(p / "s.mat", ts=_ts()[:-1]), [], ["not a multiple"]),
        (lambda p: _mat(p / "s.mat", Ntimepoints=30), [], ["Ntimepoints = 30"]),
        (lambda p: _text(p / "s.mat", "not matlab"), [], ["cannot read", ".mat"]),
        (lambda p: _text(p / "s.npz", "a,b\n1,2\n"), [], ["not an .npz"]),
        (lambda p: _savez(p / "s.npz", x=np.ones((2, 3))), [], ["holds ['x']", "X_np"]),
        (
            lambda p: _savez(p / "s.npz", X_np=np.ones((3, 20)), Gref=np.eye(2)),
            ["split=window"],
            ["'Gref' has shape (2, 2)"],
        ),
        (
            lambda p: _savez(p / "s.npz", X_np=np.ones((3, 20)), Gref=np.eye(3)),
            [],
            ["1 subjects cannot fill", "split=window"],
        ),
        (
            lambda p: _mat(p / "s.mat"),
            ["signed=maybe"],
            ["signed=maybe", "true or false"],
        ),
        (lambda p: _mat(p / "s.mat"), ["split=random"], ["subject, window"]),
        (lambda p: _empty_dir(p), [], ["no .npz files"]),
    ],
)
def test_foreign_or_corrupt_files_are_one_line(  # noqa: ANN001
    tmp_path: Path, capsys, make, options, fragments
) -> None:
    src = make(tmp_path)
    out = tmp_path / "out"
    argv = ["import", str(src), "--out", str(out), "--format", "netsim"]
    argv += [a for o in options for a in ("--format-option", o)]
    rc, _, err = run_cli(argv, capsys)
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("nri: error: "), err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written
    for fragment in fragments:
        assert fragment in err, (fragment, err)
