"""``nri import --format amc`` (nri.data.mocap, nri.data.mocap_asf): forward kinematics
of tiny Acclaim files computed by hand (a bone turned 90 degrees, root translation
and rotation, a bone's own axis, the order of its rotations, units), the CMU
hierarchy as the reference graph, dNRI's trial split with windows of 50/100, and
one-line refusals of corrupt or foreign files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests._mocap_files import CMU_BONES, CMU_HIERARCHY, amc_text, asf_text, write_cmu
from tests._own_data import run_cli

from nri import graph
from nri.data.dataset import load_dataset
from nri.data.files import DataError
from nri.data.mocap import read_mocap
from nri.data.mocap_asf import INCH, euler, forward_kinematics, read_amc, read_asf

# root -> upper (x, 2) -> lower (x, 1); root -> side (z, 1, no dof)
TINY = [
    ("upper", (1, 0, 0), 2.0, (0, 0, 0), "rz"),
    ("lower", (1, 0, 0), 1.0, (0, 0, 0), "rz"),
    ("side", (0, 0, 1), 1.0, (0, 0, 0), ""),
]
TINY_H = ["root upper side", "upper lower"]


def _fk(tmp: Path, bones, hierarchy, frames, units="file", **kw) -> np.ndarray:  # noqa: ANN001
    (tmp / "s.asf").write_text(asf_text(bones, hierarchy, **kw))
    (tmp / "s_01.amc").write_text(amc_text(frames))
    sk = read_asf(tmp / "s.asf")
    return forward_kinematics(sk, read_amc(tmp / "s_01.amc", sk), units)  # [T, N, 3]


def _root(t=(0, 0, 0), r=(0, 0, 0)) -> list[float]:  # noqa: ANN001
    return [*t, *r]


def test_bone_turned_90_degrees_and_root_motion(tmp_path: Path) -> None:
    frames = [
        {"root": _root(), "upper": [0], "lower": [0]},
        {"root": _root(), "upper": [90], "lower": [0]},  # x -> y about z
        {"root": _root(), "upper": [90], "lower": [90]},  # lower turns 180 in all
        {"root": _root((1, 2, 3), (0, 90, 0)), "upper": [0], "lower": [0]},  # y: x->-z
    ]
    p = _fk(tmp_path, TINY, TINY_H, frames)
    names = ("root", "upper", "lower", "side")
    want = {
        0: [(0, 0, 0), (2, 0, 0), (3, 0, 0), (0, 0, 1)],
        1: [(0, 0, 0), (0, 2, 0), (0, 3, 0), (0, 0, 1)],
        2: [(0, 0, 0), (0, 2, 0), (-1, 2, 0), (0, 0, 1)],
        3: [(1, 2, 3), (1, 2, 1), (1, 2, 0), (2, 2, 3)],
    }
    assert read_asf(tmp_path / "s.asf").names == names
    for t, rows in want.items():
        np.testing.assert_allclose(p[t], rows, atol=1e-9, err_msg=f"frame {t}")


def test_bone_axis_is_its_local_frame(tmp_path: Path) -> None:
    """axis 0 0 90: the bone's local x is global y, so its rx = 90 turns the bone
    (along global z) about global y: z -> x."""
    bones = [("b", (0, 0, 1), 1.0, (0, 0, 90), "rx")]
    p = _fk(tmp_path, bones, ["root b"], [{"root": _root(), "b": [90]}])
    np.testing.assert_allclose(p[0, 1], (1, 0, 0), atol=1e-9)


@pytest.mark.parametrize(("dof", "want"), [("rx ry", (1, 0, 0)), ("ry rx", (0, 0, 1))])
def test_rotations_in_the_order_of_dof(tmp_path: Path, dof: str, want) -> None:  # noqa: ANN001
    """A bone along y with 90, 90: rx then ry sends y -> z -> x; ry then rx keeps y,
    then sends it to z (fixed axes, in the order the dof line lists them)."""
    bones = [("b", (0, 1, 0), 1.0, (0, 0, 0), dof)]
    p = _fk(tmp_path, bones, ["root b"], [{"root": _root(), "b": [90, 90]}])
    np.testing.assert_allclose(p[0, 1], want, atol=1e-9)


def test_axis_order_string(tmp_path: Path) -> None:
    """axis 90 90 0 ZYX (rotate y, then x): C maps local x to ... ; with rz = 0 the
    pose is the rest pose whatever C is, and with XYZ vs ZYX the local x differs."""
    bones = [("b", (0, 1, 0), 1.0, (90, 90, 0), "rx", "ZYX")]
    p = _fk(tmp_path, bones, ["root b"], [{"root": _root(), "b": [0]}])
    np.testing.assert_allclose(p[0, 1], (0, 1, 0), atol=1e-9)  # rest pose: direction
    # ZYX: C = Rx(90) @ Ry(90); its local x axis C @ e_x = Rx(90) @ (0, 0, -1) = (0, 1, 0)
    # so rx = 90 about global y leaves a bone along y where it is
    p = _fk(tmp_path, bones, ["root b"], [{"root": _root(), "b": [90]}])
    np.testing.assert_allclose(p[0, 1], (0, 1, 0), atol=1e-9)
    # XYZ: C = Ry(90) @ Rx(90); C @ e_x = Ry(90) @ e_x = (0, 0, -1): rx turns y -> x
    bones = [("b", (0, 1, 0), 1.0, (90, 90, 0), "rx", "XYZ")]
    p = _fk(tmp_path, bones, ["root b"], [{"root": _root(), "b": [90]}])
    np.testing.assert_allclose(p[0, 1], (1, 0, 0), atol=1e-9)


@pytest.mark.parametrize("order", ["xyz", "zyx", "yxz", "xy", "z"])
def test_euler_is_fixed_axes_in_the_order_written(order: str) -> None:
    """Our Euler matrices equal scipy's extrinsic (fixed-axis) rotations: "xyz" is
    Rz @ Ry @ Rx, the convention of transforms3d's euler2mat (sxyz) that dNRI used."""
    from scipy.spatial.transform import Rotation

    angles = np.array([0.3, -1.1, 2.0])[: len(order)]
    want = Rotation.from_euler(order, angles).as_matrix()
    np.testing.assert_allclose(euler(angles, order), want, atol=1e-12)


