"""What the hardware computes natively: the choice behind ``train.precision: auto``.

Mixed bf16 halves the cost of a training step only where the processor has bf16 matrix
instructions (x86: AVX512_BF16 or AMX; CUDA GPUs of compute capability 8.0 or newer).
Elsewhere PyTorch emulates bf16 on the CPU, and a step is about 15 times *slower* than in
float32 (measured on a 2-core AMD EPYC with AVX2 only: 15.5 s against 1.0 s for one NRI
step at batch 128; docs/benchmarks.md).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import torch

__all__ = ["cpu_has_native_bf16", "resolve_precision"]

_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True when this CPU has bf16 matrix instructions (AVX512_BF16 or AMX-BF16).

    Reads the flags of ``/proc/cpuinfo`` (Linux); elsewhere falls back to oneDNN's own
    test (``torch.ops.mkldnn._is_mkldnn_bf16_supported``).
    """
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return any(flag in flags for flag in _BF16_FLAGS)
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - other builds
        return False


def resolve_precision(precision: str, accelerator: str) -> str:
    """The Lightning precision to use for ``train.precision`` on this machine.

    ``"auto"`` becomes ``"bf16-mixed"`` where bf16 is native (the CPU flags above; a
    CUDA device that supports bf16) and ``"32-true"`` elsewhere; any other value is
    returned unchanged.

    Args:
        precision: the configured ``train.precision``.
        accelerator: the configured ``train.accelerator`` (``cpu``, ``gpu``, ``auto``...).
    """
    if precision != "auto":
        return precision
    gpu = accelerator in ("gpu", "cuda") or (
        accelerator == "auto" and torch.cuda.is_available()
    )
    if gpu:
        native = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    else:
        native = cpu_has_native_bf16()
    return "bf16-mixed" if native else "32-true"
