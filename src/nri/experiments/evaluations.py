"""Evaluations of finished cells beyond ``evaluate_run``'s metrics, for the figures:
the MSE over 40 prediction steps (Fig. 8, cached in ``RUN/mse_h40.json``), one test
sample's forecast (Fig. 5) and predicted and true relation matrices (Fig. 7). All use
the test protocol: graph from frames ``0 .. T-1``, the seeded evaluation generator."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import torch

from nri.atomic import write_text_atomic
from nri.experiments.runner import Cell, ExperimentError, Settings, load_data
from nri.training.run_dir import load_run


@torch.no_grad()
def horizon_mse(
    cell: Cell, settings: Settings, horizon: int = 40, batch_size: int = 256
) -> list[float]:
    """Test MSE at horizons 1..``horizon`` (normalised units, exact means) of a finished
    cell, with the test protocol of ``evaluate_run`` but a longer rollout (the 99-frame
    test trajectories allow up to 49 steps). Cached in ``RUN/mse_h<horizon>.json``."""
    from nri.metrics import HorizonMSE

    run_dir = cell.run_dir(settings.out)
    path = run_dir / f"mse_h{horizon}.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("eval_seed") == settings.eval_seed:
            return [float(v) for v in saved["mse"]]
    run = load_run(run_dir)
    model = run.model
    t = run.config.model_config.n_timesteps
    x_all, labels_all = load_data(settings, cell.dataset).test
    if x_all.shape[2] < t + 1 + horizon:
        raise ExperimentError(
            f"the test trajectories have {x_all.shape[2]} frames; a {horizon}-step "
            f"rollout from frame {t} needs {t + 1 + horizon}"
        )
    model.config = dataclasses.replace(model.config, test_horizon=horizon)
    gen = torch.Generator().manual_seed(settings.eval_seed)
    mse = HorizonMSE()
    for i in range(0, x_all.shape[0], batch_size):
        out = model.evaluate_batch(
            x_all[i : i + batch_size], generator=gen,
            edge_types=labels_all[i : i + batch_size],
        )  # fmt: skip
        mse.update(out.sq_err, out.count)
    values = [float(v) for v in mse.compute().tolist()]
    write_text_atomic(
        path,
        json.dumps({"horizon": horizon, "eval_seed": settings.eval_seed, "mse": values})
        + "\n",
    )
    return values


def _rollout_graph(model: Any, x: torch.Tensor, gen: torch.Generator) -> Any:
    """Edge logits ``[B, E, K]`` (None for models without an encoder) and the hard
    Gumbel graph of the test protocol."""
    from nri.models.nri import NRI

    if getattr(model, "encoder", None) is None:
        return None, None
    if isinstance(model, NRI):
        logits = model.encode(x).logits
    else:
        logits = model.encode(x, generator=gen).logits
    return logits, model.sample_edges(logits, True, gen)


@torch.no_grad()
def forecast_sample(
    cell: Cell, settings: Settings, sample: int = 0, n_steps: int = 49
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ground truth ``[N, L, F]`` of test sample ``sample`` and the cell's forecast
    ``[N, n_steps, F]`` of frames ``T + 1 .. T + n_steps`` from frames ``0 .. T``
    (graph from frames ``0 .. T-1`` as in the test protocol); normalised units."""
    run = load_run(cell.run_dir(settings.out))
    model = run.model
    t = run.config.model_config.n_timesteps
    x_all = load_data(settings, cell.dataset).test.x
    if not 0 <= sample < x_all.shape[0]:
        raise ExperimentError(
            f"--sample must be in [0, {x_all.shape[0]}), got {sample}"
        )
    x = x_all[sample : sample + 1]  # [1, N, L, F]
    n_steps = min(n_steps, x.shape[2] - t - 1)
    if getattr(model, "decoder", model) is None or not hasattr(model, "forecast"):
        raise ExperimentError(f"{cell.method.label} has no decoder: it cannot forecast")
    gen = torch.Generator().manual_seed(settings.eval_seed)
    _, z = _rollout_graph(model, x[:, :, :t], gen)
    pred = model.forecast(x[:, :, : t + 1], z, n_steps)  # [1, N, H, F]
    return x[0], pred[0].float()


@torch.no_grad()
def relation_matrix(cell: Cell, settings: Settings, sample: int = 0) -> torch.Tensor:
    """Predicted edge labels ``[N, N]`` of one test sample: the argmax of the edge
    logits of the test protocol (``evaluate_batch``, so any model with a graph), edge
    types relabelled with the run's permutation mapping from ``metrics.json``;
    diagonal -1."""
    from nri import graph

    run_dir = cell.run_dir(settings.out)
    model = load_run(run_dir).model
    test = load_data(settings, cell.dataset).test
    if not 0 <= sample < test.x.shape[0]:
        raise ExperimentError(
            f"--sample must be in [0, {test.x.shape[0]}), got {sample}"
        )
    gen = torch.Generator().manual_seed(settings.eval_seed)
    x, labels = test.x[sample : sample + 1], test.edges[sample : sample + 1]
    logits = model.evaluate_batch(x, generator=gen, edge_types=labels).logits
    if logits is None:
        raise ExperimentError(f"{cell.method.label} infers no relations")
    pred = logits[0].argmax(-1)  # [E]
    mapping = json.loads((run_dir / "metrics.json").read_text()).get("perm_mapping")
    if mapping:
        pred = torch.tensor(mapping)[pred]
    return graph.to_dense(pred.float(), fill=-1.0)


def true_relations(settings: Settings, suffix: str, sample: int = 0) -> torch.Tensor:
    """True edge labels ``[N, N]`` of one test sample (diagonal -1)."""
    from nri import graph

    edges = load_data(settings, suffix).test.edges[sample]  # [E]
    return graph.to_dense(edges.float(), fill=-1.0)
