"""The headline metrics of a test (:func:`nri.evaluate.evaluate_run`'s dictionary) as
the small text table that ``nri train``, ``nri evaluate`` and the demo print."""

from __future__ import annotations

import math
from typing import Any


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
        inter = (
            "edge accuracy (type 0 = none vs any interaction)",
            _fmt(m.get("acc_interaction"), ".4f"),
        )
        rows = [
            ("edge accuracy (raw)", _fmt(m["acc"], ".4f")),
            ("edge accuracy (perm.-invariant)", perm),
        ]
        if m.get("acc_interaction") is not None:
            rows.append(inter)
        if m.get("headline") == "acc_interaction":
            k, c = m.get("n_edge_types"), m.get("n_label_classes")
            rows = [
                (
                    inter[0] + " [headline]",
                    inter[1] + f"  ({k} types, {c} label classes)",
                ),
                *[r for r in rows if r[0] != inter[0]],
            ]
        rows.append(("AUROC", _fmt(m["auroc"], ".4f")))
        if m.get("auroc_per_sample") is not None:
            rows.append(("AUROC per sample (mean)", _fmt(m["auroc_per_sample"], ".4f")))
        if m.get("auroc_aggregate") is not None:
            rows.append(
                (
                    "AUROC of the one graph (mean / logit pool)",
                    f"{_fmt(m['auroc_aggregate'], '.4f')} / "
                    f"{_fmt(m.get('auroc_aggregate_logit'), '.4f')}",
                )
            )
        if m.get("candidate_recall") is not None:
            rows.append(
                (
                    "true edges inside the candidates",
                    f"{m['candidate_recall']:.4f} (candidates: "
                    f"{m['candidate_share']:.4f} of the pairs)",
                )
            )
        if m.get("acc_all_no_edge") is not None:
            rows.append(
                (
                    "trivial baselines",
                    f"all no-edge {_fmt(m['acc_all_no_edge'], '.4f')}, all edge "
                    f"{_fmt(m['acc_all_edge'], '.4f')}",
                )
            )
    rows.append(("asymmetry rate", _fmt(m["asym"], ".4f")))
    for h in (1, 10, 20):
        if f"mse_{h}" in m:
            name = f"MSE {h} step{'s' if h > 1 else ''} (normalised)"
            rows.append((name, _fmt(m[f"mse_{h}"], ".3e")))
    frames = m.get("one_step_frames")
    one_step = f"MSE one-step (last {frames} frames)" if frames else "MSE one-step"
    rows.append((one_step + " (normalised)", _fmt(m["mse_1step"], ".3e")))
    rows.append(
        ("MSE units", "normalised: features min-max scaled to [-1, 1] on train")
    )
    width = max(len(r[0]) for r in rows)
    head = f"{m['split']} split of {m['suffix']}: {m['n_samples']} samples"
    return "\n".join([head] + [f"  {k:<{width}}  {v}" for k, v in rows])