def test_units_of_length_and_angle(tmp_path: Path) -> None:
    frames = [{"root": _root((1, 0, 0)), "upper": [np.pi / 2], "lower": [0]}]
    kw = {"length": 0.5, "angle": "rad"}
    (tmp_path / "s.asf").write_text(asf_text(TINY, TINY_H, **kw))
    text = amc_text(frames).replace(":DEGREES\n", "")  # the ASF's rad applies
    (tmp_path / "s_01.amc").write_text(text)
    sk = read_asf(tmp_path / "s.asf")
    motion = read_amc(tmp_path / "s_01.amc", sk)
    for units, scale in (("file", 1.0), ("in", 2.0), ("m", 2.0 * INCH)):
        p = forward_kinematics(sk, motion, units)
        np.testing.assert_allclose(p[0, 1], np.array([1, 2, 0]) * scale, atol=1e-5)


def test_dof_subsets_and_root_order(tmp_path: Path) -> None:
    """A bone with dof ry rz reads two values; a root ordered RX RY RZ TX TY TZ
    reads its rotations first."""
    bones = [("b", (1, 0, 0), 1.0, (0, 0, 0), "ry rz")]
    frames = [{"root": [0, 0, 90, 5, 0, 0], "b": [0, 0]}]
    p = _fk(tmp_path, bones, ["root b"], frames, root_order="RX RY RZ TX TY TZ")
    np.testing.assert_allclose(p[0], [(5, 0, 0), (5, 1, 0)], atol=1e-9)


def test_cmu_hierarchy_is_the_reference_graph(tmp_path: Path) -> None:
    write_cmu(tmp_path, {i: 60 for i in (1, 2, 3)})
    sk = read_asf(tmp_path / "35.asf")
    assert len(sk.names) == 31 and sk.names[0] == "root"
    pairs = {(p, c) for line in CMU_HIERARCHY for p in [line.split()[0]]
             for c in line.split()[1:]}  # fmt: skip
    assert len(pairs) == 30
    adj = sk.edges()  # [receiver, sender]
    idx = {n: i for i, n in enumerate(sk.names)}
    got = {(sk.names[j], sk.names[i]) for i, j in zip(*np.nonzero(adj), strict=True)}
    assert got == pairs | {(c, p) for p, c in pairs}  # both directions
    opts = {"train_trials": "1", "valid_trials": "2", "test_trials": "3",
            "test_window": "50"}  # fmt: skip
    s = read_mocap(tmp_path, **opts)["train"]
    assert s.object_names == sk.names
    lab = s.edges[0]  # [E] in nri.graph order
    send, recv = graph.fully_connected(31)
    for e in np.nonzero(lab)[0]:
        a, b = sk.names[int(send[e])], sk.names[int(recv[e])]
        assert (a, b) in pairs or (b, a) in pairs
    assert lab.sum() == 60 and lab[idx["lfemur"] * 30 + idx["lhipjoint"]] == 1


