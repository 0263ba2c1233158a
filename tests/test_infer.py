"""Inference and forecasts on own data with a tiny trained run; exports; the CLI; and
training without true edges."""

import csv
import json

import numpy as np
import pytest
import torch

from _own_data import N_OBJECTS, OFFSET, own_arrays, tiny_npz, tiny_run
from nri import graph
from nri.cli import main
from nri.config import resolve
from nri.data.custom import import_data
from nri.data.dataset import DataError, load_dataset
from nri.data.importers import make_series, read_csv, read_npz
from nri.errors import DataNotice
from nri.evaluate import evaluate_run, format_metrics
from nri.exports import write_edges, write_forecast
from nri.infer import (
    EdgeInference,
    forecast_trajectories,
    infer_edges,
    to_edge_index,
    to_networkx,
)
from nri.registry import MODELS
from nri.training.datamodule import NRIDataModule
from nri.training.fit import LoadedRun, fit, load_run

E = N_OBJECTS * (N_OBJECTS - 1)


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory)


@pytest.fixture(scope="session")
def npz(tmp_path_factory):
    return tiny_npz(tmp_path_factory)


def test_inferred_probabilities(run, npz):
    series = read_npz(npz)
    res = infer_edges(run, npz)
    w = load_run(run).config.model_config.n_timesteps
    assert res.probs.shape == (series.n_samples, E, 2) and res.frames == (0, w)
    assert np.allclose(res.probs.sum(-1), 1.0, atol=1e-6) and (res.probs >= 0).all()
    assert np.allclose(res.mean_probs, res.probs.mean(0))
    assert np.array_equal(res.true_edges, series.edges) and res.no_edge_type == 0
    send, recv = graph.fully_connected_np(N_OBJECTS)
    assert np.array_equal(res.send, send) and np.array_equal(res.recv, recv)
    # the same numbers from a loaded run, a Series, other batch sizes and frames
    again = infer_edges(load_run(run), series.take(np.arange(7)), batch_size=3)
    assert np.allclose(again.probs, res.probs[:7], atol=1e-6)
    # = the model's own encoder on the normalised window
    loaded = load_run(run)
    x = loaded.normalizer.transform(series.x[:4, :, :w]).astype(np.float32)
    with torch.no_grad():
        q = loaded.model.encode(torch.from_numpy(x)).q.double().numpy()
    assert np.allclose(res.probs[:4], q, atol=1e-6)
    shifted = infer_edges(run, series.take(np.arange(3)), start=2)
    assert shifted.frames == (2, w + 2) and not np.allclose(
        shifted.probs, res.probs[:3]
    )


def test_forecast_is_in_the_data_units(run, npz):
    series = read_npz(npz).take(np.arange(12))
    loaded = load_run(run)
    w = loaded.config.model_config.n_timesteps
    fc = forecast_trajectories(run, series, n_steps=5)
    assert fc.pred.shape == (12, N_OBJECTS, 5, 4) and fc.first_frame == series.n_frames
    assert np.array_equal(fc.history, series.x[:, :, -w:])
    # positions stay around the data's offset of 1000, far from the [-1, 1] of the model
    pos = fc.pred[..., :2]
    assert abs(pos.mean() - OFFSET) < 300 and pos.min() > 100
    step1 = np.abs(
        fc.pred[:, :, 0] - series.x[:, :, -1]
    )  # one step from the last frame
    spread = series.x.max(axis=(0, 1, 2)) - series.x.min(axis=(0, 1, 2))
    assert (step1.mean(axis=(0, 1)) < 0.2 * spread).all()
    # = inverse(model.forecast(transform(x))) with the argmax graph
    x = torch.from_numpy(loaded.normalizer.transform(series.x[:, :, -w:]))
    with torch.no_grad():
        logits = loaded.model.encode(x.float()).logits
        z = torch.nn.functional.one_hot(logits.argmax(-1), 2).float()
        ref = loaded.model.forecast(x.float(), z, 5).double()
    assert np.allclose(fc.pred, loaded.normalizer.inverse(ref).numpy(), atol=1e-4)
    assert np.array_equal(fc.graph, z.double().numpy())
    soft = forecast_trajectories(run, series, 5, graph_mode="probs")
    assert np.allclose(soft.graph, soft.probs) and not np.allclose(soft.pred, fc.pred)


