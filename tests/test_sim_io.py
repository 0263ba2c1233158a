"""Writing data sets: layout, round trip, reference mode, interruption safety."""

import json

import numpy as np
import pytest

from nri.data.dataset import DataError, load_dataset
from nri.sim.io import DatasetConfig, write_dataset
from nri.sim.particles import simulate
from nri.sim.springs import SpringsConfig

SMALL = dict(n_train=30, n_valid=10, n_test=10, length=1000, length_test=2000)


def test_layout_and_metadata(tmp_path):
    cfg = DatasetConfig(system="charged", n_objects=3, seed=5, **SMALL)
    meta_path = write_dataset(cfg, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    expected = [f"{k}_{s}_charged3.npy" for k in ("edges", "loc", "vel")
                for s in ("test", "train", "valid")]  # fmt: skip
    assert names == sorted([*expected, "meta_charged3.json"])
    assert np.load(tmp_path / "loc_train_charged3.npy").shape == (30, 9, 2, 3)
    assert np.load(tmp_path / "vel_test_charged3.npy").shape == (10, 19, 2, 3)
    assert np.load(tmp_path / "edges_valid_charged3.npy").shape == (10, 3, 3)
    meta = json.loads(meta_path.read_text())
    assert meta["config"]["seed"] == 5 and meta["system"] == "charged"
    assert meta["splits"]["test"]["n_frames"] == 19
    assert meta["system_config"]["interaction_strength"] == 1.0


def test_round_trip_is_exact(tmp_path):
    cfg = DatasetConfig(system="springs", n_objects=4, seed=11, **SMALL)
    write_dataset(cfg, tmp_path)
    # the train split is block 0 of split 0 of the seed's SeedSequence
    seq = np.random.SeedSequence(11, spawn_key=(0, 0))
    rng = np.random.Generator(np.random.PCG64(seq))
    direct = simulate("springs", SpringsConfig(n_objects=4), 30, 1000, rng)
    assert np.array_equal(np.load(tmp_path / "loc_train_springs4.npy"), direct.loc)
    assert np.array_equal(np.load(tmp_path / "vel_train_springs4.npy"), direct.vel)
    assert np.array_equal(np.load(tmp_path / "edges_train_springs4.npy"), direct.edges)
    data = load_dataset(tmp_path)
    lo, hi = direct.loc.min(), direct.loc.max()
    x_expected = (direct.loc.transpose(0, 3, 1, 2) - lo) * 2 / (hi - lo) - 1
    assert np.array_equal(data.train.x[..., :2].numpy(), x_expected.astype(np.float32))


def test_same_seed_same_files_different_seed_differs(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        write_dataset(DatasetConfig(seed=seed, **SMALL), tmp_path / name)
    a, b, c = (np.load(tmp_path / n / "loc_valid_springs5.npy") for n in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_reference_mode_reproduces_original_files(tmp_path, reference_dir):
    cfg = DatasetConfig(
        system="springs", n_train=12, n_valid=2, n_test=2, seed=7, reference=True
    )
    write_dataset(cfg, tmp_path)
    for kind in ("loc", "vel", "edges"):
        ours = np.load(tmp_path / f"{kind}_train_springs5.npy")
        ref = np.load(reference_dir / f"{kind}_train_springs5.npy", mmap_mode="r")[:12]
        assert np.array_equal(ours, ref), kind


def test_interrupted_write_never_looks_complete(tmp_path):
    good = DatasetConfig(seed=1, **SMALL)
    write_dataset(good, tmp_path)
    before = np.load(tmp_path / "loc_train_springs5.npy")

    def stop(_n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_dataset(DatasetConfig(seed=2, **SMALL), tmp_path, progress=stop)
    # interrupted while simulating: the old complete set is untouched
    assert np.array_equal(np.load(tmp_path / "loc_train_springs5.npy"), before)
    assert load_dataset(tmp_path).meta["config"]["seed"] == 1

    # interrupted while committing: the marker makes the set visibly incomplete
    (tmp_path / ".incomplete_springs5").write_text("")
    with pytest.raises(DataError, match="incomplete"):
        load_dataset(tmp_path)
    write_dataset(DatasetConfig(seed=3, **SMALL), tmp_path)  # a rerun repairs it
    assert load_dataset(tmp_path).meta["config"]["seed"] == 3
    assert not list(tmp_path.glob("*.partial"))


def test_kuramoto_layout(tmp_path):
    cfg = DatasetConfig(system="kuramoto", n_objects=3, n_train=6, n_valid=2, n_test=2)
    write_dataset(cfg, tmp_path)
    assert np.load(tmp_path / "feat_train_kuramoto3.npy").shape == (6, 3, 49, 4)
    assert np.load(tmp_path / "feat_test_kuramoto3.npy").shape == (2, 3, 99, 4)
    data = load_dataset(tmp_path)
    assert data.system == "kuramoto"
    assert tuple(data.train.x.shape) == (6, 3, 49, 3)
    assert data.normalizer.names == ("dphi", "sin_phi", "omega")
    assert tuple(data.test.edges.shape) == (2, 6)


def test_config_errors():
    with pytest.raises(ValueError, match="reference mode"):
        DatasetConfig(system="kuramoto", reference=True)
    with pytest.raises(ValueError, match="n_valid"):
        DatasetConfig(n_valid=0)
    with pytest.raises(ValueError, match="edge_prob"):
        DatasetConfig(edge_prob=2.0)
