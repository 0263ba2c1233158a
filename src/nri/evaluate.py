"""The papers' test protocol on a trained run (spec/evaluation.md 2, spec/nri.md 10).

Encoder on frames 0..48 of the 99-frame test trajectories; raw and permutation-invariant
edge accuracy, AUROC and asymmetry from the same q; a hard Gumbel sample (seeded) as the
graph; a 20-step rollout from frame 49; MSE per horizon in normalised units. Every mean
is exact over samples (sums and counts), never a mean of batch means.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import torch

from nri.atomic import write_text_atomic
from nri.data.dataset import LoadedData, load_dataset
from nri.metrics import EdgeMetrics, HorizonMSE, Mean
from nri.training.compat import check_labels
from nri.training.run_dir import RunError, load_run


def _trained_objects(run_dir: Path) -> int | None:
    """The number of objects a run was trained on (``RUN/data.json``; None if absent)."""
    try:
        return int(json.loads((run_dir / "data.json").read_text())["n_objects"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def evaluate_run(
    run_dir: str | Path,
    data: LoadedData | str | Path | None = None,
    split: str = "test",
    checkpoint: str = "best",
    eval_seed: int | None = None,
    batch_size: int = 256,
    write: bool = True,
    allow_other_objects: bool = False,
) -> dict[str, Any]:
    """Evaluate a run with the test protocol and (by default) write ``metrics.json``.

    Args:
        run_dir: a run directory written by ``nri train``.
        data: a loaded data set or its directory (default: the one the run was
            trained on). It is normalised with the run's own normaliser.
        split: which split to evaluate (its trajectories need at least
            ``n_timesteps + 1 + test_horizon`` frames: 70 for the defaults).
        checkpoint: "best", "last" or a path.
        eval_seed: seed of the Gumbel noise of the test graph (default: the run's).
        batch_size: evaluation batch size (results do not depend on it).
        write: write ``RUN/metrics.json`` (atomically).
        allow_other_objects: evaluate on data with another number of objects than
            the run was trained on (graph networks allow it; models tied to N do not).

    Returns:
        A dict with ``acc``, ``acc_perm``, ``perm_mapping``, ``auroc``, ``asym``,
        ``mse`` (list, horizons 1..H), ``mse_1``, ``mse_10``, ``mse_20``, ``mse_1step``,
        ``n_samples``, ``has_edges`` and provenance fields. Data without true edges
        (labels -1) give None for ``acc``, ``acc_perm``, ``perm_mapping`` and ``auroc``.
    """
    run = load_run(run_dir, checkpoint)
    cfg = run.config
    mc = cfg.model_config
    if data is None:
        data = cfg.data.path
        if data is None:
            raise RunError(f"the run {run_dir} records no data directory; pass --data")
    if not isinstance(data, LoadedData):
        data = load_dataset(
            data, cfg.data.suffix, splits=(split,), normalizer=run.normalizer
        )
    if split not in data.splits:
        raise RunError(f"the data set has no {split!r} split")
    x_all, labels_all = data.splits[split]
    need = mc.n_timesteps + 1 + mc.test_horizon
    if x_all.shape[2] < need:
        raise RunError(
            f"the {split} trajectories have {x_all.shape[2]} frames; the test protocol "
            f"needs {need} ({mc.n_timesteps} to infer the graph, then {mc.test_horizon} "
            "to predict)"
        )
    if x_all.shape[3] != mc.n_features:
        raise RunError(
            f"the data have {x_all.shape[3]} features, the model was trained on "
            f"{mc.n_features}"
        )
    trained_n = _trained_objects(Path(run_dir))
    if (
        trained_n is not None
        and trained_n != x_all.shape[1]
        and not allow_other_objects
    ):
        raise RunError(
            f"the data have {x_all.shape[1]} objects but the run was trained on "
            f"{trained_n}; evaluate on data with {trained_n} objects, or pass "
            "--allow-other-objects (allow_other_objects=True) to test how the model "
            "transfers"
        )
    check_labels(labels_all, getattr(mc, "n_edge_types", None), f"the {split} split")

    model = run.model
    gen = torch.Generator().manual_seed(
        cfg.train.eval_seed if eval_seed is None else eval_seed
    )
    edges: EdgeMetrics | None = None  # None: the model infers no graph
    mse = HorizonMSE()
    one_step = Mean()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, x_all.shape[0], batch_size):
            x = x_all[i : i + batch_size]
            labels = labels_all[i : i + batch_size]
            out = model.evaluate_batch(x, generator=gen, edge_types=labels)
            if out.logits is not None:
                if edges is None:
                    skip_first = getattr(mc, "skip_first", False)
                    edges = EdgeMetrics(out.logits.shape[-1], skip_first=skip_first)
                edges.update(out.logits.float(), labels)
            mse.update(out.sq_err, out.count)
            one_step.update(out.one_step_sq_err, out.one_step_count)
    seconds = time.perf_counter() - start

    if edges is None:  # LSTM, static, true-graph decoders: edge metrics are NaN
        edge_metrics = dict.fromkeys(("acc", "acc_perm", "auroc", "asym"), math.nan)
        edge_metrics["n_edges"] = float((labels_all >= 0).sum())
        mapping: tuple[int, ...] = ()
    else:
        edge_metrics = edges.compute()
        _, mapping = edges.permutation()
    horizon = mse.compute().tolist()
    has_edges = bool(edge_metrics["n_edges"] > 0)  # any known label
    result: dict[str, Any] = {
        "acc": edge_metrics["acc"] if has_edges else None,
        "acc_perm": edge_metrics["acc_perm"] if has_edges else None,
        "perm_mapping": list(mapping) if has_edges else None,
        "auroc": edge_metrics["auroc"] if has_edges else None,
        "asym": edge_metrics["asym"],
        "mse": horizon,
        **{f"mse_{h}": horizon[h - 1] for h in (1, 10, 20) if h <= len(horizon)},
        "mse_1step": one_step.compute(),
        "one_step_frames": getattr(mc, "n_timesteps", None),
        "n_samples": int(x_all.shape[0]),
        "has_edges": has_edges,
        "split": split,
        "data": data.source,
        "suffix": data.suffix,
        "checkpoint": str(run.checkpoint),
        "eval_seed": cfg.train.eval_seed if eval_seed is None else eval_seed,
        "eval_graph": getattr(mc, "eval_graph", None),  # None: no sampled graph
        "seconds": round(seconds, 3),
    }
    if write:
        write_text_atomic(
            Path(run_dir) / "metrics.json", json.dumps(result, indent=2) + "\n"
        )
    return result


def _fmt(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or "n/a" where it is not defined (None or
    NaN: no true edges, no inferred graph, or no decoder)."""
    return "n/a" if value is None or math.isnan(value) else format(value, spec)


def format_metrics(m: dict[str, Any]) -> str:
    """A small table of the headline metrics ("n/a" where a value is not defined)."""
    perm = _fmt(m["acc_perm"], ".4f")
    if m.get("perm_mapping"):
        perm += f"  map {m['perm_mapping']}"
    if m.get("acc") is None:  # data without true edges
        rows = [("edge accuracy", "n/a (the data have no true edges)")]
    else:
        rows = [
            ("edge accuracy (raw)", _fmt(m["acc"], ".4f")),
            (
                "edge accuracy (perm.-invariant)",
                perm,
            ),
            ("AUROC", _fmt(m["auroc"], ".4f")),
        ]
    rows.append(("asymmetry rate", _fmt(m["asym"], ".4f")))
    for h in (1, 10, 20):
        if f"mse_{h}" in m:
            name = f"MSE {h} step{'s' if h > 1 else ''}"
            rows.append((name, _fmt(m[f"mse_{h}"], ".3e")))
    frames = m.get("one_step_frames")
    one_step = f"MSE one-step (last {frames} frames)" if frames else "MSE one-step"
    rows.append((one_step, _fmt(m["mse_1step"], ".3e")))
    width = max(len(r[0]) for r in rows)
    head = f"{m['split']} split of {m['suffix']}: {m['n_samples']} samples"
    return "\n".join([head] + [f"  {k:<{width}}  {v}" for k, v in rows])
