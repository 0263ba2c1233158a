"""Provenance of a cell's timing: the wall and CPU seconds of every training epoch
(``RUN/epoch_times.json``, for Fig. 6) and a description of the machine."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch

from nri.atomic import write_text_atomic

EPOCH_FILE = "epoch_times.json"


class EpochTimer(L.Callback):
    """Records the wall time of every training epoch in ``RUN/epoch_times.json``:
    ``train_s`` (the training batches) and ``epoch_s`` (training and validation).
    A resumed run keeps the times of the epochs before the interruption."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / EPOCH_FILE
        self.times: dict[int, dict[str, float]] = {}
        if self.path.exists():
            try:
                for row in json.loads(self.path.read_text()):
                    self.times[int(row["epoch"])] = row
            except (ValueError, KeyError, TypeError):
                self.times = {}
        self._t0 = self._tv = self._c0 = self._cv = 0.0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        self._t0, self._tv = time.perf_counter(), 0.0
        self._c0, self._cv = time.process_time(), 0.0

    def on_validation_start(self, trainer: L.Trainer, pl_module: Any) -> None:
        if self._t0 and not self._tv:  # validation inside a training epoch
            self._tv, self._cv = time.perf_counter(), time.process_time()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: Any) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        epoch = int(trainer.current_epoch)
        self.times[epoch] = {
            "epoch": epoch,
            "train_s": round((self._tv or now) - self._t0, 4),
            "epoch_s": round(now - self._t0, 4),
            "train_cpu_s": round((self._cv or cpu) - self._c0, 4),  # all threads
            "epoch_cpu_s": round(cpu - self._c0, 4),
        }
        self._t0 = self._tv = 0.0
        if trainer.is_global_zero:
            rows = [self.times[e] for e in sorted(self.times)]
            write_text_atomic(self.path, json.dumps(rows, indent=1) + "\n")


def host_info() -> dict[str, Any]:
    """The machine a cell ran on (for the results' provenance)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "gpu": gpu,
            "torch": torch.__version__, "python": platform.python_version()}  # fmt: skip
