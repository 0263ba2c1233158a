"""Models as compositions (issue 15): every registered encoder goes with every
registered decoder and prior, in both config families; refused combinations are one
line; the model package does not import the baselines."""

import subprocess
import sys

import pytest
import torch

from nri.config import ConfigError, resolve
from nri.models import MPMConfig, NRIConfig
from nri.models.parts import DECODERS, ENCODERS, PRIORS, SCHEMES
from nri.models.vae import RelationalVAE
from nri.registry import MODELS

B, N, T, F, H = 2, 4, 14, 4, 8
E = N * (N - 1)
SMALL = {"n_timesteps": T, "test_horizon": 3, "pred_steps": 4, "val_pred_steps": 4}
FAMILIES = {
    "nri": {**SMALL, "encoder_hidden_dim": H, "decoder_hidden_dim": H},
    "nri_mpm": {**SMALL, "hidden_dim": H},
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _step(model: RelationalVAE) -> None:
    x = torch.randn(B, N, T, F, generator=_gen(0))
    labels = torch.randint(0, 2, (B, E), generator=_gen(1))
    out = model.train().loss(x, _gen(2), labels)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    out.loss.backward()
    for part in (model.encoder, model.decoder):
        if part is None:
            continue
        # every part learns (with skip_first some decoder weights of type 0 get none)
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
    if model.encoder is not None:
        assert all(p.grad is not None for p in model.encoder.parameters())
    model.eval()
    with torch.no_grad():
        val = model.validation_loss(x, _gen(3), labels)
        assert torch.isfinite(val.loss)
        ev = model.evaluate_batch(torch.randn(B, N, T + 4, F, generator=_gen(4)),
                                  _gen(5), labels)  # fmt: skip
    assert ev.sq_err.shape == (3,)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("decoder", sorted(DECODERS))
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_every_encoder_with_every_decoder_trains_one_step(family, encoder, decoder):
    cls, config_cls = MODELS[family]
    config = config_cls(**FAMILIES[family], encoder=encoder, decoder=decoder,
                        priors=tuple(PRIORS), skip_first=True)  # fmt: skip
    torch.manual_seed(0)
    model = cls(config)
    assert isinstance(model, RelationalVAE)
    assert {p.name for p in model.priors} == {"kl", "sym", "degree"}
    _step(model)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_every_scheme_with_every_encoder(scheme, encoder):
    config = MPMConfig(**FAMILIES["nri_mpm"], encoder=encoder, decoder="mlp",
                       scheme=scheme)  # fmt: skip
    torch.manual_seed(0)
    model = MODELS["nri_mpm"][0](config)
    assert (model.encoder is None) == (scheme == "true_graph")
    assert (model.decoder is None) == (scheme == "supervised")
    _step(model)


def test_presets_name_their_parts():
    parts = {
        "springs5": ("mlp", "mlp", ("kl",)),
        "kuramoto5": ("cnn", "mlp", ("kl",)),
        "mpm_springs5": ("relation_interaction", "st", ("kl", "symmetric_kl")),
        "mpm_kuramoto5": (
            "relation_interaction",
            "st_attention",
            ("kl", "symmetric_kl"),
        ),
        "sugar_springs5": ("mlp", "mlp", ("kl", "degree")),
    }
    for preset, expected in parts.items():
        c = resolve([preset], []).model_config
        assert (c.encoder, c.decoder, c.priors) == expected, preset
    # an ablation that mixes families is a preset plus overrides
    c = resolve(
        ["mpm_springs5"], ["model.decoder=rnn", "model.priors=[kl, degree]"]
    ).model_config
    assert (c.encoder, c.decoder, c.priors) == ("relation_interaction", "rnn",
                                                ("kl", "degree"))  # fmt: skip


@pytest.mark.parametrize(
    ("preset", "override", "message"),
    [
        ("springs5", "model.encoder=transformer", "model.encoder must be one of"),
        ("springs5", "model.decoder=lstm", "model.decoder must be one of"),
        ("springs5", "model.priors=[kl, sparsity]", "unknown prior 'sparsity'"),
        ("springs5", "model.priors=[kl, kl]", "names a prior twice"),
        ("charged5", "model.dynamic_graph=true", "dynamic_graph needs the RNN decoder"),
        ("mpm_charged5", "model.encoder=mlp",
         "model.reducer='cnn' is a setting of the relation_interaction encoder"),
        ("mpm_springs5", "model.ri_sequence=attention", None),  # allowed
        ("mpm_wo_ri", "model.encoder=cnn",
         "model.relation_interaction='none' is a setting of the relation_interaction"),
        ("mpm_springs5", "model.st_parts=edge", None),  # allowed with st
        ("springs5", "model.st_parts=edge", "unknown model setting"),  # NRI has none
        ("sugar_springs5", "model.degree_lambda=-1", "degree_lambda must be >= 0"),
    ],
)  # fmt: skip
def test_refused_combinations_are_one_line(preset, override, message):
    if message is None:
        resolve([preset], [override])
        return
    with pytest.raises(ConfigError, match=message) as err:
        resolve([preset], [override])
    assert "\n" not in str(err.value)


def test_st_parts_needs_the_st_decoder():
    with pytest.raises(
        ConfigError, match="st_parts='edge' is a setting of the st"
    ) as e:
        MPMConfig(decoder="gnn", st_parts="edge")
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match="degree prior needs n_edge_types >= 2"):
        NRIConfig(n_edge_types=1, priors=("kl", "degree"))


def test_the_model_package_does_not_import_the_baselines():
    code = ("import sys, nri.models, nri.models.parts; "
            "print(sorted(m for m in sys.modules if m.startswith('nri.baselines')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("scheme", ["supervised", "true_graph"])
def test_nri_schemes_are_nri_with_a_scheme(scheme):
    """``nri_supervised`` / ``nri_true_graph`` = ``nri`` with ``model.scheme``: the same
    weights from the same seed, the same loss."""
    a = resolve(["springs5", f"nri_{scheme}"], []).model_config
    b = resolve(["springs5"], [f"model.scheme={scheme}"]).model_config
    assert a.scheme == b.scheme == scheme
    models = []
    for name, config in ((f"nri_{scheme}", a), ("nri", b)):
        torch.manual_seed(0)
        models.append(MODELS[name][0](config))
    sa, sb = (m.state_dict() for m in models)
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    x = torch.randn(B, N, 49, F, generator=_gen(0))
    labels = torch.randint(0, 2, (B, E), generator=_gen(1))
    la, lb = (m.loss(x, _gen(2), labels).loss for m in models)
    assert torch.equal(la, lb)
    with pytest.raises(ConfigError, match="use model.name=nri for another scheme"):
        resolve(["springs5", f"nri_{scheme}"], ["model.scheme=vae"])
