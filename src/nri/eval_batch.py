"""Evaluation batches sized from N (issue 16 item 2): how many samples the test
protocol, the validation of ``nri train`` and ``nri infer`` process at a time.

Evaluation keeps no gradients, but its largest pass is wide: the one-step errors of
the test protocol decode every frame of the encoder window at once (``T - 1``
teacher-forced segments as a batch axis), so its memory grows with
``B * (T - 1) * E * H``, the edge count E = N(N - 1) of all pairs (or N k
candidates, or ``model.edge_chunk`` slots at a time). A fixed batch of 256 that suits
5 or 10 objects runs out of memory at 50.

``train.eval_batch_size: auto`` (the default) takes the largest batch whose estimated
peak, :func:`eval_bytes_per_sample` times the batch, stays within
``train.eval_memory_gb`` (2 GiB), capped at :data:`MAX_EVAL_BATCH` = 256, the papers'
evaluation batch; up to :data:`REF_OBJECTS` = 10 objects it is 256 as before, so the
results of the papers' sets are bit-identical to those of earlier versions. An
integer fixes the batch. Metrics are exact sums and counts over samples, so the batch
changes them only by float rounding and, for models that draw random numbers per
batch (the Gumbel graph of the test protocol, NRI-MPM's relation-interaction
orders), by the draws; NRI's graph sample draws one uniform per (sample, edge, type)
in sample order, so its sample is the same at every batch size.

The estimate is deliberately simple and machine-independent (the batch, and so the
Gumbel draws, must not depend on the free memory of the machine): bytes per sample
``= 4 * (T - 1) * H * (C * E' + E_chunked)`` with ``E'`` the edges decoded at once,
``H`` the decoder width, ``C = 6`` fitted to the peak resident memory of the test
protocol (NRI and NRI-MPM, ``benchmarks/eval_memory.py``, docs/benchmarks.md) and,
with ``model.edge_chunk`` smaller than E, one more tensor of all E edges (measured:
chunking bounds the message MLP, not everything).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MAX_EVAL_BATCH", "REF_OBJECTS", "auto_eval_batch", "eval_bytes_per_sample",
    "resolve_eval_batch",
]  # fmt: skip

MAX_EVAL_BATCH = 256  # the papers' evaluation batch
REF_OBJECTS = 10  # up to this many objects: MAX_EVAL_BATCH, as before (bit-identical)
DEFAULT_EVAL_MEMORY_GB = 2.0
# live float32 tensors of shape [(T - 1), E', H] per sample at the peak of the
# test protocol, fitted to benchmarks/eval_memory.py (docs/benchmarks.md)
_LIVE_TENSORS = 6.0


def _edges(mc: Any, n_objects: int) -> int:
    """E: the candidate edges of one sample (all pairs, or N k nearest neighbours)."""
    n = n_objects
    k = int(getattr(mc, "candidates_k", n - 1))
    return max(
        1,
        n * (n - 1) if getattr(mc, "candidates", "all") != "knn" else n * min(k, n - 1),
    )


def _edges_at_once(mc: Any, n_objects: int) -> int:
    """E': the edges whose messages are computed at once for one sample."""
    edges = _edges(mc, n_objects)
    chunk = getattr(mc, "edge_chunk", None)
    return max(1, min(edges, chunk) if chunk else edges)


def _width(mc: Any) -> int:
    for name in ("decoder_hidden_dim", "hidden_dim", "encoder_hidden_dim"):
        value = getattr(mc, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 256


def eval_bytes_per_sample(mc: Any, n_objects: int) -> float:
    """Estimated peak bytes of the test protocol per sample (module docstring).

    Args:
        mc: a model config (NRI, NRI-MPM or a baseline's; missing fields take the
            NRI defaults: T = 49, width 256, all pairs).
        n_objects: N.
    """
    t = int(getattr(mc, "n_timesteps", 49))
    frames = max(t - 1, int(getattr(mc, "test_horizon", 20)), 1)
    at_once, edges = _edges_at_once(mc, n_objects), _edges(mc, n_objects)
    # chunked: one [T - 1, E, H] tensor of the whole layout stays (measured)
    live = _LIVE_TENSORS * at_once + (edges if at_once < edges else 0)
    return 4.0 * frames * live * _width(mc)


def auto_eval_batch(mc: Any, n_objects: int, budget_bytes: float) -> int:
    """Samples per evaluation batch for ``train.eval_batch_size: auto``.

    :data:`MAX_EVAL_BATCH` up to :data:`REF_OBJECTS` objects (unchanged results on
    the papers' sets); beyond, the largest batch within ``budget_bytes`` by
    :func:`eval_bytes_per_sample`, at most :data:`MAX_EVAL_BATCH` and at least 1.
    Never grows with N.
    """
    if n_objects <= REF_OBJECTS:
        return MAX_EVAL_BATCH
    by_memory = int(budget_bytes // eval_bytes_per_sample(mc, n_objects))
    return max(1, min(MAX_EVAL_BATCH, by_memory))


def resolve_eval_batch(train: Any, mc: Any, n_objects: int) -> int:
    """The evaluation batch of a run's ``train`` config at N objects:
    ``train.eval_batch_size`` when it is an integer, else :func:`auto_eval_batch`
    within ``train.eval_memory_gb`` GiB."""
    size = getattr(train, "eval_batch_size", "auto")
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    gb = float(getattr(train, "eval_memory_gb", DEFAULT_EVAL_MEMORY_GB))
    return auto_eval_batch(mc, n_objects, gb * 2**30)
