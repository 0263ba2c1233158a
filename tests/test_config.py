"""Presets, typed overrides and the resolved run configuration."""

import pytest

from nri.config import (
    ConfigError,
    TrainConfig,
    from_dict,
    parse_override,
    preset_names,
    resolve,
)


def test_every_preset_resolves():
    names = preset_names()
    assert {
        "springs5",
        "charged5",
        "kuramoto5",
        "springs10",
        "cpu",
        "reference",
    } <= set(names)
    complete = ("correlation_", "static_", "lstm_", "sugar_", "supervised_")
    complete += ("true_graph_", "modular_meta_")
    overlays = {"nri_supervised", "nri_true_graph"}  # NRI baselines: name = model
    for name in names:
        if name.startswith(complete):
            continue  # baseline presets of other models: tests/test_baselines.py
        cfg = resolve(["springs5", name], [])
        expected = "nri_mpm" if name.startswith("mpm_") else "nri"
        assert cfg.model == (name if name in overlays else expected)


def test_presets_merge_in_order_and_overrides_win():
    cfg = resolve(["kuramoto5", "cpu"], ["train.epochs=3", "model.tau=0.25"])
    assert cfg.model_config.encoder == "cnn" and cfg.model_config.n_features == 3
    assert cfg.train.precision == "auto" and cfg.train.epochs == 3
    assert cfg.model_config.tau == 0.25
    assert cfg.data.suffix == "kuramoto5"


def test_reference_preset_restores_quirks():
    mc = resolve(["springs5", "reference"], []).model_config
    assert mc.edge_to_node_norm == "n_nodes" and mc.val_pred_steps == 1
    assert mc.lr_step_before_epoch and not mc.kl_add_const


def test_exponent_without_a_dot_is_a_number(tmp_path):
    # YAML 1.1 reads 1e-8 as the string '1e-8'; a float setting takes it as 1e-8
    cfg = resolve(
        ["springs5", "mpm_springs5"], ["model.adam_eps=1e-8", "model.lr=5E-4"]
    )
    assert cfg.model_config.adam_eps == 1e-8 and cfg.model_config.lr == 5e-4
    preset = tmp_path / "mine.yaml"
    preset.write_text("model:\n  tau: 25e-2\n  lr: -1e-3\n")
    with pytest.raises(ConfigError, match=r"lr must be > 0, got -0.001"):
        resolve(["springs5", str(preset)], [])
    assert (
        resolve(["springs5", str(preset)], ["model.lr=1e-3"]).model_config.tau == 0.25
    )
    with pytest.raises(ConfigError, match="train.epochs must be an integer"):
        resolve(["springs5"], ["train.epochs=1e1"])  # integers stay strict


def test_round_trip_through_dict():
    cfg = resolve(["charged5", "cpu"], ["model.prior=[0.9, 0.1]"])
    again = from_dict(cfg.to_dict())
    assert again == cfg
    assert again.model_config.prior == (0.9, 0.1)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.epochs=ten", "train.epochs must be an integer"),
        ("train.epochs=0", "train.epochs must be >= 1"),
        ("model.skip_first=maybe", "model.skip_first must be true or false"),
        ("model.encoder=transformer", "model.encoder must be one of"),
        ("model.hidden=3", "unknown model setting"),
        ("train.precision=fp8", "train.precision must be one of"),
        ("epochs=3", "section.key"),
        ("train.epochs", "section.key=value"),
        ("optim.lr=1", "unknown config section"),
        ("model.lr=1e-3x", "model.lr must be a number"),
        ("model.lr=nan", "model.lr must be a number"),
    ],
)
def test_bad_overrides_are_one_clear_line(override, message):
    with pytest.raises(ConfigError, match=message):
        resolve(["springs5"], [override])


def test_unknown_preset_and_model():
    with pytest.raises(ConfigError, match="unknown preset 'springs7'"):
        resolve(["springs7"], [])
    with pytest.raises(ConfigError, match="unknown model 'gpt'"):
        resolve(["springs5"], ["model.name=gpt"])


def test_parse_override_types():
    assert parse_override("train.threads=2") == {"train": {"threads": 2}}
    assert parse_override("train.threads=null") == {"train": {"threads": None}}
    assert TrainConfig(n_train=None).n_train is None
