"""Growing the batch instead of decaying the rate (train.max_batch_size, schedule.py)."""

import csv

import pytest
import torch

from nri.config import ConfigError, resolve
from nri.data.dataset import load_dataset
from nri.training.fit import fit
from nri.training.schedule import Anneal, anneal_of, lr_factor, n_decays


def test_without_max_batch_the_schedule_is_the_step_decay():
    a = Anneal(step=2, gamma=0.5, start=6, batch=16)
    assert [a.batch_size(e) for e in range(14)] == [16] * 14
    assert [a.lr_factor(e) for e in range(14)] == [
        lr_factor(e, 2, 0.5, 6) for e in range(14)
    ]
    assert [n_decays(e, 2, 6) for e in range(10)] == [0] * 6 + [1, 1, 2, 2]


def test_the_first_decays_double_the_batch_then_the_rate_falls():
    # halvings at epochs 6, 8, 10, 12, ...; 16 -> 32 -> 64 (max), then the rate (by hand)
    a = Anneal(step=2, gamma=0.5, start=6, batch=16, max_batch=64)
    assert a.batch_decays == 2 and a.largest_batch == 64
    want_b = [16] * 6 + [32, 32, 64, 64, 64, 64, 64, 64]
    want_lr = [1.0] * 10 + [0.5, 0.5, 0.25, 0.25]
    assert [a.batch_size(e) for e in range(14)] == want_b
    assert [a.lr_factor(e) for e in range(14)] == want_lr
    # a limit between two doublings: 16 -> 32, 48 is not reached
    b = Anneal(step=2, gamma=0.5, start=6, batch=16, max_batch=48)
    assert b.largest_batch == 32 and b.lr_factor(8) == 0.5
    # gamma 1/4 quadruples; the reference quirk (shift) moves it one epoch early
    c = Anneal(step=3, gamma=0.25, start=None, batch=8, max_batch=128, shift=1)
    assert [c.batch_size(e) for e in range(9)] == [8, 8, 32, 32, 32, 128, 128, 128, 128]
    assert c.lr_factor(8) == 0.25


@pytest.mark.parametrize(
    "overrides, match",
    [
        (["train.max_batch_size=8"], "below train.batch_size"),
        (["train.max_batch_size=64", "model.lr_decay_gamma=0.3"], "whole number"),
        (["train.max_batch_size=0"], "max_batch_size"),
    ],
)
def test_impossible_schedules_are_refused(overrides, match):
    with pytest.raises(ConfigError, match=match):
        anneal_of(resolve(["springs5", "cpu"], overrides))


def test_reference_preset_keeps_the_batch():
    cfg = resolve(["springs5", "cpu", "anneal"], ["train.max_batch_size=64"])
    assert anneal_of(cfg).max_batch == 64
    ref = resolve(["springs5", "cpu", "anneal", "reference"], [])
    assert ref.train.max_batch_size is None


def test_a_run_takes_fewer_larger_steps_after_the_first_decay(tmp_path, reference_dir):
    # 64 training samples, batch 8 -> 16 -> 32: 8, 4, 2, 2 steps in epochs 1 .. 4
    sets = ["train.n_train=64", "train.n_valid=16", "train.progress_bar=false",
            "train.epochs=4", "train.batch_size=8", "train.max_batch_size=32",
            "model.lr_decay_start=1", "model.lr_decay_step=1", "train.threads=1",
            "train.precision=32-true", "model.encoder_hidden_dim=8",
            "model.decoder_hidden_dim=8"]  # fmt: skip
    cfg = resolve(["springs5", "cpu"], sets)
    data = load_dataset(reference_dir, "springs5")
    res = fit(cfg, tmp_path / "run", data=data)
    rows = list(csv.DictReader(open(res.run_dir / "logs" / "metrics.csv")))
    steps = {int(r["epoch"]): int(r["step"]) for r in rows if r.get("val/acc")}
    assert [steps[e] for e in range(4)] == [7, 11, 13, 15]  # last step of each epoch
    # the rate: halved only after the batch reached 32 (the 3rd and 4th decays)
    ckpt = torch.load(res.run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    done = ckpt["lr_schedulers"][0]["last_epoch"]
    lr = ckpt["optimizer_states"][0]["param_groups"][0]["lr"]
    assert done in (3, 4)
    assert lr == pytest.approx(cfg.model_config.lr * {3: 0.5, 4: 0.25}[done])
