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


# The data model (docs/data.md): every route reads Series, then one path to tensors.


def test_a_data_directory_reads_as_series_then_one_path(reference_dir):
    from nri.data.layout import read_data_dir, read_nri
    from nri.data.splits import prepare

    data = read_data_dir(reference_dir, "charged5")
    assert set(data.splits) == {"train", "valid", "test"}
    assert data.system == "charged" and data.feature_groups == (0, 0, 1, 1)
    train = data.splits["train"]
    assert train.x.shape == (1000, 5, 49, 4) and train.x.dtype == np.float64
    assert train.edges.shape == (1000, 20) and train.feature_names == (
        "x",
        "y",
        "vx",
        "vy",
    )
    assert (
        train.shared_edges is None and train.n_edge_types == 2
    )  # one graph per sample
    loc = np.load(reference_dir / "loc_train_charged5.npy")  # [S, T, 2, n], physical
    assert np.array_equal(train.x[..., :2], loc.transpose(0, 3, 1, 2))
    assert np.array_equal(
        read_nri(reference_dir, "test", "charged5").x, data.splits["test"].x
    )
    loaded, direct = prepare(data), load_dataset(reference_dir, "charged5")
    assert (
        loaded.normalizer == direct.normalizer and loaded.summary() == direct.summary()
    )
    for name in ("train", "valid", "test"):
        assert torch.equal(loaded.splits[name].x, direct.splits[name].x)
        assert torch.equal(loaded.splits[name].edges, direct.splits[name].edges)


def test_a_series_takes_the_same_path(tmp_path):
    from nri.data.custom import load_file_dataset
    from nri.data.dataset import as_loaded
    from nri.data.series import make_series
    from nri.data.splits import prepare, random_splits
    from nri.training.datamodule import NRIDataModule

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3, 6, 2))
    adj = np.array([[0, 1, 2], [0, 0, 1], [2, 0, 0]])  # one graph, K = 3, [recv, send]
    series = make_series(x, edges=adj, source=str(tmp_path / "a.npz"))
    assert series.edges.shape == (20, 6) and series.n_edge_types == 3
    assert np.array_equal(series.shared_edges, graph.to_edges_np(adj))
    np.savez(tmp_path / "a.npz", x=x, edges=adj)
    from_file = load_file_dataset(tmp_path / "a.npz")
    from_series = prepare(random_splits(series, "a"))
    assert as_loaded(series).normalizer == from_file.normalizer
    assert from_series.describe() == from_file.describe()
    for name, split in from_file.splits.items():
        assert torch.equal(split.x, from_series.splits[name].x)
        assert torch.equal(split.edges, from_series.splits[name].edges)
    batch = next(iter(NRIDataModule(series, batch_size=4).test_dataloader()))
    assert batch[0].shape == (2, 3, 6, 2) and batch[1].shape == (2, 6)


def test_old_names_stay_importable():
    from nri.data.custom import (  # noqa: F401
        import_data,
        load_file_dataset,
        split_series,
        suggested_settings,
        write_data_dir,
    )
    from nri.data.dataset import (  # noqa: F401
        LoadedData,
        Split,
        check_finite_splits,
        feature_names,
        fit_normalizer,
        normalise,
        physical_split,
    )
    from nri.data.files import DataError as FilesError
    from nri.data.importers import read_nri, read_series  # noqa: F401
    from nri.data.series import Series, make_series, make_windows, windows_of  # noqa: F401

    assert FilesError is DataError
