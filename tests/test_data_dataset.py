"""Loading data sets: the original files, normalisation, labels, and bad input."""

import shutil

import numpy as np
import pytest
import torch

from nri import graph
from nri.data.dataset import DataError, edge_labels, load_dataset
from nri.data.normalize import Normalizer
from nri.sim.io import DatasetConfig, write_dataset


@pytest.mark.parametrize(
    ("name", "n", "frac"),
    [("springs5", 5, 0.4994), ("charged5", 5, 0.4982), ("springs10", 10, 0.4984)],
)
def test_reference_data_loads_with_documented_shapes(reference_dir, name, n, frac):
    data = load_dataset(reference_dir, name)
    s_train = 1000 if n == 5 else 500
    s_test = 200 if n == 5 else 100
    e = n * (n - 1)
    assert tuple(data.train.x.shape) == (s_train, n, 49, 4)
    assert tuple(data.valid.x.shape) == (s_test, n, 49, 4)
    assert tuple(data.test.x.shape) == (s_test, n, 99, 4)
    assert tuple(data.train.edges.shape) == (s_train, e)
    assert data.train.x.dtype == torch.float32 and data.train.edges.dtype == torch.int64
    assert abs(data.train.edges.float().mean().item() - frac) < 5e-5
    # normalised train positions and velocities span exactly [-1, 1]
    for sl in (slice(0, 2), slice(2, 4)):
        assert data.train.x[..., sl].min().item() == -1.0
        assert data.train.x[..., sl].max().item() == 1.0
    assert data.meta is None and data.system == name[:-1].rstrip("1")


def test_reference_normalisation_matches_original_loader(reference_dir):
    data = load_dataset(reference_dir, "springs5", splits=("test",))
    loc = np.load(reference_dir / "loc_train_springs5.npy")
    lo, hi = loc.min(), loc.max()
    assert data.normalizer.mins[0] == lo and data.normalizer.maxs[0] == hi
    test_loc = np.load(reference_dir / "loc_test_springs5.npy")
    expected = ((test_loc - lo) * 2 / (hi - lo) - 1).transpose(0, 3, 1, 2)
    assert np.array_equal(data.test.x[..., :2].numpy(), expected.astype(np.float32))
    back = data.normalizer.inverse(data.test.x.double())[..., :2].numpy()
    assert np.allclose(back, test_loc.transpose(0, 3, 1, 2), atol=1e-5)


def test_labels_follow_the_edge_order(reference_dir):
    adj = np.load(reference_dir / "edges_train_charged5.npy")[:50]
    labels = edge_labels(adj, "charged")
    send, recv = graph.fully_connected_np(5)
    assert np.array_equal(labels, (adj[:, recv, send] > 0).astype(np.int64))
    assert set(np.unique(labels)) == {0, 1}


def test_normalizer_round_trip_and_state():
    norm = Normalizer.fit_per_feature(np.random.default_rng(0).normal(size=(10, 7, 3)))
    x = torch.randn(4, 3, dtype=torch.float64)
    assert torch.allclose(norm.inverse(norm.transform(x)), x)
    assert Normalizer.from_dict(norm.to_dict()) == norm
    with pytest.raises(ValueError, match="constant"):
        Normalizer.fit_per_feature(np.ones((5, 2)))
    with pytest.raises(ValueError, match="3 features"):
        norm.transform(torch.zeros(2, 4))


@pytest.fixture()
def small_set(tmp_path):
    cfg = DatasetConfig(n_objects=3, n_train=8, n_valid=4, n_test=4, length=1000,
                        length_test=2000)  # fmt: skip
    write_dataset(cfg, tmp_path)
    return tmp_path


def test_missing_directory_and_set(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(DataError, match="no data set in"):
        load_dataset(tmp_path)


def test_missing_split(small_set):
    (small_set / "vel_valid_springs3.npy").unlink()
    with pytest.raises(DataError, match=r"missing file .*vel_valid_springs3\.npy"):
        load_dataset(small_set)


def test_mismatched_shapes(small_set):
    np.save(small_set / "vel_train_springs3.npy", np.zeros((8, 9, 2, 4)))
    with pytest.raises(DataError, match=r"vel_train_springs3\.npy has shape"):
        load_dataset(small_set)


def test_nan_values(small_set):
    loc = np.load(small_set / "loc_test_springs3.npy")
    loc[0, 3, 1, 2] = np.nan
    np.save(small_set / "loc_test_springs3.npy", loc)
    with pytest.raises(DataError, match=r"loc_test_springs3\.npy contains 1 NaN"):
        load_dataset(small_set)


def test_wrong_dtype(small_set):
    np.save(small_set / "edges_train_springs3.npy", np.full((8, 3, 3), "a"))
    with pytest.raises(DataError, match="dtype"):
        load_dataset(small_set)


def test_corrupt_file(small_set):
    (small_set / "loc_train_springs3.npy").write_bytes(b"not a numpy file at all")
    with pytest.raises(DataError, match=r"cannot read .*loc_train_springs3\.npy"):
        load_dataset(small_set)


def test_pickled_file_is_refused(small_set):
    np.save(small_set / "loc_train_springs3.npy", np.array([{"a": 1}], dtype=object),
            allow_pickle=True)  # fmt: skip
    with pytest.raises(DataError, match="loc_train_springs3"):
        load_dataset(small_set)


def test_objects_differ_between_splits(small_set):
    for kind, shape in (("loc", (4, 19, 2, 4)), ("vel", (4, 19, 2, 4)),
                        ("edges", (4, 4, 4))):  # fmt: skip
        np.save(small_set / f"{kind}_test_springs3.npy", np.zeros(shape))
    with pytest.raises(DataError, match="number of objects"):
        load_dataset(small_set)


def test_several_sets_need_a_suffix(small_set, reference_dir):
    for p in reference_dir.glob("*_charged5.npy"):
        shutil.copy(p, small_set / p.name)
    with pytest.raises(DataError, match="several data sets"):
        load_dataset(small_set)
    assert load_dataset(small_set, "charged5").n_objects == 5
    with pytest.raises(DataError, match="no data set 'springs7'"):
        load_dataset(small_set, "springs7")
