"""The StructInfer / DoSI layout (nri.data.structinfer), read as the files are: small
files written here in the benchmark's conventions, never downloaded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nri import graph
from nri.cli import main
from nri.data.dataset import load_dataset
from nri.data.errors import DataError
from nri.data.layout import read_data_dir

N = 5
FRAMES = {"train": 49, "valid": 49, "test": 99}
SIMS = {"train": 12, "valid": 4, "test": 4}


def _adjacency(rng: np.random.Generator) -> np.ndarray:
    a = (rng.random((N, N)) < 0.4).astype(np.float64)
    np.fill_diagonal(a, 0.0)
    a[0, 1], a[1, 0] = 1.0, 0.0  # a directed pair: 1 is a sender of 0, not vice versa
    return a


def _write_springs(root, suffix, adj, rng, self_loops=(2,)):
    stored = adj.copy()
    for i in self_loops:
        stored[i, i] = 1.0  # self-loops kept in the benchmark's files
    arrays = {}
    for split in FRAMES:
        loc = rng.standard_normal((SIMS[split], FRAMES[split], 2, N))
        vel = rng.standard_normal((SIMS[split], FRAMES[split], 2, N))
        np.save(root / f"loc_{split}_{suffix}.npy", loc)
        np.save(root / f"vel_{split}_{suffix}.npy", vel)
        np.save(root / f"edges_{split}_{suffix}.npy", stored)
        arrays[split] = (loc, vel)
    return arrays


def _write_bold(root, suffix, adj, rng):
    stored = adj.copy()
    np.fill_diagonal(stored, -1.0)  # the NetSims files' self-decay diagonal
    out = {}
    for split in FRAMES:
        bold = rng.standard_normal((SIMS[split], FRAMES[split], 1, N))
        np.save(root / f"bold_{split}_{suffix}.npy", bold)
        np.save(root / f"edges_{split}_{suffix}.npy", stored)
        out[split] = bold
    return out


def test_springs_files_read_as_they_are(tmp_path):
    rng = np.random.default_rng(0)
    adj = _adjacency(rng)
    arrays = _write_springs(tmp_path, "springs5r1", adj, rng)
    data = read_data_dir(tmp_path)
    assert data.system == "springs" and data.name == "springs5r1"
    want = graph.to_edges_np(adj[None].astype(np.int64))[0]  # [receiver, sender]
    for split, (loc, vel) in arrays.items():
        s = data.splits[split]
        assert s.x.shape == (SIMS[split], N, FRAMES[split], 4)
        np.testing.assert_array_equal(s.x[..., :2], loc.transpose(0, 3, 1, 2))
        np.testing.assert_array_equal(s.x[..., 2:], vel.transpose(0, 3, 1, 2))
        assert (s.edges == want).all()  # one graph, every sample, diagonal dropped
    # adjacency [i, j] = "i is driven by j" = [receiver, sender]: no transpose
    send, recv = graph.fully_connected_np(N)
    k01 = int(np.flatnonzero((recv == 0) & (send == 1))[0])
    k10 = int(np.flatnonzero((recv == 1) & (send == 0))[0])
    assert data.splits["train"].edges[0, k01] == 1  # adj[0, 1] = 1: 1 drives 0
    assert data.splits["train"].edges[0, k10] == 0  # adj[1, 0] = 0
    assert data.meta["diagonal"]["dropped"] and data.meta["diagonal"]["nonzero"] == 1
    assert data.meta["layout"] == "structinfer"


def test_bold_files_with_minus_one_diagonal(tmp_path):
    rng = np.random.default_rng(1)
    adj = _adjacency(rng)
    bold = _write_bold(tmp_path, "netsims5r2", adj, rng)
    data = load_dataset(tmp_path)
    assert data.system == "netsims" and data.n_features == 1
    want = graph.to_edges_np(adj[None].astype(np.int64))[0]
    assert (data.test.edges.numpy() == want).all()
    assert set(np.unique(data.train.edges.numpy())) <= {0, 1}  # -1 never a label
    lo, hi = bold["train"].min(), bold["train"].max()
    expect = (bold["test"].transpose(0, 3, 1, 2) - lo) * 2 / (hi - lo) - 1
    np.testing.assert_allclose(data.test.x.numpy(), expect, rtol=1e-5, atol=1e-6)
    assert data.meta["diagonal"]["values"] == [-1.0]
    assert "diagonal dropped" in data.summary()


def test_documented_node_major_order_and_weights(tmp_path):
    """[S, N, F, T] (the order the benchmark's documentation states) is read too;
    weights > 0 are edges, as the benchmark binarises them."""
    rng = np.random.default_rng(2)
    adj = _adjacency(rng)
    for split in FRAMES:
        bold = rng.standard_normal((SIMS[split], N, 1, FRAMES[split]))
        np.save(tmp_path / f"bold_{split}_netsims5r1.npy", bold)
        np.save(tmp_path / f"edges_{split}_netsims5r1.npy", adj * 0.7)
    data = read_data_dir(tmp_path)
    assert data.splits["test"].x.shape == (SIMS["test"], N, 99, 1)
    np.testing.assert_array_equal(
        data.splits["test"].x[..., 0], bold.transpose(0, 1, 3, 2)[..., 0]
    )
    assert (data.splits["train"].edges == graph.to_edges_np(adj[None] > 0)).all()


def test_several_sets_need_a_suffix(tmp_path, capsys):
    rng = np.random.default_rng(3)
    _write_springs(tmp_path, "springs5r1", _adjacency(rng), rng)
    _write_springs(tmp_path, "springs5r2", _adjacency(rng), rng)
    _write_bold(tmp_path, "netsims5r1", _adjacency(rng), rng)
    assert main(["data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "netsims5r1, springs5r1, springs5r2" in err and "--suffix" in err
    assert main(["data", str(tmp_path), "--suffix", "springs5r2"]) == 0


def test_bad_files_are_one_line(tmp_path):
    rng = np.random.default_rng(4)
    adj = _adjacency(rng)
    _write_springs(tmp_path, "springs5r1", adj, rng)
    np.save(tmp_path / "vel_valid_springs5r1.npy", rng.standard_normal((4, 49, 3, N)))
    with pytest.raises(DataError, match="expected \\[S, T, 2, 5\\]"):
        read_data_dir(tmp_path)
    np.save(tmp_path / "vel_valid_springs5r1.npy", rng.standard_normal((4, 49, 2, N)))
    np.save(tmp_path / "edges_test_springs5r1.npy", np.ones((N, N + 1)))
    with pytest.raises(DataError, match="one \\[N, N\\] adjacency"):
        read_data_dir(tmp_path)


@pytest.mark.slow
def test_train_and_evaluate_round_trip(tmp_path, capsys):
    rng = np.random.default_rng(5)
    (tmp_path / "d").mkdir()
    _write_bold(tmp_path / "d", "netsims5r1", _adjacency(rng), rng)
    run = tmp_path / "run"
    rc = main(["train", "--preset", "cpu", "--data", str(tmp_path / "d"), "--out",
               str(run), "--epochs", "1", "--set", "model.n_features=1",
               "--set", "train.batch_size=4", "--set", "model.skip_first=true"])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    m = json.loads((run / "metrics.json").read_text())
    assert m["suffix"] == "netsims5r1" and m["n_samples"] == SIMS["test"]
    assert 0.0 <= m["auroc"] <= 1.0
    for key in ("auroc_per_sample", "auroc_aggregate", "auroc_aggregate_logit"):
        assert 0.0 <= m[key] <= 1.0  # one graph shared by every test sample
    assert main(["evaluate", str(run)]) == 0
    out = tmp_path / "inf"
    assert main(["infer", str(run), "--data", str(tmp_path / "d"), "--split", "test",
                 "--aggregate", "--out", str(out)]) == 0  # fmt: skip
    assert "AUROC per window" in capsys.readouterr().out
    probs = np.load(out / "edges.npz")["probs"]  # [windows, E, K]
    send, recv = graph.fully_connected_np(N)
    mat = np.load(out / "graph.npy")
    np.testing.assert_allclose(mat[recv, send], 1 - probs[..., 0].mean(0), rtol=1e-12)
    doc = json.loads((out / "edges.json").read_text())
    assert doc["metrics"]["auroc_aggregate"] is not None

    import nri

    est = nri.load(run)
    x = read_data_dir(tmp_path / "d").splits["test"].x
    per_sample = est.infer(x)  # [S, N, N, K]
    np.testing.assert_allclose(
        est.infer(x, aggregate=True), (1 - per_sample[..., 0]).mean(0) * (1 - np.eye(N))
    )
