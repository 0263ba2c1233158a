"""Shared by the own-data tests: own data (springs in unusual units), one tiny run
trained on it once per session, the command-line helpers of the refusal checks, and
the files written for the results side (a long CSV, strict JSON)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nri.cli import main
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


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001
    """``nri ARGV``: the exit status, stdout and stripped stderr."""
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err.strip()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def check_refusal(case: Any, env: Any, capsys, temp: str) -> None:  # noqa: ANN001
    """A bad-input case (test_bad_input.py) run in ``env``: one-line error, exit 2,
    its fragments named, no ``temp`` file mentioned and nothing under ``env.tmp``
    written or left half-made."""
    argv = case.argv(env)
    before = _snapshot(env.tmp)
    rc, _, err = run_cli(argv, capsys)
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("nri: error: "), err
    assert "Errno" not in err and "Traceback" not in err and temp not in err
    for fragment in case.fragments:
        assert fragment in err, (fragment, err)
    assert _snapshot(env.tmp) == before  # nothing written, nothing left half-made


def named_csv(path: Path, times: list[str]) -> Path:
    """A long CSV of 10 samples x 3 named objects (ann, bob, cy) x 2 features at
    the given time cells."""
    rows = [
        {"sample": s, "time": t, "object": name, "x": np.sin(k + o + s),
         "y": np.cos(k * (o + 1)) + s}
        for s in range(10) for k, t in enumerate(times)
        for o, name in enumerate(["ann", "bob", "cy"])
    ]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def long_csv(
    path: Path,
    x: np.ndarray,
    columns: tuple[str, ...] = ("x", "y", "vx", "vy"),
    order: tuple[int, ...] = (0, 1, 2, 3),
    times: list[str] | None = None,
    objects: tuple[str, ...] | None = None,
) -> Path:
    """``x [S, N, T, F]`` as a long CSV whose feature columns are ``columns``
    holding features ``order`` of x; rows in reverse order (the order must not
    matter)."""
    s, n, t, _ = x.shape
    times = times or [str(k) for k in range(t)]
    objects = objects or tuple(str(o) for o in range(n))
    rows = [
        [str(b), times[k], objects[o], *(f"{x[b, o, k, f]:.12g}" for f in order)]
        for b in range(s)
        for k in range(t)
        for o in range(n)
    ]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample", "time", "object", *columns])
        w.writerows(rows[::-1])
    return path


def strict_json(path: Path) -> dict:
    """JSON that other readers accept: a bare NaN or Infinity fails."""

    def refuse(name: str) -> None:
        raise AssertionError(f"bare {name} in {path}")

    return json.loads(path.read_text(), parse_constant=refuse)
