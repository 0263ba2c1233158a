"""The training recipe's switches: precision "auto", the decoder window, box augmentation."""

import dataclasses

import numpy as np
import pytest
import torch

from nri import rollout as ro
from nri.config import ConfigError, resolve
from nri.data.augment import BoxSymmetry
from nri.data.dataset import LoadedData, Split, load_dataset
from nri.data.normalize import Normalizer
from nri.losses import gaussian_nll
from nri.models.configs import MPMConfig, NRIConfig
from nri.models.mpm import NRIMPM
from nri.models.nri import NRI
from nri.training import hardware
from nri.training.fit import check_compatible, fit


# ------------------------------------------------------------------ precision "auto"
@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_follows_the_cpu(monkeypatch, native):
    monkeypatch.setattr(hardware, "cpu_has_native_bf16", lambda: native)
    want = "bf16-mixed" if native else "32-true"
    assert hardware.resolve_precision("auto", "cpu") == want
    assert hardware.resolve_precision("32-true", "cpu") == "32-true"
    assert hardware.resolve_precision("bf16-mixed", "cpu") == "bf16-mixed"


def test_cpu_flags_are_read_from_proc_cpuinfo():
    flags = open("/proc/cpuinfo").read()
    has = "avx512_bf16" in flags or "amx_bf16" in flags
    assert hardware.cpu_has_native_bf16() == has


def test_cpu_preset_asks_for_auto_and_a_run_records_what_it_used(
    tmp_path, reference_dir
):
    quiet = ["train.n_valid=16", "train.progress_bar=false"]
    cfg = resolve(["springs5", "cpu"], ["train.epochs=1", "train.n_train=32", *quiet])
    assert cfg.train.precision == "auto"
    res = fit(cfg, tmp_path / "run", data=load_dataset(reference_dir, "springs5"))
    text = (res.run_dir / "config.yaml").read_text()
    used = hardware.resolve_precision("auto", "cpu")
    assert f"precision: {used}" in text and "precision: auto" not in text


# ------------------------------------------------------------------ decoder window
def test_random_window_bounds_scale_and_seed():
    x = torch.arange(2 * 3 * 49 * 1, dtype=torch.float32).view(2, 3, 49, 1)
    starts = set()
    for seed in range(200):
        w, scale = ro.random_window(x, 21, torch.Generator().manual_seed(seed))
        assert w.shape == (2, 3, 21, 1) and scale == 48 / 20
        start = int(w[0, 0, 0, 0])
        assert torch.equal(w, x[:, :, start : start + 21])
        starts.add(start)
    assert starts == set(range(29))  # every start 0 .. 28 occurs
    same = [ro.random_window(x, 21, torch.Generator().manual_seed(7))[0] for _ in "ab"]
    assert torch.equal(*same)
    assert ro.random_window(x, None)[0] is x and ro.random_window(x, 49)[1] == 1.0
    with pytest.raises(ValueError, match="at least 2 frames"):
        ro.random_window(x, 1)


def test_nri_loss_on_a_decoder_window_matches_a_hand_computation():
    torch.manual_seed(0)
    model = NRI(NRIConfig(skip_first=True, decoder_window=21)).eval()  # eval: BN fixed
    x = torch.rand(3, 5, 49, 4) * 2 - 1
    out = model.loss(x, generator=torch.Generator().manual_seed(3))
    # the same draws by hand: Gumbel noise first, then the window's start
    gen = torch.Generator().manual_seed(3)
    logits, q = model.encode(x)
    z = model.sample_edges(logits, False, gen)
    start = int(torch.randint(0, 29, (1,), generator=gen))
    xw = x[:, :, start : start + 21]
    nll = gaussian_nll(model.predict(xw, z, 10), xw[:, :, 1:]) * 48 / 20
    torch.testing.assert_close(out.logs["nll"], nll)
    torch.testing.assert_close(out.loss, nll + model.priors[0](logits, q))  # kl prior
    # validation always decodes the whole window
    full = dataclasses.replace(model.config, decoder_window=None)
    ref = NRI(full).eval()
    ref.load_state_dict(model.state_dict())
    gen_a, gen_b = (torch.Generator().manual_seed(5) for _ in "ab")
    with torch.no_grad():
        va = model.validation_loss(x, gen_a)
        vb = ref.validation_loss(x, gen_b)
    torch.testing.assert_close(va.loss, vb.loss)


def test_mpm_loss_on_a_decoder_window_costs_fewer_frames():
    torch.manual_seed(0)
    cfg = MPMConfig(hidden_dim=16, decoder_window=11)
    model = NRIMPM(cfg)
    x = torch.rand(2, 4, 49, 4) * 2 - 1
    out = model.loss(x, generator=torch.Generator().manual_seed(1))
    out.loss.backward()
    assert torch.isfinite(out.loss)
    assert out.logs["mse"] > 0
    with pytest.raises(ValueError, match="decoder_window must be at least"):
        MPMConfig(decoder_window=5)
    # longer than the window (short own data under --preset cpu): the whole window
    short = NRI(NRIConfig(n_timesteps=12, pred_steps=5, decoder_window=21))
    xs = torch.rand(2, 4, 12, 4)
    a = short.loss(xs, generator=torch.Generator().manual_seed(0))
    b = NRI(dataclasses.replace(short.config, decoder_window=None))
    b.load_state_dict(short.state_dict())
    torch.testing.assert_close(
        a.loss, b.loss(xs, generator=torch.Generator().manual_seed(0)).loss
    )


