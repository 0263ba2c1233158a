"""Golden values of every trainable preset (issue 15, "must not change").

For each case (a list of presets plus tiny-size overrides) on a tiny fixed data set:

* ``step``: the training loss, the validation loss and the gradient norm of one training
  step from a fixed seed (the LightningModule's model, built as ``nri train`` builds
  it), and the sorted state_dict keys with their shapes (checkpoint compatibility);
* ``run``: the test metrics of a 2-epoch run through :func:`nri.training.fit.fit` and
  :func:`nri.evaluate.evaluate_run`.

Floats are stored exactly (``float.hex``). ``python tests/golden.py --write`` rewrites
``tests/golden_values.json``; ``tests/test_golden.py`` compares bit for bit against the
file of this CPU type (:func:`golden_file`: other CPU types round differently, and
``--write-cpu`` on the reference code records theirs).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from nri.config import resolve
from nri.data.dataset import LoadedData, Split
from nri.data.normalize import Normalizer
from nri.evaluate import evaluate_run
from nri.training.fit import fit
from nri.training.module import NRILightning, step_seed

GOLDEN = Path(__file__).with_name("golden_values.json")


def cpu_type() -> str:
    """The CPU vendor and its widest matrix instructions (``GenuineIntel-amx_bf16``,
    ``AuthenticAMD-avx512_bf16``, ...): oneDNN and MKL choose their kernels by these,
    and other kernels round the last bits of a sum differently, so golden values are
    bit for bit only on the CPU type that wrote them."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine() or "unknown"
    vendor = re.search(r"vendor_id\s*:\s*(\S+)", text)
    flags_line = re.search(r"flags\s*:\s*(.*)", text)
    flags = set(flags_line.group(1).split()) if flags_line else set()
    isa = next(
        (f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags),
        "base",
    )
    return f"{vendor.group(1) if vendor else 'unknown'}-{isa}"


def cpu_file(stem: str) -> Path:
    """``tests/<stem>.<cpu_type>.json``: a recording made on this CPU type."""
    return GOLDEN.with_name(f"{stem}.{cpu_type()}.json")


def golden_file() -> Path:
    """The golden values for this CPU type: ``golden_values.<cpu_type>.json`` where one
    was recorded (by the reference code, ``--write-cpu``), else the first recording,
    ``golden_values.json`` (2026-12-03)."""
    path = cpu_file("golden_values")
    return path if path.exists() else GOLDEN


def old_run_file() -> Path | None:
    """``golden_old_runs.<cpu_type>.json``: the test metrics the pre-refactor code gave
    for the checkpoints of :data:`OLD_RUNS` on this CPU type (None: none recorded;
    then the first recording's ``run`` values are those)."""
    path = cpu_file("golden_old_runs")
    return path if path.exists() else None


N_OBJECTS, T_TRAIN, T_TEST, N_SAMPLES = 5, 16, 20, 6
QUIET = ["train.progress_bar=false", "train.epochs=2", "train.batch_size=3",
         "train.val_batch_size=null", "train.precision=32-true",
         "train.accelerator=cpu", "train.devices=1"]  # fmt: skip
# tiny sizes, per model family (every field exists in the family's config)
NRI_SIZES = ["model.n_timesteps=16", "model.test_horizon=3",
             "model.encoder_hidden_dim=16", "model.decoder_hidden_dim=16",
             "model.pred_steps=5", "model.val_pred_steps=5"]  # fmt: skip
MPM_SIZES = ["model.n_timesteps=16", "model.test_horizon=3", "model.hidden_dim=16",
             "model.pred_steps=5", "model.val_pred_steps=5"]  # fmt: skip
LSTM_SIZES = ["model.n_objects=5", "model.n_timesteps=16", "model.test_horizon=3",
              "model.hidden_dim=8", "model.pred_steps=5",
              "model.val_pred_steps=5"]  # fmt: skip
CLOSED_SIZES = ["model.n_timesteps=16", "model.test_horizon=3"]
SIZES = {"nri": NRI_SIZES, "sugar": NRI_SIZES, "nri_supervised": NRI_SIZES,
         "nri_true_graph": NRI_SIZES, "nri_mpm": MPM_SIZES, "lstm": LSTM_SIZES,
         "correlation": CLOSED_SIZES, "static": CLOSED_SIZES}  # fmt: skip

DATA_SETS = [
    "springs5",
    "springs10",
    "charged5",
    "charged10",
    "kuramoto5",
    "kuramoto10",
]
FAMILIES = ["", "mpm_", "sugar_", "supervised_", "true_graph_", "correlation_",
            "static_", "lstm_"]  # fmt: skip
ABLATIONS = ["mpm_hard_sym", "mpm_supervised", "mpm_true_graph", "mpm_wo_inter_ri",
             "mpm_wo_intra_ri", "mpm_wo_ri", "mpm_wo_st", "mpm_wo_sym"]  # fmt: skip


