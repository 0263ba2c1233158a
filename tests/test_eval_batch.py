"""Evaluation batches sized from N (issue 16 item 2; nri.eval_batch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nri.config import ConfigError, resolve
from nri.eval_batch import (
    MAX_EVAL_BATCH,
    auto_eval_batch,
    eval_bytes_per_sample,
    resolve_eval_batch,
)
from nri.evaluate import evaluate_run
from nri.models import NRIConfig
from nri.models.configs import MPMConfig
from nri.sim.io import DatasetConfig, write_dataset
from nri.training.datamodule import NRIDataModule
from nri.training.fit import fit

GIB = 2**30
NS = (3, 5, 10, 11, 15, 20, 30, 50, 100, 150, 250)


@pytest.mark.parametrize("mc", [NRIConfig(), MPMConfig()])
def test_the_auto_batch_shrinks_as_n_grows(mc):
    sizes = [auto_eval_batch(mc, n, 2 * GIB) for n in NS]
    assert sizes[:3] == [MAX_EVAL_BATCH] * 3  # up to 10 objects: 256, as before
    assert all(a >= b for a, b in zip(sizes, sizes[1:], strict=False)), sizes
    assert sizes[-1] == 1 and min(sizes) >= 1
    assert auto_eval_batch(mc, 20, 2 * GIB) < auto_eval_batch(mc, 15, 2 * GIB)


def test_the_estimate_by_hand_and_what_it_depends_on():
    mc = NRIConfig()  # T = 49, decoder width 256: 4 B * 6 * 48 frames * E * 256
    assert eval_bytes_per_sample(mc, 50) == 4 * 6 * 48 * 2450 * 256
    # measured on the test protocol (docs/benchmarks.md): 0.48 GiB per sample at
    # N = 50 (NRI); the estimate stays above it
    assert eval_bytes_per_sample(mc, 50) / GIB == pytest.approx(0.673, abs=1e-3)
    assert auto_eval_batch(mc, 50, 2 * GIB) == 2
    knn = NRIConfig(candidates="knn", candidates_k=10)  # N k edges, not N (N - 1)
    assert eval_bytes_per_sample(knn, 100) == 4 * 6 * 48 * 1000 * 256
    assert auto_eval_batch(knn, 100, 2 * GIB) > auto_eval_batch(mc, 100, 2 * GIB)
    chunked = NRIConfig(edge_chunk=500)  # 500 slots at a time, + one of all edges
    assert eval_bytes_per_sample(chunked, 100) == 4 * 48 * 256 * (6 * 500 + 9900)
    small = NRIConfig(decoder_hidden_dim=64, n_timesteps=25)
    assert eval_bytes_per_sample(small, 50) == 4 * 6 * 24 * 2450 * 64
    assert auto_eval_batch(mc, 50, 8 * GIB) == 11  # the budget scales it


def test_the_config_keys_fix_or_budget_it():
    cfg = resolve(["springs5"], [])
    assert cfg.train.eval_batch_size == "auto" and cfg.train.eval_memory_gb == 2.0
    assert cfg.to_dict()["train"]["eval_batch_size"] == "auto"  # saved with the run
    fixed = resolve(["springs5"], ["train.eval_batch_size=7"])
    assert resolve_eval_batch(fixed.train, fixed.model_config, 250) == 7
    big = resolve(["springs5"], ["train.eval_memory_gb=8"])
    assert resolve_eval_batch(big.train, big.model_config, 50) == 11
    for bad in ("train.eval_batch_size=0", "train.eval_batch_size=big",
                "train.eval_memory_gb=0"):  # fmt: skip
        with pytest.raises(ConfigError, match="eval_"):
            resolve(["springs5"], [bad])


def test_validation_batches_are_bounded_by_the_evaluation_batch(tmp_path: Path):
    write_dataset(DatasetConfig(n_objects=3, n_train=4, n_valid=4, n_test=2), tmp_path)
    dm = NRIDataModule(tmp_path, "springs3", batch_size=16, val_batch_size=128)
    assert dm.val_batch() == 128  # no bound: as before
    dm = NRIDataModule(tmp_path, "springs3", batch_size=16, max_val_batch=3)
    assert dm.val_batch() == 3


@pytest.fixture(scope="module")
def run12(tmp_path_factory) -> Path:
    """A 12-object NRI run (small widths) trained for one epoch on 8 samples."""
    root = tmp_path_factory.mktemp("eval12")
    write_dataset(
        DatasetConfig(n_objects=12, n_train=8, n_valid=4, n_test=7, seed=2),
        root / "data",
    )
    cfg = resolve(["springs5"], [
        "data.suffix=springs12", f"data.path={root / 'data'}", "train.epochs=1",
        "train.batch_size=4", "model.encoder_hidden_dim=16",
        "model.decoder_hidden_dim=16", "train.progress_bar=false",
        "train.accelerator=cpu", "train.devices=1", "train.eval_memory_gb=0.007",
    ])  # fmt: skip
    return fit(cfg, root / "run").run_dir


def test_metrics_at_the_auto_batch_equal_those_at_a_fixed_batch(run12: Path):
    """N = 12 with a 7 MB budget: auto takes 3 samples per batch (batches 3, 3, 1);
    the edge counts and the MSE sums are the same as in one batch of 7 or 7 of 1."""
    from nri.training.run_dir import read_run_config

    cfg = read_run_config(run12)
    per = eval_bytes_per_sample(cfg.model_config, 12)
    assert per == 4 * 6 * 48 * 132 * 16
    assert resolve_eval_batch(cfg.train, cfg.model_config, 12) == 3
    auto = evaluate_run(run12, write=False)
    for fixed in (1, 7, 256):
        other = evaluate_run(run12, batch_size=fixed, write=False)
        for key in ("acc", "acc_perm", "auroc", "asym", "n_samples", "perm_mapping"):
            assert auto[key] == other[key], (key, fixed)
        for key in ("mse_1", "mse_10", "mse_20", "mse_1step"):
            assert auto[key] == pytest.approx(other[key], rel=1e-10), (key, fixed)