def test_dnri_split_windows_and_train_normalisation(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    trials = [*range(1, 17), *range(28, 35)]
    lengths = {t: 121 if t != 3 else 171 for t in trials}
    write_cmu(tmp_path / "35", lengths)
    out = tmp_path / "data"
    code, stdout, err = run_cli(["import", str(tmp_path / "35"), "--out", str(out),
                                 "--format", "amc", "--name", "cmu"], capsys)  # fmt: skip
    assert code == 0, err
    shapes = {s: np.load(out / f"feat_{s}_cmu.npy").shape for s in ("train", "valid",
                                                                     "test")}  # fmt: skip
    assert shapes == {"train": (25, 31, 50, 6), "valid": (8, 31, 50, 6),
                      "test": (7, 31, 100, 6)}  # fmt: skip
    meta = json.loads((out / "meta_cmu.json").read_text())
    assert meta["import"]["edges_meaning"] == "reference"
    assert meta["feature_names"] == ["x", "y", "z", "vx", "vy", "vz"]
    names = meta["splits"]
    assert {n.split("@")[0] for n in names["train"]["sample_names"]} == {
        f"35_{i:02d}" for i in range(1, 13)}  # fmt: skip
    assert {n.split("@")[0] for n in names["valid"]["sample_names"]} == {
        f"35_{i:02d}" for i in range(13, 17)}  # fmt: skip
    assert names["test"]["sample_names"][0] == "35_28@0"
    assert "model.n_timesteps=50" in stdout
    edges = np.load(out / "edges_test_cmu.npy")  # [S, N, N]
    assert (edges == edges[:1]).all() and edges[0].sum() == 60
    # velocities: backward differences per second of the positions kept
    x = np.load(out / "feat_train_cmu.npy")
    np.testing.assert_allclose(x[0, :, 1:, 3:], (x[0, :, 1:, :3] - x[0, :, :-1, :3])
                               * 120.0, atol=1e-9)  # fmt: skip
    data = load_dataset(out, "cmu")
    norm = data.normalizer
    np.testing.assert_allclose(norm.mins, x.min(axis=(0, 1, 2)))
    np.testing.assert_allclose(norm.maxs, x.max(axis=(0, 1, 2)))


def _refused(argv: list[str], capsys, out: Path, *fragments: str) -> None:  # noqa: ANN001
    code, _, err = run_cli(argv, capsys)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("nri: error: "), err
    assert "Traceback" not in err
    for f in fragments:
        assert f in err, (f, err)
    assert not out.exists()


def _import(src: Path, out: Path, *opts: str) -> list[str]:
    argv = ["import", str(src), "--out", str(out), "--format", "amc"]
    return argv + [a for o in opts for a in ("--format-option", o)]


SPLIT = ("train_trials=1", "valid_trials=2", "test_trials=3", "train_window=10",
         "test_window=10")  # fmt: skip


def test_corrupt_and_foreign_files_one_line(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    src = write_cmu(tmp_path / "35", {1: 30, 2: 30, 3: 30})
    out = tmp_path / "o"
    amc = src / "35_02.amc"
    good = amc.read_text()
    amc.write_text(good[: good.rindex("lfemur")])  # truncated in the last frame
    _refused(_import(src, out, *SPLIT), capsys, out, "35_02.amc", "frame 30",
             "truncated")  # fmt: skip
    amc.write_text(good.replace("lfemur", "ltail", 1))
    _refused(_import(src, out, *SPLIT), capsys, out, "35_02.amc", "'ltail'",
             "not a bone")  # fmt: skip
    amc.write_text(good.replace("lfemur", "lhipjoint", 1))
    _refused(_import(src, out, *SPLIT), capsys, out, "'lhipjoint'",
             "no degrees of freedom")  # fmt: skip
    amc.write_text(good)
    (src / "35.asf").write_text("sample,time,object,x\n0,0,a,1\n")
    _refused(_import(src, out, *SPLIT), capsys, out, "35.asf",
             "not an Acclaim skeleton")  # fmt: skip
    (src / "35.asf").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    _refused(_import(src, out, *SPLIT), capsys, out, "not a text file")
    (src / "35.asf").unlink()
    _refused(_import(src, out, *SPLIT), capsys, out, "no .asf skeleton", "asf=FILE")
    write_cmu(src, {})  # the skeleton back
    _refused(_import(src, out, "trials=1-5"), capsys, out, "no trial 4")
    _refused(_import(src, out), capsys, out, "3 trials", "dNRI's split")
    _refused(_import(src, out, "train_trials=1"), capsys, out, "all three")
    _refused(_import(src, out, "units=yards"), capsys, out, "units=yards")
    _refused(_import(src, out, *SPLIT[:4]), capsys, out, "test trials", "100")


def test_one_amc_file_is_split_at_random(tmp_path: Path) -> None:
    src = write_cmu(tmp_path, {1: 201})
    s = read_mocap(src / "35_01.amc", window=None, stride=None)
    assert s.x.shape == (4, 31, 50, 6) and s.edges.shape == (4, 930)
    with pytest.raises(DataError, match="train_window"):
        read_mocap(src / "35_01.amc", window=20, stride=None)
    with pytest.raises(DataError, match="not an .amc"):
        read_mocap(src / "35.asf", window=None, stride=None)


def test_cmu_bones_written_as_listed() -> None:
    """The test's own CMU skeleton: 30 bones, each in the hierarchy once."""
    kids = [c for line in CMU_HIERARCHY for c in line.split()[1:]]
    assert sorted(kids) == sorted(b[0] for b in CMU_BONES) and len(kids) == 30


def _chain_springs(
    n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mocap-like toy: 5 joints in 3-D held together by a hidden skeleton, a chain of
    springs (0-1-2-3-4); ``x [S, 5, 50, 6]`` (x, y, z, vx, vy, vz), ``adj [5, 5]``."""
    n, frames, every, dt, k = 5, 50, 10, 0.01, 2.0
    adj = np.zeros((n, n))
    i = np.arange(n - 1)
    adj[i + 1, i] = adj[i, i + 1] = 1.0
    p = rng.normal(0, 0.5, size=(n_samples, n, 3))
    v = rng.normal(0, 0.5, size=(n_samples, n, 3))
    out = []
    for t in range(frames * every):
        if t % every == 0:
            out.append(np.concatenate([p, v], -1))
        diff = p[:, :, None] - p[:, None]  # [S, N, N, 3] p_i - p_j
        v = v - dt * k * (adj[..., None] * diff).sum(2)
        p = p + dt * v
    return np.stack(out, 2), adj


def _train(data: Path, suffix: str, run: Path, epochs: int, n_frames: tuple[int, int],
           batch: int = 32) -> dict:  # fmt: skip
    from nri.config import resolve
    from nri.data.custom import suggested_settings
    from nri.evaluate import evaluate_run
    from nri.training.fit import fit

    settings = suggested_settings(*n_frames)
    cfg = resolve(["cpu"], [
        f"data.suffix={suffix}", "model.skip_first=true", "model.n_features=6",
        *(f"model.{k}={v}" for k, v in settings.items()),
        "model.encoder_hidden_dim=32", "model.decoder_hidden_dim=32",
        f"train.epochs={epochs}", f"train.batch_size={batch}",
        "train.progress_bar=false", "train.threads=1", "train.precision=32-true",
    ])  # fmt: skip
    fit(cfg, run, data=data)
    evaluate_run(run)
    return json.loads((run / "metrics.json").read_text())


@pytest.mark.slow
def test_short_training_infers_a_hidden_chain(tmp_path: Path) -> None:
    """400 samples, 60 epochs of 13 steps on the CPU (about 15 s): the chain is
    found well above chance (AUROC 0.5; about 0.86 here)."""
    from nri.data.custom import import_data

    x, adj = _chain_springs(400, np.random.default_rng(0))
    names = np.array(list("xyz") + ["vx", "vy", "vz"])
    np.savez(tmp_path / "chain.npz", x=x, edges=adj.astype(np.int64),
             feature_names=names)  # fmt: skip
    import_data(tmp_path / "chain.npz", tmp_path / "data", "chain")
    m = _train(tmp_path / "data", "chain", tmp_path / "run", 60, (50, 50))
    assert m["auroc"] > 0.7, m
    assert m["acc"] > 0.6, m


@pytest.mark.slow
def test_report_draws_the_skeleton_and_says_reference(
    tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001, E501
    from nri import report_geometry
    from nri.report import build_report

    trials = dict.fromkeys(range(1, 4), 121)
    write_cmu(tmp_path / "35", trials)
    opts = {"train_trials": "1", "valid_trials": "2", "test_trials": "3"}
    from nri.data.custom import import_data

    import_data(tmp_path / "35", tmp_path / "data", "cmu", data_format="amc",
                format_options=opts)  # fmt: skip
    _train(tmp_path / "data", "cmu", tmp_path / "run", 1, (50, 100), batch=2)
    text = build_report(tmp_path / "run")
    assert "in the data&#x27;s own geometry (amc)" in text
    assert "reference edges (not ground truth)" in text
    assert "edge accuracy against the reference" in text
    assert "a reference graph (format amc" in text
    assert "true vs inferred" not in text and "true edge" not in text
    monkeypatch.setitem(report_geometry.GEOMETRY, "amc", ("nri.no_such_module", "f"))
    text = build_report(tmp_path / "run")
    assert "own geometry" not in text and "reference edges" in text


def test_reference_wording() -> None:
    from nri.report_geometry import reword, truth_word

    ref = {"import": {"format": "amc", "edges_meaning": "reference"}}
    assert truth_word(ref) == "reference" and truth_word({}) == "true"
    assert reword("true edges", "reference") == "reference edges (not ground truth)"
    assert reword("AUROC", "reference") == "AUROC against the reference"
    assert reword("edge accuracy (raw)", "true") == "edge accuracy (raw)"
