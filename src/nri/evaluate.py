"""The papers' test protocol on a trained run (spec/evaluation.md 2, spec/nri.md 10).

Encoder on frames 0..W-1 (W = ``model.n_timesteps``: 49 on the papers' 99-frame test
trajectories); raw and permutation-invariant edge accuracy (with ``skip_first`` type 0
stays "no interaction", :meth:`nri.metrics.EdgeMetrics.permutation`), AUROC and asymmetry
from the same q; a hard Gumbel sample (seeded) as the graph; a rollout of H =
``model.test_horizon`` frames (20) from frame W; MSE per horizon in normalised units.
Every mean is exact over samples (sums and counts), never a mean of batch means.
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from nri.aggregate import graph_level_metrics
from nri.atomic import write_text_atomic
from nri.data.dataset import (
    LoadedData,
    Split,
    check_finite_splits,
    load_dataset,
    normalise,
)
from nri.data.files import split_fingerprint
from nri.data.normalize import Normalizer
from nri.errors import DataNotice
from nri.eval_batch import resolve_eval_batch
from nri.metrics import EdgeMetrics, HorizonMSE, Mean, json_text
from nri.metrics_text import format_metrics
from nri.models import candidates
from nri.run_data import name_order, reorder_edges, trained_info
from nri.training.compat import check_labels
from nri.training.run_dir import RunError, load_run, run_data_path

__all__ = [
    "evaluate_run",
    "format_metrics",  # re-exported: defined in nri.metrics_text
    "is_out_of_memory",
]

# per-sample and one-graph AUROCs (nri.aggregate.graph_level_metrics)
GRAPH_LEVEL = ("auroc_per_sample", "auroc_aggregate", "auroc_aggregate_logit")


def is_out_of_memory(err: BaseException) -> bool:
    """True for PyTorch's out-of-memory errors (CUDA, MPS and the CPU allocator)."""
    if isinstance(err, torch.OutOfMemoryError | MemoryError):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text
    )


def _reorder(
    data: LoadedData,
    norm: Normalizer,
    trained_objects: tuple[str, ...],
    trained_named: bool | None = None,
) -> LoadedData:
    """The splits with features and objects in the run's order, matched by name
    (``trained_named``: whether the run's object names came with its data).

    The loader normalised features by position with the run's normaliser; features
    given in another order are mapped back (exactly: the map is affine per feature),
    reordered and normalised again. Labels follow the objects.

    Raises:
        RunError: names missing or extra (one line naming them).
    """
    meta = data.meta or {}
    given_f = tuple(str(n) for n in meta.get("feature_names", ()))
    f_idx = name_order("feature", given_f, tuple(norm.names), data.source, "the run")
    given_o = tuple(str(n) for n in meta.get("object_names", ()))
    named = (meta.get("objects_named"), trained_named)
    o_idx = name_order(
        "object", given_o, trained_objects, data.source, "the run", named
    )
    if f_idx is None and o_idx is None:
        return data
    out = {}
    for name, split in data.splits.items():
        x, labels = split.x, split.edges  # [S, N, T, F], [S, E]
        if f_idx is not None:
            phys = norm.inverse(x.double())[..., torch.from_numpy(f_idx)]
            x = torch.from_numpy(normalise(norm, phys.numpy(), name, data.source))
        if o_idx is not None:
            x = x[:, torch.from_numpy(o_idx)]
            labels = torch.from_numpy(reorder_edges(labels.numpy(), o_idx))
        out[name] = Split(x.contiguous(), labels)
    return LoadedData(out, data.normalizer, data.system, data.suffix, data.meta,
                      data.source, data.raw_shapes)  # fmt: skip


