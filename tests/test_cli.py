"""The command line: simulate and data, and one-line errors."""

import json

import numpy as np
import pytest

from nri.cli import main
from nri.config import preset_names


def test_simulate_and_data(tmp_path, capsys):
    out = tmp_path / "d"
    rc = main(["simulate", "charged", "--objects", "3", "--train", "5", "--valid", "2",
               "--test", "2", "--length", "1000", "--length-test", "2000",
               "--seed", "4", "--out", str(out), "--quiet"])  # fmt: skip
    assert rc == 0
    assert np.load(out / "loc_test_charged3.npy").shape == (2, 19, 2, 3)
    assert main(["data", str(out)]) == 0
    assert "charged3" in capsys.readouterr().out


def test_bad_length_is_one_line(tmp_path, capsys):
    rc = main(["simulate", "springs", "--train", "2", "--valid", "2", "--test", "2",
               "--length", "1050", "--out", str(tmp_path), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.count("\n") == 0 and "multiple of sample_freq" in err
    assert not list(tmp_path.iterdir())


def test_missing_data_is_one_line(tmp_path, capsys):
    assert main(["data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nri: error:") and "does not exist" in err and "\n" not in err


def _one_line_error(capsys, *fragments):
    err = capsys.readouterr().err.strip()
    assert err.startswith("nri: error:") and "\n" not in err, err
    for fragment in fragments:
        assert fragment in err, err


TINY = ["--set", "train.n_train=64", "--set", "train.n_valid=32", "--set",
        "train.progress_bar=false", "--epochs", "1", "--no-eval"]  # fmt: skip


def test_train_evaluate_and_their_errors(tmp_path, capsys, reference_dir):
    run = tmp_path / "run"
    argv = ["train", "--preset", "springs5", "--preset", "cpu", "--data",
            str(reference_dir), "--out", str(run), *TINY]  # fmt: skip
    assert main(argv) == 0
    assert main(["evaluate", str(run), "--batch-size", "64"]) == 0
    out = capsys.readouterr().out
    assert "edge accuracy (perm.-invariant)" in out and (run / "metrics.json").exists()
    # the run's own data named explicitly: still the run's metrics.json
    assert (
        main(["evaluate", str(run), "--data", str(reference_dir), "--batch-size", "64"])
        == 0
    )
    assert "wrote " + str(run / "metrics.json") in capsys.readouterr().out
    # other data never replace the run's own metrics: they go beside them, named
    own = (run / "metrics.json").read_text()
    other = tmp_path / "other set"
    other.mkdir()
    for f in reference_dir.glob("*_springs5.npy"):
        (other / f.name).symlink_to(f)
    assert main(["evaluate", str(run), "--data", str(other), "--batch-size", "64"]) == 0
    assert (
        "wrote " + str(run / "metrics_other_set_test.json") in capsys.readouterr().out
    )
    assert json.loads((run / "metrics_other_set_test.json").read_text())["data"]
    assert (run / "metrics.json").read_text() == own

    assert main(argv) == 2  # the run exists already
    _one_line_error(capsys, "already holds a run", "--resume")
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    _one_line_error(capsys, "does not exist")
    assert main(["evaluate", str(run), "--split", "valid"]) == 2  # 49 frames < 70
    _one_line_error(capsys, "needs 70")
    assert main(["train", "--preset", "springs5", "--data", str(reference_dir),
                 "--out", str(tmp_path / "r2"), "--set", "model.tau=-1"]) == 2  # fmt: skip
    _one_line_error(capsys, "tau")
    assert main(["train", "--preset", "springs5", "--data", str(reference_dir),
                 "--out", str(tmp_path / "r3"), "--set", "train.epochs=x"]) == 2  # fmt: skip
    _one_line_error(capsys, "train.epochs must be an integer")
    (run / "checkpoints" / "best.ckpt").write_bytes(b"garbage")
    assert main(["evaluate", str(run)]) == 2
    _one_line_error(capsys, "cannot read checkpoint")


def test_features_mismatch_is_one_line(tmp_path, capsys):
    data = tmp_path / "k"
    assert main(["simulate", "kuramoto", "--objects", "3", "--train", "4", "--valid",
                 "2", "--test", "2", "--out", str(data), "--quiet"]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["train", "--preset", "springs5", "--data", str(data), "--set",
                 "data.suffix=kuramoto3", "--out", str(tmp_path / "run"), *TINY]) == 2  # fmt: skip
    _one_line_error(capsys, "3 features per object", "model.n_features=3")


def test_train_help_lists_the_presets(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for name in ("cpu", "reference", "mpm_charged5", "sugar_springs5"):
        assert name in preset_names() and name in text


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    import nri

    out = subprocess.run(
        [sys.executable, "-m", "nri", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert nri.__version__ in out.stdout + out.stderr
