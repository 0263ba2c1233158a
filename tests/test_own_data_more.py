"""Own data as users bring it, more of issue 14 through the command line: a report that
leaves sections out says so on the terminal (item 11), calendar-monthly time stamps
(item 3), true edges for CSV data at import (item 10)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nri.cli import main
from nri.sim.io import DatasetConfig, write_dataset
from test_bad_input import TINY


def _run(argv: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err.strip()


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
    rc, out, err = _run(["report", str(run)], capsys)
    assert rc == 0 and (run / "report.html").is_file(), err
    assert "report: " in out
    lines = err.splitlines()
    assert lines and all(line.startswith("nri: notice: report: ") for line in lines)
    graph = [line for line in lines if "inferred graph" in line]
    assert len(graph) == 1 and "--data" in graph[0] and "gone" in graph[0]
    metrics = [line for line in lines if "metrics table" in line]
    assert len(metrics) == 1 and "nri evaluate" in metrics[0]
    rc, _, err = _run(["report", str(run), "--data", str(moved)], capsys)
    assert rc == 0 and "inferred graph" not in err  # with --data: nothing missing