def test_bad_data_for_the_run(run, npz, tmp_path):
    x, adj = own_arrays(n_samples=4, seed=1)
    with pytest.raises(DataError, match="3 features per object but the run .* on 4"):
        infer_edges(run, make_series(x[..., :3]))
    with pytest.raises(DataError, match="3 objects but the run .* trained on 4"):
        infer_edges(run, make_series(x[:, :3]))
    ok = infer_edges(run, make_series(x[:, :3]), allow_other_objects=True)
    assert ok.probs.shape == (4, 6, 2)
    # unnamed features taken by position: said, naming which is taken as which
    with pytest.warns(
        DataNotice, match="no feature names; taking f0, f1, f2, f3 as x, y"
    ):
        infer_edges(run, make_series(x))
    with pytest.raises(DataError, match="10 frames per sample but .* needs 22"):
        forecast_trajectories(run, make_series(x[:, :, :10]), 3)
    with pytest.raises(DataError, match="start 10: .* at most 8"):
        infer_edges(run, make_series(x), start=10)
    with pytest.raises(DataError, match="steps must be >= 1"):
        forecast_trajectories(run, make_series(x), 0)
    with pytest.raises(DataError, match="does not exist"):
        infer_edges(run, tmp_path / "nothing.npz")
    cfg = resolve(
        ["mpm_springs5", "mpm_true_graph"],
        ["model.hidden_dim=8", "model.n_timesteps=22"],
    )
    no_encoder = LoadedRun(
        cfg, MODELS["nri_mpm"][0](cfg.model_config), load_run(run).normalizer,
        tmp_path / "checkpoints" / "best.ckpt",
    )  # fmt: skip
    with pytest.raises(DataError, match=r"\(nri_mpm\) has no edge encoder"):
        forecast_trajectories(no_encoder, make_series(x), 3)


def _hand_result(skip_first=True):
    n, k = 3, 2
    probs = np.zeros((2, 6, k))
    probs[..., 1] = np.array([[0.9, 0.1, 0.8, 0.3, 0.6, 0.2], [0.5] * 6])
    probs[..., 0] = 1 - probs[..., 1]
    send, recv = graph.fully_connected_np(n)
    return EdgeInference(
        probs=probs, mean_probs=probs.mean(0), send=send, recv=recv,
        no_edge_type=0 if skip_first else None, true_edges=None, frames=(0, 5),
        object_names=("a", "b", "c"), sample_names=("s0", "s1"), source="hand",
        run="hand",
    )  # fmt: skip


def test_networkx_and_edge_index_follow_the_edge_order():
    res = _hand_result()
    g = to_networkx(res, sample=0)
    ei, attr = to_edge_index(res, sample=0)
    assert g.number_of_nodes() == 3 and g.nodes[1]["name"] == "b"
    # edge 0 of nri.graph's order is receiver 0 <- sender 1: p = 0.9
    assert g.edges[1, 0]["weight"] == pytest.approx(0.9)
    assert g.edges[0, 1]["weight"] == pytest.approx(0.8)  # receiver 1 <- sender 0
    assert ei.tolist() == [[1, 2, 0, 2, 0, 1], [0, 0, 1, 1, 2, 2]]
    assert torch.equal(ei, graph.edge_index(3))
    for e, (j, i) in enumerate(ei.t().tolist()):
        assert g.edges[j, i]["probs"] == pytest.approx(attr[e].tolist())
        dense = graph.to_dense_np(res.probs[0, :, 1])
        assert dense[i, j] == pytest.approx(g.edges[j, i]["weight"])  # [recv, send]
    g2 = to_networkx(res, sample=0, threshold=0.5)
    ei2, attr2 = to_edge_index(res, sample=0, threshold=0.5)
    assert sorted(g2.edges) == sorted(map(tuple, ei2.t().tolist()))
    assert ei2.t().tolist() == [[1, 0], [0, 1], [0, 2]]
    assert attr2[:, 1].tolist() == pytest.approx([0.9, 0.8, 0.6])
    mean = to_networkx(res)  # mean over samples
    assert mean.edges[1, 0]["weight"] == pytest.approx(0.7)
    unsure = _hand_result(skip_first=False)
    assert "weight" not in to_networkx(unsure).edges[1, 0]
    with pytest.raises(ValueError, match="edge_type"):
        to_edge_index(unsure, threshold=0.5)
    assert to_edge_index(unsure, threshold=0.5, edge_type=0)[0].shape == (2, 3)


