"""Training end to end: learning, resume, schedule, checkpoints, evaluation (DDP: test_ddp.py)."""

import pytest
import torch

from nri.config import resolve
from nri.data.dataset import load_dataset
from nri.evaluate import evaluate_run
from nri.training.checkpoint import CheckpointError, safe_load
from nri.training.fit import RunError, fit, load_run
from nri.training.module import NRILightning

QUIET = ["train.progress_bar=false", "train.threads=2"]


@pytest.fixture(scope="module")
def springs(reference_dir):
    return load_dataset(reference_dir, "springs5")


def _cfg(*overrides):
    return resolve(["springs5", "cpu"], [*QUIET, *overrides])


def _weights(run_dir, which="last"):
    return safe_load(run_dir / "checkpoints" / f"{which}.ckpt")["state_dict"]


def test_resumed_run_ends_with_identical_weights(tmp_path, springs):
    base = ["train.n_train=256", "train.n_valid=64", "train.batch_size=64"]
    fit(_cfg(*base, "train.epochs=3"), tmp_path / "full", data=springs)
    fit(_cfg(*base, "train.epochs=1"), tmp_path / "part", data=springs)
    fit(_cfg(*base, "train.epochs=3"), tmp_path / "part", data=springs, resume=True)
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    ma = evaluate_run(tmp_path / "full", springs, checkpoint="last", write=False)
    mb = evaluate_run(tmp_path / "part", springs, checkpoint="last", write=False)
    assert ma["mse"] == mb["mse"] and ma["acc"] == mb["acc"]


def test_run_directory_describes_itself(tmp_path, springs):
    cfg = _cfg("train.n_train=128", "train.n_valid=64", "train.epochs=1")
    res = fit(cfg, tmp_path / "run", data=springs)
    for name in ("config.yaml", "normalizer.json", "checkpoints/best.ckpt",
                 "checkpoints/last.ckpt", "logs/metrics.csv"):  # fmt: skip
        assert (res.run_dir / name).exists(), name
    run = load_run(res.run_dir)
    assert run.config.model_config == cfg.model_config
    assert run.normalizer == springs.normalizer
    metrics = evaluate_run(res.run_dir)  # data path recorded in the run
    assert set(metrics) >= {"acc", "acc_perm", "auroc", "asym", "mse_1", "mse_20"}
    assert len(metrics["mse"]) == 20 and (res.run_dir / "metrics.json").exists()
    with pytest.raises(RunError, match="already holds a run"):
        fit(cfg, res.run_dir, data=springs)
    with pytest.raises(RunError, match="model.tau was 0.5, now 0.3"):
        fit(
            _cfg("train.n_train=128", "model.tau=0.3"),
            res.run_dir,
            data=springs,
            resume=True,
        )


def test_evaluation_does_not_depend_on_batch_size(tmp_path, springs):
    cfg = _cfg("train.n_train=128", "train.n_valid=64", "train.epochs=1",
               "model.eval_graph=argmax")  # fmt: skip
    res = fit(cfg, tmp_path / "run", data=springs)
    a = evaluate_run(res.run_dir, springs, batch_size=7, write=False)
    b = evaluate_run(res.run_dir, springs, batch_size=200, write=False)
    assert a["acc"] == b["acc"] and a["acc_perm"] == b["acc_perm"]
    assert a["mse"] == pytest.approx(b["mse"], rel=1e-5)


def test_learning_rate_schedule_and_reference_quirk():
    for before, expected in (
        (False, [1, 1, 0.5, 0.5, 0.25]),
        (True, [1, 0.5, 0.5, 0.25, 0.25]),
    ):
        cfg = _cfg(
            "model.lr_decay_step=2", f"model.lr_step_before_epoch={str(before).lower()}"
        )
        module = NRILightning(cfg.to_dict())
        opts = module.configure_optimizers()
        opt, sched = opts["optimizer"], opts["lr_scheduler"]["scheduler"]
        lrs = []
        for _ in range(5):
            lrs.append(sched.get_last_lr()[0] / 5e-4)
            opt.step()  # no gradients: a no-op, keeps PyTorch's call-order check quiet
            sched.step()
        assert lrs == pytest.approx(expected)


def test_crafted_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("open('" + str(tmp_path / "pwned") + "', 'w').close()",))

    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": Evil()}, path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        safe_load(path)
    assert not (tmp_path / "pwned").exists()
    (tmp_path / "trunc.ckpt").write_bytes(path.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        safe_load(tmp_path / "trunc.ckpt")


@pytest.mark.slow
def test_short_training_learns_the_graph(tmp_path, springs):
    """1000 reference springs5 simulations, 8 epochs of the cpu recipe (batch 16,
    decoder window 21: 504 steps, about a minute on 2 cores): the edge accuracy leaves
    chance (0.5) within the first epochs and reaches about 0.85."""
    cfg = _cfg("train.epochs=8")
    res = fit(cfg, tmp_path / "run", data=springs)
    metrics = evaluate_run(res.run_dir, springs, write=False)
    assert metrics["acc"] > 0.7, metrics  # skip_first pins the types: raw accuracy
    assert metrics["auroc"] > 0.75
    assert metrics["mse_1"] < metrics["mse_20"]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, springs, monkeypatch):
    from nri.models.nri import NRI
    from nri.models.outputs import LossOutput
    from nri.training.module import NonFiniteLossError

    original = NRI.loss
    calls = {"n": 0}

    def poisoned(self, x, generator=None, edge_types=None):
        out = original(self, x, generator, edge_types)
        calls["n"] += 1
        if calls["n"] > 3:  # epoch 0 has 2 steps; poison the second step of epoch 1
            return LossOutput(out.loss * float("nan"), out.logs, out.logits)
        return out

    monkeypatch.setattr(NRI, "loss", poisoned)
    cfg = _cfg("train.n_train=128", "train.n_valid=64", "train.batch_size=64",
               "train.epochs=3")  # fmt: skip
    with pytest.raises(NonFiniteLossError, match="at epoch 1, step 3"):
        fit(cfg, tmp_path / "run", data=springs)
    last = safe_load(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert last["epoch"] == 0 and last["global_step"] == 2
    assert all(
        torch.isfinite(v).all()
        for v in last["state_dict"].values()
        if v.is_floating_point()
    )
