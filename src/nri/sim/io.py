"""Writing simulated data sets in the original NRI file layout (spec/data.md 1.9, 2.6).

A data set is identified by a directory and a suffix (``springs5``, ``charged5``,
``kuramoto5``). Springs and charged sets are nine ``.npy`` files
(``{loc,vel,edges}_{train,valid,test}_<suffix>.npy``); Kuramoto sets are six
(``{feat,edges}_{split}_<suffix>.npy``, as NRI's ``load_kuramoto_data`` expects); NetSim-like
sets (``netsims<n>``, on a given graph) are ``{bold,edges}_{split}_<suffix>.npy`` in the
StructInfer benchmark's layout (``bold [S, T, 1, n]``). Next to
them we write ``meta_<suffix>.json`` (generator, version, every parameter, seed).

Writing is safe against interruption: arrays are filled chunk by chunk in memory-mapped
``*.partial`` files (a large set never needs to be in memory at once); only when every
split is done are they renamed into place, with an ``.incomplete_<suffix>`` marker present
during the renames, and the metadata file is written last, by an atomic rename. A reader
refuses a set whose marker exists.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from nri.atomic import make_out_dir, write_json_atomic
from nri.sim.charged import ChargedConfig
from nri.sim.kuramoto import KuramotoConfig, simulate_kuramoto
from nri.sim.netsims import NetSimConfig, simulate_netsims
from nri.sim.particles import ParticleConfig, simulate
from nri.sim.springs import SpringsConfig

SPLITS = ("train", "valid", "test")
SystemName = Literal["springs", "charged", "kuramoto", "netsims"]
BLOCK = 1000  # simulations per independent random block (fast mode); part of the format


@dataclass(frozen=True)
class DatasetConfig:
    """Everything that defines a simulated data set.

    Attributes:
        system: "springs", "charged" or "kuramoto".
        n_objects: number of objects.
        n_train, n_valid, n_test: simulations per split.
        length, length_test: integration steps per simulation (particles only; frames
            stored = length / sample_freq - 1, so 5000 -> 49 and 10000 -> 99).
        frames, frames_test: stored frames for Kuramoto (49 and 99 in the papers).
        sample_freq: integration steps between stored frames (particles).
        noise_std: observation noise standard deviation.
        interaction_strength: spring constant, Coulomb constant or Kuramoto coupling
            (None: the system's default).
        edge_prob: probability of an interaction (springs, Kuramoto) or of a +1 charge.
        seed: random seed. Same seed, same data.
        reference: reproduce the original NRI generator's files bit for bit (legacy
            NumPy stream, one simulation at a time, NumPy integrator). Particles only.
        graph: one ``[n, n]`` 0/1 graph ([receiver, sender], zero diagonal) shared by
            every simulation instead of random ones (springs, and required by
            "netsims", the StructInfer NetSim-like model, :mod:`nri.sim.netsims`).
        graph_source: where the graph came from (a file or a generator spec), for the
            metadata.
    """

    system: SystemName = "springs"
    n_objects: int = 5
    n_train: int = 50_000
    n_valid: int = 10_000
    n_test: int = 10_000
    length: int = 5000
    length_test: int = 10000
    frames: int = 49
    frames_test: int = 99
    sample_freq: int = 100
    noise_std: float = 0.0
    interaction_strength: float | None = None
    edge_prob: float = 0.5
    seed: int = 42
    reference: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    graph: tuple[tuple[float, ...], ...] | None = None
    graph_source: str | None = None

    def __post_init__(self) -> None:
        if self.system not in ("springs", "charged", "kuramoto", "netsims"):
            raise ValueError(
                "system must be springs, charged, kuramoto or netsims, got "
                f"{self.system!r}"
            )
        if self.system == "netsims" and self.graph is None:
            raise ValueError(
                "netsims simulates a given graph: add --graph FILE or a generator "
                "such as --graph er:p=0.2"
            )
        if self.graph is not None:
            if self.system not in ("springs", "netsims"):
                raise ValueError(
                    f"--graph works for springs and netsims, not {self.system} "
                    "(charged relations come from the charges)"
                )
            g = self.graph_array()
            if g.shape != (self.n_objects, self.n_objects):
                raise ValueError(
                    f"the graph has shape {g.shape} but there are {self.n_objects} "
                    "objects"
                )
        for name in ("n_train", "n_valid", "n_test"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.reference and self.system in ("kuramoto", "netsims"):
            raise ValueError(
                "reference mode exists for springs and charged only (no original "
                "Kuramoto generator was published); drop --reference"
            )
        if not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be in [0, 2**32), got {self.seed}")
        self.system_config()  # validates the physical parameters

    def graph_array(self) -> np.ndarray | None:
        """The given graph as ``[n, n]`` float64, or None."""
        return None if self.graph is None else np.array(self.graph, dtype=np.float64)

    @property
    def suffix(self) -> str:
        return f"{self.system}{self.n_objects}"

    def n_sims(self, split: str) -> int:
        return {"train": self.n_train, "valid": self.n_valid, "test": self.n_test}[
            split
        ]

    def n_frames(self, split: str) -> int:
        if self.system == "kuramoto":
            return self.frames_test if split == "test" else self.frames
        steps = self.length_test if split == "test" else self.length
        return self.system_config().n_frames(steps)  # type: ignore[union-attr]

    def system_config(self) -> ParticleConfig | KuramotoConfig | NetSimConfig:
        kw: dict[str, Any] = {"n_objects": self.n_objects, "edge_prob": self.edge_prob}
        if self.system == "netsims":
            if self.interaction_strength is not None:
                kw["coupling"] = self.interaction_strength
            return NetSimConfig(
                **kw,
                noise_std=self.noise_std,
                sample_freq=self.sample_freq,
                **self.extra,
            )
        if self.system == "kuramoto":
            if self.interaction_strength is not None:
                kw["coupling"] = self.interaction_strength
            return KuramotoConfig(**kw, noise_std=self.noise_std, **self.extra)
        if self.interaction_strength is not None:
            kw["interaction_strength"] = self.interaction_strength
        cls = SpringsConfig if self.system == "springs" else ChargedConfig
        return cls(
            **kw, noise_std=self.noise_std, sample_freq=self.sample_freq, **self.extra
        )


def file_names(system: str, suffix: str, split: str) -> dict[str, str]:
    """Array name -> file name of one split."""
    keys = {"kuramoto": ("feat", "edges"), "netsims": ("bold", "edges")}.get(
        system, ("loc", "vel", "edges")
    )
    return {k: f"{k}_{split}_{suffix}.npy" for k in keys}


def meta_name(suffix: str) -> str:
    return f"meta_{suffix}.json"


def marker_name(suffix: str) -> str:
    return f".incomplete_{suffix}"


def _chunks(cfg: DatasetConfig, split: str, chunk: int) -> Iterator[tuple[int, int]]:
    n = cfg.n_sims(split)
    for start in range(0, n, chunk):
        yield start, min(n, start + chunk)


def _simulate_chunk(
    cfg: DatasetConfig,
    rng: np.random.RandomState | np.random.Generator,
    n_sims: int,
    split: str,
) -> dict[str, np.ndarray]:
    sys_cfg = cfg.system_config()
    if isinstance(sys_cfg, KuramotoConfig):
        res = simulate_kuramoto(sys_cfg, n_sims, cfg.n_frames(split), rng)
        return {"feat": res.feat, "edges": res.edges}
    steps = cfg.length_test if split == "test" else cfg.length
    graph = cfg.graph_array()
    if isinstance(sys_cfg, NetSimConfig):
        assert graph is not None and isinstance(rng, np.random.Generator)
        bold = simulate_netsims(sys_cfg, graph, n_sims, steps, rng)
        return {"bold": bold, "edges": np.repeat(graph[None], n_sims, axis=0)}
    integrator = "reference" if cfg.reference else "fast"
    res = simulate(cfg.system, sys_cfg, n_sims, steps, rng, integrator, graph)  # type: ignore[arg-type]
    return {"loc": res.loc, "vel": res.vel, "edges": res.edges}


def _shapes(cfg: DatasetConfig, split: str) -> dict[str, tuple[int, ...]]:
    s, n, t = cfg.n_sims(split), cfg.n_objects, cfg.n_frames(split)
    if cfg.system == "kuramoto":
        return {"feat": (s, n, t, 4), "edges": (s, n, n)}
    if cfg.system == "netsims":
        return {"bold": (s, t, 1, n), "edges": (s, n, n)}
    return {"loc": (s, t, 2, n), "vel": (s, t, 2, n), "edges": (s, n, n)}


def write_dataset(
    cfg: DatasetConfig,
    out_dir: str | os.PathLike[str],
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Simulate every split and write it in the original layout, safely.

    Args:
        cfg: the data set to make.
        out_dir: directory (created if needed). Other data sets in it are left alone; an
            existing set with the same suffix is replaced only once the new one is
            complete.
        progress: called with the number of simulations finished after each chunk.

    Returns:
        Path of the metadata file.
    """
    import nri  # not at the top: nri/__init__ may import the API (test_imports)

    out = Path(out_dir)
    make_out_dir(out)  # one line naming the path when it is a file or not writable
    suffix = cfg.suffix
    started = time.time()

    partials: dict[Path, Path] = {}
    if cfg.reference:  # one legacy stream through train, valid, test, as the original
        legacy = np.random.RandomState(cfg.seed)
    for split_id, split in enumerate(SPLITS):
        names = file_names(cfg.system, suffix, split)
        shapes = _shapes(cfg, split)
        arrays = {}
        for key, name in names.items():
            part = out / (name + ".partial")
            partials[part] = out / name
            arrays[key] = np.lib.format.open_memmap(
                part, mode="w+", dtype=np.float64, shape=shapes[key]
            )
        # Chunks are whole random blocks, so the data do not depend on the chunk size.
        for start, stop in _chunks(cfg, split, BLOCK):
            if cfg.reference:
                rng: np.random.RandomState | np.random.Generator = legacy
            else:
                seq = np.random.SeedSequence(
                    cfg.seed, spawn_key=(split_id, start // BLOCK)
                )
                rng = np.random.Generator(np.random.PCG64(seq))
            chunk = _simulate_chunk(cfg, rng, stop - start, split)
            for key, arr in arrays.items():
                arr[start:stop] = chunk[key]
            if progress is not None:
                progress(stop - start)
        for arr in arrays.values():
            arr.flush()
        arrays.clear()  # closes the memory maps

    meta = {
        "format": "nri-dataset",
        "format_version": 1,
        "generator": f"nri {nri.__version__}",
        "system": cfg.system,
        "suffix": suffix,
        "config": asdict(cfg),
        "system_config": asdict(cfg.system_config()),
        "random_stream": (
            "numpy legacy RandomState, one simulation at a time (original NRI order)"
            if cfg.reference
            else f"PCG64, SeedSequence(seed, spawn_key=(split, block)), {BLOCK} per block"
        ),
        "integrator": "numpy-reference" if cfg.reference else "numba-fast",
        "splits": {
            split: {
                "n_sims": cfg.n_sims(split),
                "n_frames": cfg.n_frames(split),
                "files": file_names(cfg.system, suffix, split),
            }
            for split in SPLITS
        },
        "numpy": np.__version__,
        "python": platform.python_version(),
        "seconds": round(time.time() - started, 3),
    }
    # Commit. Until here an interruption leaves only *.partial files (ignored by readers;
    # an older set of the same name stays intact). From here on the marker says the set
    # is incomplete; the old set's metadata and files go first, so that an interruption
    # can never leave a mix of old and new files that looks whole.
    marker = out / marker_name(suffix)
    marker.write_text("written by nri simulate; removed when the set is complete\n")
    (out / meta_name(suffix)).unlink(missing_ok=True)
    for final in partials.values():
        final.unlink(missing_ok=True)
    for part, final in partials.items():
        os.replace(part, final)
    write_json_atomic(out / meta_name(suffix), meta)
    marker.unlink()
    return out / meta_name(suffix)
