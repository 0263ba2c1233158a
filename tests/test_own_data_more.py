"""Own data as users bring it, more of issue 14 through the command line: a report that
leaves sections out says so on the terminal (item 11), calendar-monthly time stamps
(item 3), true edges for CSV data at import (item 10). The review of the own-data path
that followed is in test_own_data_split.py (windows and pieces split by recording) and
test_own_data_checks.py (time zones, an identity truth, transposed arrays, numeric
object ids)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _own_data import named_csv, run_cli
from nri.cli import main
from nri.sim.io import DatasetConfig, write_dataset
from test_bad_input import TINY


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, Path]:  # noqa: ANN001
    """A springs3 set and a one-epoch run on it without metrics.json."""
    root = tmp_path_factory.mktemp("more")
    data = root / "data"
    write_dataset(DatasetConfig(n_objects=3, n_train=8, n_valid=4, n_test=4), data)
    run = root / "run"
    argv = ["train", "--preset", "springs5", "--set", "data.suffix=springs3",
            "--data", str(data), "--out", str(run), *TINY]  # fmt: skip
    assert main(argv) == 0
    return data, run


def test_report_says_on_the_terminal_which_sections_it_left_out(
    tiny_run, tmp_path, capsys
):
    data, run = tiny_run
    run = Path(shutil.copytree(run, tmp_path / "run"))
    moved = tmp_path / "moved"
    shutil.copytree(data, moved)
    cfg = (run / "config.yaml").read_text().replace(str(data), str(tmp_path / "gone"))
    (run / "config.yaml").write_text(cfg)  # the run's data were moved away
    rc, out, err = run_cli(["report", str(run)], capsys)
    assert rc == 0 and (run / "report.html").is_file(), err
    assert "report: " in out
    lines = err.splitlines()
    assert lines and all(line.startswith("nri: notice: report: ") for line in lines)
    graph = [line for line in lines if "inferred graph" in line]
    assert len(graph) == 1 and "--data" in graph[0] and "gone" in graph[0]
    metrics = [line for line in lines if "metrics table" in line]
    assert len(metrics) == 1 and "nri evaluate" in metrics[0]
    rc, _, err = run_cli(["report", str(run), "--data", str(moved)], capsys)
    assert rc == 0 and "inferred graph" not in err  # with --data: nothing missing


def test_import_edges_for_a_csv_matched_by_name(tmp_path, capsys):
    data = named_csv(tmp_path / "d.csv", [str(t) for t in range(10)])
    adj = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])  # [receiver, sender]
    names = ["ann", "bob", "cy"]
    order = [2, 0, 1]  # rows and columns in another order than the data's objects
    frame = pd.DataFrame(adj[order][:, order], index=[names[i] for i in order],
                         columns=[names[i] for i in order])  # fmt: skip
    frame.to_csv(tmp_path / "truth.csv")  # pandas' index column, header ",cy,ann,bob"
    np.save(tmp_path / "truth.npy", adj)
    pd.DataFrame(adj).to_csv(tmp_path / "plain.csv")  # names 0..2: positions
    for truth in ("truth.csv", "truth.npy", "plain.csv"):
        out = tmp_path / truth.replace(".", "_")
        rc, stdout, err = run_cli(["import", str(data), "--out", str(out), "--edges",
                                str(tmp_path / truth)], capsys)  # fmt: skip
        assert rc == 0, err
        assert "label-1 fraction" in stdout
        # numbered rows and columns are positions: said once, with the order taken
        said = (
            "numbers its objects 0..2: taken as the data's objects in the data's order"
        )
        assert err.count(said) == (truth == "plain.csv"), err
        stored = np.load(out / "edges_test_d.npy")
        assert (stored == adj).all(), truth
        meta = json.loads((out / "meta_d.json").read_text())
        assert meta["has_edges"] and meta["import"]["edges"].endswith(truth)


def test_monthly_stamps_are_refused_with_the_step_count_hint(tmp_path, capsys):
    months = [f"2024-{m:02d}-01" for m in range(1, 13)]
    rc, _, err = run_cli(["import", str(named_csv(tmp_path / "m.csv", months)),
                       "--out", str(tmp_path / "out")], capsys)  # fmt: skip
    assert rc == 2 and err.startswith("nri: error: ") and len(err.splitlines()) == 1
    assert "calendar steps" in err and "month number" in err and "gap" not in err
    assert not (tmp_path / "out").exists()
    numbered = named_csv(tmp_path / "n.csv", [str(m) for m in range(12)])
    rc, _, err = run_cli(
        ["import", str(numbered), "--out", str(tmp_path / "out")], capsys
    )
    assert rc == 0, err


def test_edges_csv_of_a_smaller_dataframe_is_refused_not_read_as_labels(tmp_path):
    """pandas' to_csv() of an [N-1, N-1] matrix is N rows of N cells (an empty corner,
    a header, an index column): its names must not be read as labels of [N, N]."""
    from nri.data.edge_file import read_edge_file
    from nri.data.errors import DataError
    from nri.errors import DataNotice

    objects = ("a", "b", "c", "d")
    adj = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])  # 3 objects, the data have 4
    pd.DataFrame(adj).to_csv(tmp_path / "numbered.csv")  # header ,0,1,2
    pd.DataFrame(adj, index=list("abc"), columns=list("abc")).to_csv(
        tmp_path / "named.csv"
    )
    for name in ("numbered.csv", "named.csv"):
        with pytest.raises(DataError, match=r"a \[3, 3\] matrix; expected \[4, 4\]"):
            read_edge_file(tmp_path / name, objects)
    # a plain [4, 4] matrix whose diagonal is left empty is still read
    plain = tmp_path / "plain.csv"
    plain.write_text(",0,1,2\n0,,1,0\n1,1,,0\n2,0,0,\n")
    with pytest.warns(DataNotice, match="read as 3 edge types"):
        labels = read_edge_file(plain, objects)
    assert labels.tolist() == [
        [0, 0, 1, 2], [0, 0, 1, 0], [1, 1, 0, 0], [2, 0, 0, 0]
    ]  # fmt: skip
