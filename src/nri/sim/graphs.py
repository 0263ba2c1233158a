"""Interaction graphs given to a simulator: ``nri simulate ... --graph SPEC``.

A graph is an ``[N, N]`` float64 0/1 matrix indexed ``[receiver, sender]`` (spec/data.md
section 4: ``A[i, j] = 1`` when object i is driven by object j), with a zero diagonal.
``SPEC`` is either a file (``.npy`` or ``.csv``, an ``[N, N]`` 0/1 matrix in that
indexing; a non-zero diagonal is refused, weights are refused) or a random-graph
generator of networkx, seeded:

==========================================  ===============================================
``er:p=0.2``                                Erdos-Renyi G(N, p), undirected
``er:p=0.2,directed=true``                  Erdos-Renyi, each ordered pair independently
``ba:m=2``                                  Barabasi-Albert, m edges per new node
``ws:k=4,p=0.1``                            Watts-Strogatz ring lattice, k neighbours, p rewiring
``sbm:sizes=5+5+5,p_in=0.5,p_out=0.05``     stochastic block model (sizes sum to N)
==========================================  ===============================================

Undirected generators give a symmetric matrix (every spring acts both ways).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["GENERATORS", "GraphError", "make_graph"]

GENERATORS = ("er", "ba", "ws", "sbm")


class GraphError(ValueError):
    """A bad ``--graph`` specification (one line naming the problem and the fix)."""


def _options(spec: str, text: str, allowed: dict[str, type]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or key not in allowed:
            raise GraphError(
                f"--graph {spec}: unknown setting {pair!r}; expected "
                + ", ".join(f"{k}=..." for k in allowed)
            )
        kind = allowed[key]
        try:
            if kind is bool:
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                out[key] = value.lower() in ("true", "1")
            elif kind is list:
                out[key] = [int(v) for v in value.split("+")]
            else:
                out[key] = kind(value)
        except ValueError:
            raise GraphError(
                f"--graph {spec}: {key}={value!r} is not a valid {kind.__name__}"
            ) from None
    return out


def _need(spec: str, opts: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in opts]
    if missing:
        raise GraphError(
            f"--graph {spec}: give {', '.join(f'{k}=...' for k in missing)}"
        )


def _generate(spec: str, n: int, seed: int) -> np.ndarray:
    import networkx as nx

    name, _, text = spec.partition(":")
    if name == "er":
        o = _options(spec, text, {"p": float, "directed": bool})
        _need(spec, o, "p")
        if not 0 <= o["p"] <= 1:
            raise GraphError(f"--graph {spec}: p must be in [0, 1]")
        g = nx.gnp_random_graph(n, o["p"], seed=seed, directed=o.get("directed", False))
    elif name == "ba":
        o = _options(spec, text, {"m": int})
        _need(spec, o, "m")
        if not 1 <= o["m"] < n:
            raise GraphError(f"--graph {spec}: m must be in 1..{n - 1} for {n} objects")
        g = nx.barabasi_albert_graph(n, o["m"], seed=seed)
    elif name == "ws":
        o = _options(spec, text, {"k": int, "p": float})
        _need(spec, o, "k", "p")
        if not 1 <= o["k"] < n or not 0 <= o["p"] <= 1:
            raise GraphError(f"--graph {spec}: need 1 <= k < {n} and p in [0, 1]")
        g = nx.watts_strogatz_graph(n, o["k"], o["p"], seed=seed)
    elif name == "sbm":
        o = _options(spec, text, {"sizes": list, "p_in": float, "p_out": float})
        _need(spec, o, "sizes", "p_in", "p_out")
        if sum(o["sizes"]) != n or min(o["sizes"]) < 1:
            raise GraphError(
                f"--graph {spec}: the block sizes must be positive and sum to the "
                f"{n} objects (--objects)"
            )
        k = len(o["sizes"])
        probs = [
            [o["p_in"] if a == b else o["p_out"] for b in range(k)] for a in range(k)
        ]
        g = nx.stochastic_block_model(o["sizes"], probs, seed=seed)
    else:
        raise GraphError(
            f"--graph {spec}: not a file and not a generator; use a .npy/.csv [N, N] "
            f"matrix or one of {', '.join(f'{g}:...' for g in GENERATORS)} (docs/structinfer.md)"
        )
    # networkx: adj[u, v] = 1 for an edge u -> v (sender, receiver); transpose to ours.
    adj = nx.to_numpy_array(g, nodelist=range(n), dtype=np.float64, weight=None)
    return np.ascontiguousarray(adj.T)


def _read_file(path: Path, n: int | None) -> np.ndarray:
    try:
        if path.suffix == ".npy":
            adj = np.load(path, allow_pickle=False)
        elif path.suffix == ".csv":
            adj = np.loadtxt(path, delimiter=",", ndmin=2)
        else:
            raise GraphError(f"--graph {path}: expected a .npy or .csv file")
    except (OSError, ValueError) as err:
        if isinstance(err, GraphError):
            raise
        raise GraphError(f"--graph {path}: cannot read it ({err})") from None
    adj = np.asarray(adj, dtype=np.float64)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise GraphError(f"--graph {path} has shape {adj.shape}; expected [N, N]")
    if n is not None and adj.shape[0] != n:
        raise GraphError(
            f"--graph {path} has {adj.shape[0]} nodes but --objects is {n}; drop "
            "--objects or make them agree"
        )
    if not np.isin(adj, (0.0, 1.0)).all():
        raise GraphError(f"--graph {path}: entries must be 0 or 1 (no weights, no NaN)")
    if np.diagonal(adj).any():
        raise GraphError(f"--graph {path}: the diagonal must be 0 (no self-edges)")
    return adj


def make_graph(spec: str, n: int | None, seed: int) -> np.ndarray:
    """The graph of ``spec`` (a file or a generator, see the module docstring).

    Args:
        spec: ``PATH`` or ``NAME:KEY=VALUE,...``.
        n: number of objects (required for generators; checked against a file).
        seed: seed of the generator (the same seed gives the same graph).

    Returns:
        ``[N, N]`` float64 0/1, indexed ``[receiver, sender]``, zero diagonal.

    Raises:
        GraphError: unknown generator or setting, bad value, unreadable file.
    """
    path = Path(spec)
    if path.suffix in (".npy", ".csv") or path.exists():
        if not path.exists():
            raise GraphError(f"--graph {spec}: no such file")
        return _read_file(path, n)
    if n is None:
        raise GraphError(f"--graph {spec}: a generator needs --objects")
    if n < 2:
        raise GraphError(f"--graph {spec}: need at least 2 objects")
    return _generate(spec, n, seed)
