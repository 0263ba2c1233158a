"""The command line: simulate and data, and one-line errors."""

import numpy as np

from nri.cli import main


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