def cases() -> dict[str, tuple[list[str], list[str]]]:
    """Case name -> (presets, extra overrides)."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for fam in FAMILIES:
        for ds in DATA_SETS:
            out[fam + ds] = ([fam + ds], [])
    for abl in ABLATIONS:
        out[f"mpm_charged5+{abl}"] = (["mpm_charged5", abl], [])
    out["springs5+nri_supervised"] = (["springs5", "nri_supervised"], [])
    out["springs5+nri_true_graph"] = (["springs5", "nri_true_graph"], [])
    out["springs5+reference"] = (["springs5", "reference"], [])
    out["springs5+cpu"] = (["springs5", "cpu"], [])
    out["springs5+anneal"] = (["springs5", "cpu", "anneal"], [])
    out["mpm_springs5+reference"] = (
        ["mpm_springs5"], ["model.kl_add_const=false", "model.val_pred_steps=1",
                           "model.lr_step_before_epoch=true", "train.shuffle=false"],
    )  # fmt: skip
    out["mpm_charged5+cpu"] = (["mpm_charged5", "cpu"], [])
    out["springs5+rnn"] = (["springs5"], ["model.decoder=rnn"])
    out["springs5+rnn+dynamic"] = (
        ["springs5"], ["model.decoder=rnn", "model.dynamic_graph=true",
                       "model.eval_graph=argmax"],
    )  # fmt: skip
    out["springs5+prior"] = (["springs5"], ["model.prior=[0.9, 0.1]"])
    out["mpm_springs5+attention"] = (["mpm_springs5"], ["model.ri_sequence=attention"])
    out["mpm_springs5+transformer"] = (
        ["mpm_springs5"], ["model.ri_sequence=transformer"],
    )  # fmt: skip
    out["mpm_springs5+quirks"] = (
        ["mpm_springs5"], ["model.inter_only_reference=true",
                           "model.relation_interaction=inter", "model.ri_output=mlp",
                           "model.eval_encode_twice=true", "model.loss_scale=1e-5",
                           "model.st_parts=edge", "model.hard_sym=true",
                           "model.hard_sym_shared_sample=false"],
    )  # fmt: skip
    out["mpm_springs5+supervised_double_softmax"] = (
        ["mpm_springs5", "mpm_supervised"], ["model.supervised_double_softmax=true"],
    )  # fmt: skip
    out["sugar_springs5+no_degree"] = (["sugar_springs5"], ["model.degree_lambda=0"])
    return out


def tiny_data(system: str, n_features: int) -> LoadedData:
    """A fixed-seed data set: N=5 objects, 6 samples per split, 16 (train, valid) and
    20 (test) frames, random edge labels in {0, 1} (already normalised)."""
    rng = np.random.RandomState(1234)
    e = N_OBJECTS * (N_OBJECTS - 1)
    splits = {}
    for split, frames in (("train", T_TRAIN), ("valid", T_TRAIN), ("test", T_TEST)):
        x = rng.uniform(-1, 1, (N_SAMPLES, N_OBJECTS, frames, n_features))
        x = np.cumsum(x * 0.1, axis=2).clip(-1, 1).astype(np.float32)
        edges = rng.randint(0, 2, (N_SAMPLES, e)).astype(np.int64)
        splits[split] = Split(torch.from_numpy(x), torch.from_numpy(edges))
    if system in ("springs", "charged"):
        norm = Normalizer.fit_particles(np.ones((2, 2)) * [[-1], [1]],
                                        np.ones((2, 2)) * [[-1], [1]])  # fmt: skip
    else:
        names = tuple(f"f{i}" for i in range(n_features))
        norm = Normalizer.fit_per_feature(
            np.stack([-np.ones(n_features), np.ones(n_features)]), names
        )
    suffix = {"springs": "springs5", "charged": "charged5"}.get(system, "kuramoto5")
    return LoadedData(splits=splits, normalizer=norm, system=system, suffix=suffix,
                      source="golden")  # fmt: skip


def _config(presets: list[str], extra: list[str]) -> Any:
    first = resolve(presets, [])
    return resolve(presets, [*QUIET, *SIZES[first.model], *extra])


def _system(cfg: Any) -> str:
    suffix = cfg.data.suffix or "springs5"
    return next(s for s in ("springs", "charged", "kuramoto") if s in suffix)


def _exact(value: Any) -> Any:
    """Floats as hex strings (exact), recursively; other values as they are."""
    if isinstance(value, float):
        return value.hex() if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def one_step(cfg: Any, data: LoadedData) -> dict[str, Any]:
    """Loss, validation loss and gradient norm of one training step, state_dict keys."""
    L.seed_everything(cfg.train.seed, workers=True, verbose=False)
    module = NRILightning(cfg.to_dict())
    model = module.model
    keys = [f"{k} {list(v.shape)}" for k, v in module.state_dict().items()]
    if not hasattr(model, "loss"):  # closed-form baselines: no gradient step
        return {"state_dict": keys}
    x = data.train.x[:3, :, : cfg.model_config.n_timesteps]
    edges = data.train.edges[:3]
    gen = torch.Generator().manual_seed(step_seed(cfg.train.seed, 0))
    model.train()
    out = model.loss(x, generator=gen, edge_types=edges)
    out.loss.backward()
    grads = [
        p.grad.double().pow(2).sum() for p in model.parameters() if p.grad is not None
    ]
    gnorm = float(torch.stack(grads).sum().sqrt()) if grads else 0.0
    model.eval()
    with torch.no_grad():
        val = model.validation_loss(
            data.valid.x[:3], generator=torch.Generator().manual_seed(0),
            edge_types=data.valid.edges[:3],
        )  # fmt: skip
    return {
        "loss": float(out.loss.detach()),
        "grad_norm": gnorm,
        "val_loss": float(val.loss),
        "logs": {k: float(v) for k, v in out.logs.items()},
        "val_logs": {k: float(v) for k, v in val.logs.items()},
        "state_dict": keys,
    }


METRIC_KEYS = ("acc", "acc_perm", "auroc", "asym", "mse", "mse_1step", "perm_mapping")


def two_epochs(cfg: Any, data: LoadedData, tmp: Path) -> dict[str, Any]:
    """Test metrics of a 2-epoch run through ``fit`` and ``evaluate_run``."""
    res = fit(cfg, tmp / "run", data=data)
    metrics = evaluate_run(res.run_dir, data, write=False)
    out = {k: metrics.get(k) for k in METRIC_KEYS}
    out["best_score"] = res.best_score
    return out


def compute(name: str) -> dict[str, Any]:
    presets, extra = cases()[name]
    cfg = _config(presets, extra)
    data = tiny_data(_system(cfg), cfg.model_config.n_features)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        return _exact(
            {"step": one_step(cfg, data), "run": two_epochs(cfg, data, Path(tmp))}
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the golden file")
    parser.add_argument(
        "--write-cpu",
        action="store_true",
        help="write golden_values.<cpu type>.json and golden_old_runs.<cpu type>.json "
        "for this CPU type (run it with the reference code's library: PYTHONPATH="
        "<checkout of the commit that wrote golden_values.json>/src)",
    )
    parser.add_argument("--old-runs", type=Path, help="write the old run directories")
    parser.add_argument("cases", nargs="*", help="only these cases (default: all)")
    args = parser.parse_args(argv)
    if args.old_runs is not None:
        write_old_runs(args.old_runs)
        return 0
    names = args.cases or list(cases())
    values = {name: compute(name) for name in names}
    if args.write or args.write_cpu:
        path = cpu_file("golden_values") if args.write_cpu else GOLDEN
        old = json.loads(path.read_text()) if path.exists() and args.cases else {}
        path.write_text(json.dumps({**old, **values}, indent=1, sort_keys=True) + "\n")
        if args.write_cpu and not args.cases:
            runs = {name: old_run_metrics(name) for name in OLD_RUN_CASES}
            cpu_file("golden_old_runs").write_text(
                json.dumps(runs, indent=1, sort_keys=True) + "\n"
            )
    else:
        print(json.dumps(values, indent=1))
    return 0


# old run directories (checkpoint compatibility): written once by the code before the
# refactor (``python tests/golden.py --old-runs tests/old_runs`` on that code), then
# evaluated by the current code in tests/test_golden.py
OLD_RUNS = Path(__file__).with_name("old_runs")
OLD_RUN_CASES = ["springs5", "mpm_springs5", "mpm_charged5", "sugar_springs5",
                 "springs5+nri_supervised", "springs5+nri_true_graph",
                 "supervised_springs5", "true_graph_springs5",
                 "correlation_springs5"]  # fmt: skip
KEEP = ("config.yaml", "normalizer.json", "data.json", "checkpoints/best.ckpt")


def data_for(name: str) -> LoadedData:
    """The tiny data set of a case."""
    cfg = _config(*cases()[name])
    return tiny_data(_system(cfg), cfg.model_config.n_features)


def old_run_metrics(name: str) -> dict[str, Any]:
    """The test metrics (:data:`METRIC_KEYS`, exact) of the old run directory ``name``
    evaluated on its tiny data set by the library in use."""
    from nri.evaluate import evaluate_run

    torch.set_num_threads(1)
    metrics = evaluate_run(OLD_RUNS / name, data_for(name), write=False)
    return _exact({k: metrics.get(k) for k in METRIC_KEYS})


def write_old_runs(out: Path) -> None:
    """Train the OLD_RUN_CASES into ``out/NAME`` and keep only what loading needs."""

    torch.set_num_threads(1)
    for name in OLD_RUN_CASES:
        cfg = _config(*cases()[name])
        run = out / name
        fit(cfg, run, data=data_for(name))
        for path in sorted(run.rglob("*"), reverse=True):
            rel = str(path.relative_to(run))
            if path.is_file() and rel not in KEEP:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
