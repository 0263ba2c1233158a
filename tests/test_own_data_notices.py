"""The own-data review, second round: what users bring that used to give a plausible
result without a word. Samples shorter than a window left out (a notice naming
them), a truth of counts read as that many edge types (a notice, or --edge-types K),
objects matched by position when one side has no names (a notice), and jittered
time stamps (refused as irregular, with the fix, instead of as a gap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _own_data import named_csv, run_cli
from nri.data.errors import DataError
from nri.data.importers import read_series

# ------------------------------------------------------------ jittered time stamps

JITTER = ["0", "0.98", "2.03", "2.99", "4.01", "5.02", "5.97", "7", "8.04", "8.98"]


def test_jittered_time_stamps_are_refused_as_irregular(tmp_path, capsys):
    """Stamps off a regular grid were refused as a gap ('fill in the missing time
    stamps', --on-gap cut, which then found no stretch to keep): now one line says
    that the steps are irregular, from 0.94 to 1.05, and to resample them."""
    path = named_csv(tmp_path / "j.csv", JITTER)
    for opts in ([], ["--on-gap", "cut"], ["--on-gap", "drop"]):
        rc, _, err = run_cli(["import", str(path), "--out", str(tmp_path / "o"),
                              *opts], capsys)  # fmt: skip
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert "irregular" in err and "from 0.94 to 1.05" in err and "resample" in err
        assert "missing" not in err and "no equally spaced stretch" not in err, err
    table = pd.read_csv(named_csv(tmp_path / "m.csv", [str(t) for t in range(10)]))
    table["time"] = table["time"].astype(str)
    one = table["sample"] == 4
    table.loc[one, "time"] = np.repeat(JITTER, 3)  # one jittered sample
    table.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DataError, match=r"sample '4' are irregular.*--on-gap drop"):
        read_series(tmp_path / "m.csv")
    rc, _, err = run_cli(["import", str(tmp_path / "m.csv"), "--out",
                          str(tmp_path / "d"), "--on-gap", "drop"], capsys)  # fmt: skip
    assert rc == 0 and "dropped 1 sample(s)" in err and "'4'" in err, err
    gap = named_csv(tmp_path / "g.csv", [str(t) for t in range(12) if t != 5])
    with pytest.raises(DataError, match="'4' is followed by '6'") as refused:
        read_series(gap)  # a missing stamp is still a gap
    assert "irregular" not in str(refused.value)
