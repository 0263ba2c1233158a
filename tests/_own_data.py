"""Shared by test_infer.py and test_plots_report.py: own data (springs in unusual units)
and one tiny run trained on it once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nri.config import resolve
from nri.data.custom import import_data, suggested_settings
from nri.evaluate import evaluate_run
from nri.sim.springs import SpringsConfig, simulate_springs
from nri.training.fit import fit

OFFSET, SCALE = (
    1000.0,
    100.0,
)  # positions in "centimetres around 10 m": far from [-1, 1]
N_OBJECTS, FRAMES = 4, 30
_RUNS: dict[str, Path] = {}


def own_arrays(n_samples: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Springs trajectories ``[S, 4, 30, 4]`` (x, y, vx, vy) in shifted, scaled units
    and their relations ``[S, 4, 4]``."""
    res = simulate_springs(
        SpringsConfig(n_objects=N_OBJECTS),
        n_sims=n_samples,
        n_steps=(FRAMES + 1) * 100,
        rng=np.random.default_rng(seed),
    )
    x = np.concatenate([res.loc, res.vel], axis=2).transpose(0, 3, 1, 2)  # [S,N,T,4]
    x = x * SCALE
    x[..., :2] += OFFSET
    return x, res.edges


def tiny_run(tmp_path_factory) -> Path:  # noqa: ANN001 - pytest's factory
    """Import own data (.npz) and train NRI on it for 3 epochs (once per session)."""
    if "run" in _RUNS:
        return _RUNS["run"]
    root = tmp_path_factory.mktemp("own")
    x, adj = own_arrays()
    names = np.array(["x", "y", "vx", "vy"])
    np.savez(root / "own.npz", x=x, edges=adj, feature_names=names)
    import_data(root / "own.npz", root / "data", "own", feature_groups=(0, 0, 1, 1))
    settings = suggested_settings(FRAMES, FRAMES)
    cfg = resolve(
        ["cpu"],
        [
            "data.suffix=own", "model.skip_first=true", "model.n_features=4",
            *(f"model.{k}={v}" for k, v in settings.items()),
            "model.encoder_hidden_dim=32", "model.decoder_hidden_dim=32",
            "train.epochs=3", "train.batch_size=32", "train.progress_bar=false",
            "train.threads=1", "train.precision=32-true",
        ],
    )  # fmt: skip
    fit(cfg, root / "run", data=root / "data")
    evaluate_run(root / "run")
    _RUNS["run"] = root / "run"
    _RUNS["npz"] = root / "own.npz"
    return root / "run"


def tiny_npz(tmp_path_factory) -> Path:  # noqa: ANN001
    """The .npz file the tiny run was trained on (all samples)."""
    tiny_run(tmp_path_factory)
    return _RUNS["npz"]