# ------------------------------------------------------------------ box augmentation
def test_box_augmentation_is_refused_for_data_without_the_box(reference_dir):
    springs = load_dataset(reference_dir, "springs5")
    cfg = resolve(["springs5"], ["train.augment=box"])
    check_compatible(cfg, springs)  # springs: accepted
    x = springs.train.x[:8]
    norm = Normalizer.fit_per_feature(np.asarray(x), ("a", "b", "c", "d"))
    other = LoadedData(
        splits={"train": Split(x, springs.train.edges[:8]),
                "valid": Split(x, springs.train.edges[:8])},
        normalizer=norm, system="kuramoto", suffix="kuramoto5",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="train.augment=box needs springs or charged"):
        check_compatible(cfg, other)


def test_training_step_sees_augmented_samples(tmp_path, reference_dir, monkeypatch):
    springs = load_dataset(reference_dir, "springs5")
    seen = []
    real = BoxSymmetry.random

    def spy(self, x, generator=None):
        out = real(self, x, generator)
        seen.append((x.clone(), out.clone()))
        return out

    monkeypatch.setattr(BoxSymmetry, "random", spy)
    sizes = ["train.n_train=16", "train.n_valid=16", "train.batch_size=16"]
    cfg = resolve(
        ["springs5", "cpu"],
        ["train.augment=box", "train.epochs=1", "train.progress_bar=false", *sizes],
    )
    fit(cfg, tmp_path / "run", data=springs)
    assert len(seen) == 1
    before, after = seen[0]
    assert before.shape == after.shape and not torch.equal(before, after)
    # distances between objects are kept (one shared position scale)
    d0 = torch.cdist(before[..., :2].flatten(2), before[..., :2].flatten(2))
    d1 = torch.cdist(after[..., :2].flatten(2), after[..., :2].flatten(2))
    torch.testing.assert_close(d0, d1, atol=1e-4, rtol=1e-4)


def test_reference_preset_switches_the_cpu_recipe_back():
    fast = resolve(["springs5", "cpu"], [])
    assert fast.train.batch_size == 16 and fast.model_config.decoder_window == 21
    ref = resolve(["springs5", "cpu", "reference"], [])
    assert ref.train.batch_size == 128 and ref.model_config.decoder_window is None
    assert ref.train.augment == "none" and not ref.train.shuffle
    assert ref.model_config.edge_to_node_norm == "n_nodes"
    paper = resolve(["mpm_charged5"], [])  # paper-scale presets keep the papers' recipe
    assert paper.train.batch_size == 128 and paper.model_config.decoder_window is None


# ------------------------------------------------------ annealing and validation batch
def test_lr_factor_default_is_step_lr_and_start_moves_the_first_decay():
    from nri.training.module import lr_factor

    # start=None is StepLR: gamma ** (epoch // step), the reference schedule
    assert all(lr_factor(e, 200, 0.5) == 0.5 ** (e // 200) for e in range(1000))
    assert all(lr_factor(e, 3, 0.1) == 0.1 ** (e // 3) for e in range(30))
    # the anneal preset: halved at epoch 6, then every 2 epochs (hand-written)
    want = [1, 1, 1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625]
    assert [lr_factor(e, 2, 0.5, 6) for e in range(13)] == want
    assert [lr_factor(e, 2, 0.5, 0) for e in range(4)] == [0.5, 0.5, 0.25, 0.25]


def test_the_optimiser_follows_the_annealing_schedule():
    from nri.training.module import NRILightning

    cfg = resolve(["springs5", "cpu", "anneal"], [])
    opt_cfg = NRILightning(cfg.to_dict()).configure_optimizers()
    opt, sched = opt_cfg["optimizer"], opt_cfg["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    base = cfg.model_config.lr
    assert lrs == pytest.approx([base] * 6 + [base / 2] * 2 + [base / 4] * 2)


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_lr_decay_start_must_be_an_epoch_count(bad):
    with pytest.raises(ConfigError, match="lr_decay_start"):
        resolve(["springs5"], [f"model.lr_decay_start={str(bad).lower()}"])


def test_anneal_preset_and_the_switch_back():
    fast = resolve(["springs5", "cpu", "anneal"], [])
    mc = fast.model_config
    assert mc.decoder_window is None and (mc.lr_decay_step, mc.lr_decay_start) == (2, 6)
    assert fast.train.val_batch_size == 128
    ref = resolve(["springs5", "cpu", "anneal", "reference"], [])
    assert ref.model_config.lr_decay_step == 200
    assert ref.model_config.lr_decay_start is None
    assert ref.train.val_batch_size is None and ref.train.batch_size == 128


def test_validation_batch_size_reaches_the_loader(reference_dir):
    from nri.training.datamodule import NRIDataModule

    data = load_dataset(reference_dir, "springs5")
    dm = NRIDataModule(data, batch_size=4, n_valid=40, val_batch_size=32)
    assert dm.val_dataloader().batch_size == 32
    assert dm.train_dataloader().batch_size == 4
    assert NRIDataModule(data, batch_size=4).val_dataloader().batch_size == 4


def test_skip_first_preset_silences_type_0_of_nri_mpm_on_springs():
    plain = resolve(["mpm_springs5", "cpu"], [])
    silent = resolve(["mpm_springs5", "cpu", "skip_first"], [])
    assert (
        plain.model_config.skip_first is False
        and silent.model_config.skip_first is True
    )
    assert (
        dataclasses.replace(silent.model_config, skip_first=False) == plain.model_config
    )
    assert silent.train == plain.train  # a model setting only, the recipe unchanged