def evaluate_run(
    run_dir: str | Path,
    data: LoadedData | str | Path | None = None,
    split: str = "test",
    checkpoint: str = "best",
    eval_seed: int | None = None,
    batch_size: int | None = None,
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
        batch_size: evaluation batch size (default: the run's
            ``train.eval_batch_size``; ``auto`` sizes it from N within
            ``train.eval_memory_gb``, :mod:`nri.eval_batch`). Metrics are exact sums
            over samples; NRI's graph sample is the same at any batch size, models
            that draw per batch (NRI-MPM's RI orders) draw differently.
        write: write ``RUN/metrics.json`` (atomically).
        allow_other_objects: evaluate on data with another number of objects than
            the run was trained on (graph networks allow it; models tied to N do not).

    Returns:
        A dict with ``acc``, ``acc_perm``, ``perm_mapping``, ``auroc``, ``asym``,
        ``mse`` (list, horizons 1..H), ``mse_1``, ``mse_10``, ``mse_20``, ``mse_1step``,
        ``n_samples``, ``has_edges`` and provenance fields. Data without true edges
        (labels -1) give None for ``acc``, ``acc_perm``, ``perm_mapping`` and ``auroc``.
        With true edges also ``acc_interaction`` (``skip_first`` runs: type 0 = no
        interaction against any other type; None otherwise), the trivial baselines
        ``acc_all_no_edge`` and ``acc_all_edge``, ``n_label_classes`` and
        ``headline``: the accuracy :func:`format_metrics` prints first; and the
        AUROCs of :func:`nri.aggregate.graph_level_metrics`: ``auroc_per_sample``
        (the StructInfer benchmark's metric) and, when every sample has the same
        graph, ``auroc_aggregate`` / ``auroc_aggregate_logit`` (of the pooled graph;
        None otherwise). With candidate edges (``model.candidates`` other than all)
        and true edges, ``candidate_recall`` (share of the true interacting edges
        inside the candidates, :func:`nri.models.candidates.coverage`) and
        ``candidate_share`` (share of the pairs that are candidates: the recall of
        random candidates); None otherwise.

    Raises:
        RunError: data that cannot be found or do not fit the run; an out-of-memory
            error as one line naming ``--batch-size``.
    """
    run = load_run(run_dir, checkpoint)
    cfg = run.config
    mc = cfg.model_config
    if data is None:
        data = run_data_path(run_dir, cfg)
    info = trained_info(Path(run_dir))
    if not isinstance(data, LoadedData):
        _notice_changed_files(Path(data), cfg, split, info)
        data = load_dataset(
            data, cfg.data.suffix, splits=(split,), normalizer=run.normalizer
        )
    if split not in data.splits:
        raise RunError(f"the data set has no {split!r} split")
    check_finite_splits(data)  # data built in Python skip load_dataset's check
    trained_objects = tuple(str(n) for n in info.get("object_names", ()))
    if not allow_other_objects:
        data = _reorder(
            data, run.normalizer, trained_objects, info.get("objects_named")
        )
    elif run.normalizer.names:
        data = _reorder(data, run.normalizer, ())
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
    trained_n = info.get("n_objects")
    if (
        trained_n is not None
        and trained_n != x_all.shape[1]
        and not allow_other_objects
    ):
        raise RunError(
            f"the data have {x_all.shape[1]} objects but the run was trained on "
            f"{trained_n}; evaluate on data with {trained_n} objects, or pass "
            "--any-objects (allow_other_objects=True) to test how the model transfers"
        )
    check_labels(labels_all, getattr(mc, "n_edge_types", None), f"the {split} split")

    model = run.model
    gen = torch.Generator().manual_seed(
        cfg.train.eval_seed if eval_seed is None else eval_seed
    )
    n_eval = int(x_all.shape[1])
    if batch_size is None:  # train.eval_batch_size: auto sizes it from N
        batch_size = resolve_eval_batch(cfg.train, mc, n_eval)
    known = labels_all[labels_all >= 0]
    n_classes = max(2, int(known.max()) + 1) if known.numel() else 2
    edges: EdgeMetrics | None = None  # None: the model infers no graph
    mse = HorizonMSE()
    one_step = Mean()
    cover: candidates.Coverage | None = None  # candidate edges' recall of the truth
    window = getattr(mc, "n_timesteps", None) or x_all.shape[2]
    start = time.perf_counter()
    try:
        with torch.no_grad():
            for i in range(0, x_all.shape[0], batch_size):
                x = x_all[i : i + batch_size]
                labels = labels_all[i : i + batch_size]
                out = model.evaluate_batch(x, generator=gen, edge_types=labels)
                if out.logits is not None:
                    if edges is None:
                        edges = EdgeMetrics(
                            out.logits.shape[-1],
                            n_classes=n_classes,
                            skip_first=getattr(mc, "skip_first", False),
                        )
                    edges.update(out.logits.float(), labels)
                part = candidates.coverage(mc, x[:, :, :window], labels)
                if part is not None:
                    cover = part if cover is None else cover + part
                mse.update(out.sq_err, out.count)
                one_step.update(out.one_step_sq_err, out.one_step_count)
    except (RuntimeError, MemoryError) as err:
        if not is_out_of_memory(err):
            raise
        smaller = max(1, batch_size // 4)
        raise RunError(
            f"the evaluation of {run_dir} ran out of memory with batches of "
            f"{batch_size} samples of {n_eval} objects; evaluate with smaller batches: "
            f"nri evaluate {run_dir} --batch-size {smaller}"
        ) from None
    seconds = time.perf_counter() - start

    if edges is None:  # LSTM, static, true-graph decoders: edge metrics are NaN
        edge_metrics = dict.fromkeys(
            ("acc", "acc_perm", "auroc", "asym", "acc_interaction"), math.nan
        )
        counts = torch.bincount(known.long(), minlength=2).double()
        edge_metrics["acc_all_no_edge"] = float(counts[0] / counts.sum().clamp(min=1))
        edge_metrics["acc_all_edge"] = float(
            counts[1:].sum() / counts.sum().clamp(min=1)
        )
        edge_metrics["n_edges"] = float((labels_all >= 0).sum())
        mapping: tuple[int, ...] = ()
    else:
        edge_metrics = edges.compute()
        _, mapping = edges.permutation()
        scored = edges.interaction_scores()
        if scored is not None:  # per-sample AUROC, one graph per data set
            edge_metrics.update(graph_level_metrics(*(t.numpy() for t in scored)))
    horizon = mse.compute().tolist()
    has_edges = bool(edge_metrics["n_edges"] > 0)  # any known label
    result: dict[str, Any] = {
        "acc": edge_metrics["acc"] if has_edges else None,
        "acc_perm": edge_metrics["acc_perm"] if has_edges else None,
        "perm_mapping": list(mapping) if has_edges else None,
        "auroc": edge_metrics["auroc"] if has_edges else None,
        **{
            key: _defined(edge_metrics.get(key, math.nan), has_edges)
            for key in GRAPH_LEVEL
        },
        "acc_interaction": _defined(
            edge_metrics.get("acc_interaction", math.nan), has_edges
        ),
        "acc_all_no_edge": edge_metrics["acc_all_no_edge"] if has_edges else None,
        "acc_all_edge": edge_metrics["acc_all_edge"] if has_edges else None,
        "n_label_classes": n_classes if has_edges else None,
        "n_edge_types": getattr(mc, "n_edge_types", None),
        "headline": _headline(mc, n_classes) if has_edges else None,
        "asym": edge_metrics["asym"],
        "candidate_recall": None if cover is None else cover.recall,
        "candidate_share": None if cover is None else cover.share,
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
        write_text_atomic(Path(run_dir) / "metrics.json", json_text(result))
    return result


def _defined(value: float, has_edges: bool) -> float | None:
    return value if has_edges and not math.isnan(value) else None


def _headline(mc: Any, n_classes: int) -> str:
    """Which accuracy answers "did it find the graph": the interaction accuracy when a
    ``skip_first`` model has another number of types than the labels have classes
    (e.g. 3 types against 0/1 labels), else the permutation-invariant accuracy."""
    k = getattr(mc, "n_edge_types", n_classes)
    skip = getattr(mc, "skip_first", False)
    return "acc_interaction" if skip and k != n_classes else "acc_perm"


def _notice_changed_files(
    path: Path, cfg: Any, split: str, info: dict[str, Any]
) -> None:
    """A :class:`~nri.errors.DataNotice` when ``path`` is the run's own data
    directory (``data.path`` of its config, stored resolved by :func:`fit` with the
    fingerprints) and holds other files for ``split`` than when the run was trained
    (re-imported or regenerated since: the metrics would be of other data than the
    run's). Runs without fingerprints (older ones, data built in memory) and other
    directories are not checked."""
    trained = (info.get("fingerprints") or {}).get(split)
    own = cfg.data.path
    if not trained or not own or not path.is_dir():
        return
    if path.resolve() != Path(own).resolve():
        return  # other data, given on purpose
    now = split_fingerprint(path, cfg.data.suffix or "", split)
    if now is not None and now != trained:
        warnings.warn(
            f"{path}: the files of its {split} split have changed since the run was "
            "trained beside them (imported or generated again?); these metrics are "
            "of the files as they are now, not of the run's own test data",
            DataNotice,
            stacklevel=3,
        )
