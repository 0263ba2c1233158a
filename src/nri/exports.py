"""Files of ``nri infer`` and ``nri forecast``: NPZ arrays, a JSON and a CSV edge list,
the one graph of a data set (npy, csv, GraphML), a long-format CSV forecast. Every
file is written to a temporary name and renamed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from nri.atomic import atomic_path, write_text_atomic
from nri.infer import EdgeInference, Forecast
from nri.metrics import json_text


def _save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def _csv_text(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_edges(result: EdgeInference, out_dir: str | Path) -> dict[str, Path]:
    """Write ``edges.npz``, ``edges.json`` and ``edges.csv`` into ``out_dir``.

    ``edges.npz``: ``probs [S', E, K]`` (one row per encoder window),
    ``mean_probs [E, K]``, ``send``, ``recv``, ``edge_index [2, E]`` (row 0 senders),
    ``window_sample``/``window_start [S']``, ``true_edges [S', E]`` when known, names.
    ``edges.json``: provenance, the windows, the scores against the true edges (when
    known, with the trivial baselines) and the edge list of the mean over windows.
    ``edges.csv``: the same edge list, one row per directed edge; with a truth also
    ``true_type`` (empty where unknown or the windows disagree) and
    ``true_fraction`` (share of the windows in which the edge interacts).

    Returns:
        name -> path of the files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    k = result.n_edge_types
    arrays = {
        "probs": result.probs,
        "mean_probs": result.mean_probs,
        "send": result.send,
        "recv": result.recv,
        "edge_index": np.stack([result.send, result.recv]),
        "object_names": np.array(result.object_names),
        "sample_names": np.array(result.sample_names),
    }
    if result.window_sample is not None and result.window_start is not None:
        arrays["window_sample"] = result.window_sample
        arrays["window_start"] = result.window_start
    if result.true_edges is not None:
        arrays["true_edges"] = result.true_edges
    paths = {"npz": out / "edges.npz", "json": out / "edges.json"}
    paths["csv"] = out / "edges.csv"
    _save_npz_atomic(paths["npz"], **arrays)
    edges = result.edge_list()
    doc = {
        "run": result.run,
        "data": result.source,
        "n_samples": int(result.probs.shape[0]),
        "n_objects": result.n_objects,
        "n_edge_types": k,
        "no_edge_type": result.no_edge_type,
        "n_windows": result.n_windows,
        "encoder_frames": list(result.frames),
        "window_starts": result.window_starts,
        "object_names": list(result.object_names),
        "edge_order": "nri.graph: receiver-major ordered pairs (receiver i, sender j)",
        "probs": "mean over windows of the edge-type posterior; per window: edges.npz",
        "metrics": result.metrics(),
        "edges": edges,
    }
    write_text_atomic(paths["json"], json_text(doc))  # NaN -> null
    header = ["sender", "receiver", "sender_name", "receiver_name"]
    header += [f"p_type{t}" for t in range(k)] + ["type"]
    with_score = result.no_edge_type is not None
    if with_score:
        header.append("p_interaction")
    with_truth = bool(edges) and "true_type" in edges[0]
    if with_truth:
        header += ["true_type", "true_fraction"]
    rows = []
    for e in edges:
        row = [e["sender"], e["receiver"], e["sender_name"], e["receiver_name"]]
        row += [f"{v:.10g}" for v in e["probs"]] + [e["type"]]
        if with_score:
            row.append(f"{e['p_interaction']:.10g}")
        if with_truth:
            frac = e["true_fraction"]
            row.append("" if e["true_type"] is None else e["true_type"])
            row.append("" if frac is None else f"{frac:.6g}")
        rows.append(row)
    write_text_atomic(paths["csv"], _csv_text(header, rows))
    return paths


def write_forecast(fc: Forecast, out_dir: str | Path) -> dict[str, Path]:
    """Write ``forecast.npz`` and ``forecast.csv``.

    ``forecast.npz``: ``forecast [S, N, K, F]``, ``history [S, N, W, F]``, ``graph``,
    ``probs``, ``first_frame``, names, ``observed`` (the data's own frames from the
    first predicted one, when the data have them) and, for data with a time column,
    ``times [S, K]`` (the data's numbers, or seconds since ``time_origin``),
    ``time_step [S]``, ``time_origin`` (the ISO stamp of time 0, "" for numeric times)
    and ``time_labels [S, K]`` (the times as written in the CSV).
    ``forecast.csv``: long format (sample, time, object, one column per feature); time
    continues the input's axis: ISO stamps for ISO input, numbers for numbers, frame
    indices for data without times.

    Returns:
        name -> path of the files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s, n, k, _ = fc.pred.shape
    labels = fc.time_labels()  # [S, K] str
    arrays = {
        "forecast": fc.pred,
        "history": fc.history,
        "graph": fc.graph,
        "probs": fc.probs,
        "first_frame": np.array(fc.first_frame),
        "feature_names": np.array(fc.feature_names),
        "object_names": np.array(fc.object_names),
        "sample_names": np.array(fc.sample_names),
        "time_labels": labels,
    }
    if fc.times is not None:
        arrays["times"] = fc.times
        arrays["time_origin"] = np.array(fc.time_origin or "")
    if fc.time_step is not None:
        arrays["time_step"] = fc.time_step
    if fc.observed is not None:
        arrays["observed"] = fc.observed
    paths = {"npz": out / "forecast.npz", "csv": out / "forecast.csv"}
    _save_npz_atomic(paths["npz"], **arrays)
    rows = [
        [fc.sample_names[b], labels[b, t], fc.object_names[i]]
        + [f"{v:.8g}" for v in fc.pred[b, i, t]]
        for b in range(s)
        for t in range(k)
        for i in range(n)
    ]
    header = ["sample", "time", "object", *fc.feature_names]
    write_text_atomic(paths["csv"], _csv_text(header, rows))
    return paths


def write_graph(
    result: EdgeInference,
    out_dir: str | Path,
    method: str = "mean",
    edge_type: int | None = None,
) -> dict[str, Path]:
    """Write the one graph of a data set whose samples share it: the ``method`` pool
    of every window's posterior (:meth:`EdgeInference.graph_matrix`).

    ``graph.npy``: ``[N, N]`` float64 interaction probabilities indexed
    ``[receiver, sender]``, diagonal 0. ``graph.csv``: the same matrix with the
    object names (rows receivers, columns senders). ``graph.graphml``: a networkx
    ``DiGraph`` sender -> receiver with ``weight`` (the probability) and ``type``
    on every edge (:func:`nri.infer_export.to_networkx`), for Gephi, Cytoscape or
    ``networkx.read_graphml``.

    Returns:
        name -> path of the files written.
    """
    import networkx as nx

    from nri.infer_export import to_networkx

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    mat = result.graph_matrix(method, edge_type)  # [N, N]
    paths = {n: out / f"graph.{n}" for n in ("npy", "csv", "graphml")}
    with atomic_path(paths["npy"]) as tmp, open(tmp, "wb") as fh:
        np.save(fh, mat)
    names = list(result.object_names)
    header = ["receiver \\ sender", *names]
    rows = [[names[i], *(f"{v:.10g}" for v in mat[i])] for i in range(len(names))]
    write_text_atomic(paths["csv"], _csv_text(header, rows))
    g = to_networkx(result, None, None, edge_type, method)
    for _, _, attrs in g.edges(data=True):
        attrs.pop("probs")  # GraphML has no list attributes; weight and type stay
    with atomic_path(paths["graphml"]) as tmp, open(tmp, "wb") as fh:
        nx.write_graphml(g, fh)
    return paths