def test_exported_files(run, npz, tmp_path):
    res = infer_edges(run, npz)
    paths = write_edges(res, tmp_path / "inf")
    with np.load(paths["npz"]) as z:
        assert np.array_equal(z["probs"], res.probs)
        assert np.array_equal(z["edge_index"], graph.edge_index(N_OBJECTS).numpy())
        assert np.array_equal(z["true_edges"], res.true_edges)
    doc = json.loads(paths["json"].read_text())
    assert len(doc["edges"]) == E and doc["n_samples"] == res.probs.shape[0]
    first = doc["edges"][0]
    assert (first["sender"], first["receiver"]) == (1, 0)
    assert first["probs"] == pytest.approx(res.mean_probs[0].tolist())
    with paths["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == E
    assert float(rows[5]["p_interaction"]) == pytest.approx(1 - res.mean_probs[5, 0])
    # the forecast CSV is the input's long format again: it reads back exactly
    fc = forecast_trajectories(run, read_npz(npz).take(np.arange(3)), 4)
    out = write_forecast(fc, tmp_path / "fc")
    back = read_csv(out["csv"])
    assert np.allclose(back.x, fc.pred, rtol=1e-7)
    assert back.times[0].tolist() == list(range(30, 34))


def test_cli_infer_and_forecast(run, npz, tmp_path, capsys):
    assert main(["infer", str(run), "--data", str(npz), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "most likely interactions" in out and (tmp_path / "edges.csv").exists()
    data_dir = run.parent / "data"  # the imported directory: its test split
    assert main(["forecast", str(run), "--data", str(data_dir), "--steps", "3",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    with np.load(tmp_path / "forecast.npz") as z:
        assert z["forecast"].shape == (load_dataset(data_dir).test.x.shape[0], 4, 3, 4)
    assert "forecast 3 frames (30..32)" in capsys.readouterr().out
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((2, 1, 30, 4)))
    assert main(["infer", str(run), "--data", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "at least 2" in err and len(err.splitlines()) == 1


def test_training_without_true_edges(tmp_path):
    x, _ = own_arrays(n_samples=60, seed=3)
    np.save(tmp_path / "own.npy", x)  # no graph
    import_data(tmp_path / "own.npy", tmp_path / "d", "own")
    data = load_dataset(tmp_path / "d", "own")
    assert not data.has_edges
    overrides = [
        "data.suffix=own", "model.n_features=4", "model.n_timesteps=22",
        "model.test_horizon=7", "model.encoder_hidden_dim=16",
        "model.decoder_hidden_dim=16", "train.epochs=1", "train.batch_size=16",
        "train.progress_bar=false", "train.precision=32-true", "train.threads=1",
    ]  # fmt: skip
    res = fit(resolve(["cpu"], overrides), tmp_path / "run", data=data)
    assert np.isfinite(res.best_score)  # selected by the validation NLL
    header = (tmp_path / "run" / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert "val/nll" in header and "acc" not in header
    assert (
        json.loads((tmp_path / "run" / "data.json").read_text())["has_edges"] is False
    )
    m = evaluate_run(tmp_path / "run")
    assert m["acc"] is None and m["auroc"] is None and not m["has_edges"]
    assert len(m["mse"]) == 7 and np.isfinite(m["mse"]).all()
    assert "n/a (the data have no true edges)" in format_metrics(m)
    with pytest.raises(ValueError, match="learns from the true edges"):
        fit(
            resolve(["mpm_springs5", "mpm_supervised", "cpu"], overrides[:4]),
            tmp_path / "run2",
            data=data,
        )
    # training reads the first model.n_timesteps frames of the 30-frame trajectories
    dm = NRIDataModule(data, batch_size=8, n_frames=22)
    x_train, _ = next(iter(dm.train_dataloader()))
    x_valid, _ = next(iter(dm.val_dataloader()))
    assert x_train.shape[2] == x_valid.shape[2] == 22
    assert torch.equal(x_valid, data.valid.x[:8, :, :22])
    assert next(iter(dm.test_dataloader()))[0].shape[2] == 30


def test_kuramoto_like_layout_without_metadata_is_custom(tmp_path):
    """feat_ and edges_ files without our metadata are own data: all features are kept,
    with or without edges (issue 14 item 6; Kuramoto selection needs our metadata)."""
    rng = np.random.default_rng(0)
    for split in ("train", "valid", "test"):
        np.save(tmp_path / f"feat_{split}_k3.npy", rng.normal(size=(4, 3, 10, 4)))
        np.save(tmp_path / f"feat_{split}_g3.npy", rng.normal(size=(4, 3, 10, 4)))
        np.save(tmp_path / f"edges_{split}_k3.npy", np.ones((4, 3, 3)))
    k = load_dataset(tmp_path, "k3")
    assert k.system == "custom" and k.n_features == 4 and k.has_edges
    g = load_dataset(tmp_path, "g3")
    assert g.system == "custom" and g.n_features == 4 and not g.has_edges
